//! The classic MNIST convolutional network from the CNN lecture, as a Burn 0.22 module.
//!
//! ```text
//! input 28x28x1
//!   conv1 32@3x3, stride 1, valid  -> floor((28-3)/1)+1 = 26  -> 26x26x32   (32*(3*3*1)+32   =     320)
//!   activation (ReLU or leaky ReLU)
//!   max-pool 2x2, stride 2         -> floor((26-2)/2)+1 = 13  -> 13x13x32
//!   conv2 64@3x3, stride 1, valid  -> floor((13-3)/1)+1 = 11  -> 11x11x64   (64*(3*3*32)+64  =  18,496)
//!   activation
//!   max-pool 2x2, stride 2         -> floor((11-2)/2)+1 = 5   -> 5x5x64
//!   flatten                        -> 5*5*64 = 1600
//!   dense 512 + activation + dropout                           (1600*512+512   = 819,712)
//!   dense 10 (logits; softmax gives probabilities)             (512*10+10      =   5,130)
//!                                                               total            843,658
//! ```
//!
//! This crate holds only the module and its configuration: no data loading, no training. It also
//! describes the network for people, stage by stage ([`architecture`]: shapes, formulas,
//! parameters; [`mod@stage_values`]: one image's stages as gray levels; [`occlusion`]: which pixels
//! drove its answer), which the web page reads from the server and from the WebAssembly build
//! alike. The
//! backend is chosen at runtime through the [`burn::tensor::Device`] passed to
//! [`MnistCnnConfig::init`]. The feature `flex` (enabled by `infer`'s `flex` feature)
//! compiles in Burn's flex backend and the project's own ops on that device ([`kernels`]: a
//! convolution and a fused pool + activation); `autodiff` (enabled by `train`'s `flex`
//! feature) adds their backward passes, and with them Burn's autodiff, which `infer` and `serve`
//! do not carry. Without either (the default) the crate depends on `burn` without any backend
//! and every device runs Burn's standard ops.
//!
//! Layout: `config` ([`MnistCnnConfig`] and its validation), `network` ([`MnistCnn`]: the
//! layers, the forward pass and its stages), `input` (what a digit is and how it becomes a
//! tensor), [`shape`] (the output-size arithmetic), `summary` (the Keras-style layer table),
//! [`architecture`] and [`mod@stage_values`] (the stages described and shown, for people),
//! [`occlusion`] ("why this digit"), [`kernels`] (the project's own flex ops), [`mod@quote`] (user
//! input in error messages, cut to a readable length).

pub mod architecture;
mod config;
mod input;
pub mod kernels;
mod network;
pub mod occlusion;
pub mod quote;
pub mod shape;
pub mod stage_values;
mod summary;

pub use architecture::{ModelInfo, STAGE_NAMES, StageInfo};
pub use config::{Activation, ActivationKind, InvalidConfig, MnistCnnConfig, Padding, Pooling};
pub use input::{
    IMAGE_PIXELS, IMAGE_SIZE, MEAN, NUM_CLASSES, Pixels, STD, images_to_tensor, normalize,
};
pub use network::{MnistCnn, Pool, Stages};
pub use occlusion::{Occlusion, occlusion_map, occlusion_map_for};
pub use quote::{MAX_QUOTED_CHARS, quote, quote_at, quote_path};
pub use stage_values::{StageValues, stage_values};
pub use summary::{LayerSummary, ParamCounts, Summary};
