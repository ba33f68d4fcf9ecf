//! What a finished run leaves for inference and for people: `model/` (the record, the model's
//! config, the metrics) and the run's `metrics.json`.

use burn::config::Config;
use burn::module::Module;
use model::{MnistCnn, MnistCnnConfig, NUM_CLASSES};
use serde::{Deserialize, Serialize};

use crate::device::Backend;
use crate::run_dir::{ArtifactError, RunDir, io};

/// What `metrics.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunMetrics {
    /// Accuracy on the 10,000 test images (or the test set given), in [0, 1].
    pub test_accuracy: f64,
    /// Accuracy per true digit, in [0, 1].
    pub per_class_accuracy: [f64; NUM_CLASSES],
    /// Test images evaluated.
    pub test_images: u32,
    /// Epochs trained (including those before a resume).
    pub epochs: usize,
    /// The epoch whose weights were exported: lowest validation loss.
    pub selected_epoch: usize,
    /// Validation accuracy of the exported weights, in percent.
    pub valid_accuracy: f64,
    /// Wall time of this invocation's training, seconds.
    pub train_seconds: f64,
    /// Mean seconds per epoch of this invocation.
    pub seconds_per_epoch: f64,
    /// The backend that trained (`flex`, `ndarray`, `wgpu` in the JSON).
    pub backend: Backend,
    /// The device, as Burn prints it.
    pub device: String,
    /// Burn version.
    pub burn_version: String,
}

/// Writes `model/` (record, model config, metrics) and the run's `metrics.json` into `dir`.
pub fn export(
    dir: &RunDir,
    net: MnistCnn,
    model: &MnistCnnConfig,
    metrics: &RunMetrics,
) -> Result<(), ArtifactError> {
    let model_dir = dir.model_dir();
    std::fs::create_dir_all(&model_dir).map_err(io(&model_dir))?;
    let record = model_dir.join("model.bpk");
    net.into_record()
        .save(&record)
        .map_err(|source| ArtifactError::Record {
            path: record.clone(),
            source,
        })?;
    let config = model_dir.join("config.json");
    model.save(&config).map_err(io(&config))?;
    let json = serde_json::to_string_pretty(metrics).expect("plain numbers serialise");
    for path in [dir.metrics(), model_dir.join("metrics.json")] {
        std::fs::write(&path, &json).map_err(io(&path))?;
    }
    Ok(())
}
