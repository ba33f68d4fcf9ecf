//! `infer::Predictor::load` on arbitrary bytes as a `.safetensors` file (see
//! `model_import.rs`).

#[path = "model_import.rs"]
mod model_import;

/// Loads `data` as `model.safetensors`.
pub fn run(data: &[u8]) {
    model_import::load(data, "safetensors");
}
