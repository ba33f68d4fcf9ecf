//! The lecture's network in the browser: the draw-a-digit page computed client-side.
//!
//! Compiled to WebAssembly, this crate is the project's own Rust: the network and its stage
//! description from `model`, the MNIST-style framing from `preprocess`, Burn's flex device, and
//! the weights of one model directory compiled in (`build.rs`: the shipped one unless
//! `MNIST_CNN_WEB_MODEL` names another). `build-site.sh` turns it into a static folder
//! (`index.html`, the JavaScript glue, one `.wasm`) that any static HTTP server can serve.
//!
//! Layout: [`engine`] (the model, framing and forward pass; native too, where the tests compare
//! it with `infer::Predictor`), `bindings` (the JavaScript API, wasm32 only).

#[cfg(target_arch = "wasm32")]
mod bindings;
pub mod engine;

pub use engine::{Answer, Engine, WebError};

/// The `config.json` of the model compiled in.
pub const EMBEDDED_CONFIG: &str =
    include_str!(concat!(env!("MNIST_CNN_WEB_MODEL_DIR"), "/config.json"));
/// The `model.bpk` of the model compiled in.
pub const EMBEDDED_RECORD: &[u8] =
    include_bytes!(concat!(env!("MNIST_CNN_WEB_MODEL_DIR"), "/model.bpk"));
