//! Inference for the `mnist-cnn` project: load a trained record, preprocess images the way
//! MNIST was made, predict digits, evaluate. Depends on neither burn-train nor autodiff.
//!
//! ```no_run
//! use burn::tensor::Device;
//! let predictor = infer::Predictor::load("artifacts/mnist-cnn", &Device::flex())?;
//! let image = infer::open_image("digit.png".as_ref())?;
//! let prediction = predictor.predict_image(&image)?;
//! println!("{} ({:.1}%)", prediction.label, 100.0 * prediction.probabilities[prediction.label as usize]);
//! # Ok::<(), infer::InferError>(())
//! ```

pub mod device;
mod error;
pub mod evaluate;
pub mod folder;
pub mod predictor;
pub mod preprocess;
pub mod report;

pub use device::{Workload, default_device};
pub use error::InferError;
pub use evaluate::{Confusion, evaluate, predict_set};
pub use predictor::{Prediction, Predictor, open_image};
pub use preprocess::preprocess;
