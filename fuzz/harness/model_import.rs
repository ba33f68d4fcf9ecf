//! The harness of two targets, `pytorch_load` and `safetensors_load`:
//! `infer::Predictor::load` on arbitrary bytes saved as a model file of one format (`.pt`,
//! PyTorch's `torch.save` ZIP or an older pickle; `.safetensors`): an error, or a model that
//! predicts a probability distribution. Never a panic, an abort, or an allocation past the
//! fuzzer's limit (the pickle bombs of issue 25 are such allocations without the bounds of
//! `infer::torch_zip`).

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::tensor::Device;
use infer::Predictor;

/// The network of the `.pt` seeds, in the `config.json` written beside the file (a `.pt`
/// carries no configuration): small enough for its seeds to load whole in a few KB. A
/// `.safetensors` file carries its own in its metadata, else is the lecture's network.
const TINY_CONFIG: &str = r#"{"conv1_filters": 2, "conv2_filters": 2, "kernel_size": 3, "hidden_units": 4, "dropout": 0.5, "activation": "relu", "pooling": "max", "padding": "valid"}"#;

/// A directory of this process for the model files of `extension` (the loader reads a path).
fn dir(extension: &str) -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    let root = ROOT.get_or_init(|| {
        std::env::temp_dir().join(format!("mnist-cnn-fuzz-{}", std::process::id()))
    });
    let dir = root.join(extension);
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        if extension == "pt" {
            std::fs::write(dir.join("config.json"), TINY_CONFIG).expect("a writable config");
        }
    }
    dir
}

/// The `pytorch_load` target: `data` as `model.pt`.
pub fn pytorch(data: &[u8]) {
    load(data, "pt");
}

/// The `safetensors_load` target: `data` as `model.safetensors`.
pub fn safetensors(data: &[u8]) {
    load(data, "safetensors");
}

/// Writes `data` as `model.<extension>` and loads it.
fn load(data: &[u8], extension: &str) {
    let path = dir(extension).join(format!("model.{extension}"));
    std::fs::write(&path, data).expect("a writable scratch file");
    if let Ok(predictor) = Predictor::load(&path, &Device::flex()) {
        let prediction = predictor.predict(&[0u8; model::IMAGE_PIXELS]);
        let sum: f32 = prediction.probabilities.iter().sum();
        assert!(
            prediction.label <= 9 && (sum - 1.0).abs() < 1e-3,
            "{prediction:?}"
        );
    }
}
