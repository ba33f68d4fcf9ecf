//! Inference for the `mnist-cnn` project: load a trained record, preprocess images the way
//! MNIST was made, predict digits, evaluate. Depends on neither burn-train nor autodiff.

pub mod evaluate;

pub use evaluate::{Confusion, evaluate, predict_set};
