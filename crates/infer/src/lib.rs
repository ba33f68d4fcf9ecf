//! Inference for the `mnist-cnn` project: load a trained model (Burn's record, safetensors /
//! PyTorch weights in PyTorch's layout, or ONNX: [`load_model`]), preprocess images the way MNIST was
//! made, predict digits, evaluate, export (ONNX, safetensors). Depends on neither burn-train nor
//! autodiff.
//!
//! ```no_run
//! use burn::tensor::Device;
//! let predictor = infer::Predictor::shipped(&Device::flex())?;
//! let image = infer::open_image("digit.png".as_ref())?;
//! let prediction = predictor.predict_image(&image)?;
//! println!("{} ({:.1}%)", prediction.label, 100.0 * prediction.probabilities[prediction.label as usize]);
//! # Ok::<(), infer::InferError>(())
//! ```
//!
//! Features: `image` (default) adds everything that decodes or draws pictures — [`preprocess()`],
//! [`open_image`] and [`decode_image`] (bounded: see [`image_decode`]), [`Predictor::predict_image`],
//! labelled folders, the report (and the robustness plot), the occlusion heat map ([`explain`]) and
//! the `infer` program; without it the crate predicts and
//! evaluates 28x28 pixels with no image codecs in the build. `shipped-model` (default) compiles
//! the committed model into the library ([`Predictor::shipped`], [`ModelSource::Shipped`]).
//! `export` (default) adds [`export`]: the model as ONNX (through `burn-onnx`) and as
//! safetensors, and reading ONNX files ([`onnx_import`], with the same protobuf types); the
//! `infer` program needs it.
//!
//! Layout: loading — `model_source` (which model a program runs), [`model_file`] (which files
//! hold a model, read with a size bound), [`import`] and [`torch_zip`] (safetensors and PyTorch
//! files), `onnx_import` (ONNX files), `finite` (refusing NaN weights), [`predictor`] ([`Predictor`]: load, predict,
//! explain); pictures — [`image_decode`] (bounded PNG/JPEG decoding), [`mod@preprocess`] (framing like
//! MNIST), `image_file`, [`folder`] (labelled folders); results — [`mod@evaluate`] (accuracy and the
//! confusion matrix), [`mod@robustness`], [`report`] and [`robustness_plot`] (the PNGs of `eval
//! --report`), [`explain`] (the occlusion heat map as a PNG); out — [`export`] (ONNX,
//! safetensors) and [`metadata`]; [`device`] (the default CPU backend). One error type,
//! [`InferError`].

mod bounded_file;
pub mod device;
mod error;
pub mod evaluate;
#[cfg(feature = "image")]
pub mod explain;
#[cfg(feature = "export")]
pub mod export;
mod finite;
#[cfg(feature = "image")]
pub mod folder;
#[cfg(feature = "image")]
pub mod image_decode;
#[cfg(feature = "image")]
mod image_file;
pub mod import;
pub mod metadata;
pub mod model_file;
mod model_source;
#[cfg(feature = "export")]
pub mod onnx_import;
pub mod predictor;
#[cfg(feature = "image")]
pub mod preprocess;
#[cfg(feature = "image")]
pub mod report;
pub mod robustness;
#[cfg(feature = "image")]
pub mod robustness_plot;
pub mod torch_zip;

pub use device::default_device;
pub use error::InferError;
pub use evaluate::{Confusion, evaluate, predict_set};
#[cfg(feature = "image")]
pub use image_decode::decode_image;
#[cfg(feature = "image")]
pub use image_file::{open_image, save_image};
pub use import::ConfigOrigin;
pub use metadata::BURN_VERSION;
pub use model_file::{LoadedModel, ModelFile, load_model, load_model_noted};
pub use model_source::ModelSource;
pub use predictor::{Prediction, Predictor};
#[cfg(feature = "image")]
pub use preprocess::preprocess;
pub use robustness::{Robustness, robustness};
