//! What a finished run leaves for inference and for people: `model/` (the record, the model's
//! config, the metrics) and the run's `metrics.json`.

use burn::module::Module;
use model::{MnistCnn, MnistCnnConfig, NUM_CLASSES};
use serde::{Deserialize, Serialize};

use crate::atomic_write::{self, Replace};
use crate::devices::names::Backend;
use crate::error::{ArtifactError, io};
use crate::run::dir::RunDir;

/// What `metrics.json` holds. Floats that are not finite are written as `"NaN"` / `"inf"` (see
/// `logging/float_json.rs`) so that the file always reads back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunMetrics {
    /// Accuracy on the 10,000 test images (or the test set given), in [0, 1].
    #[serde(with = "crate::logging::float_json")]
    pub test_accuracy: f64,
    /// Accuracy per true digit, in [0, 1].
    #[serde(with = "crate::logging::float_json::array")]
    pub per_class_accuracy: [f64; NUM_CLASSES],
    /// Test images evaluated.
    pub test_images: u32,
    /// Epochs trained (including those before a resume).
    pub epochs: usize,
    /// The epoch whose weights were exported: lowest validation loss.
    pub selected_epoch: usize,
    /// Validation accuracy of the exported weights, in percent.
    #[serde(with = "crate::logging::float_json")]
    pub valid_accuracy: f64,
    /// Wall time of this invocation's training, seconds.
    #[serde(with = "crate::logging::float_json")]
    pub train_seconds: f64,
    /// Mean seconds per epoch of this invocation.
    #[serde(with = "crate::logging::float_json")]
    pub seconds_per_epoch: f64,
    /// The backend that trained (`flex`, `ndarray`, `wgpu` in the JSON).
    pub backend: Backend,
    /// The device, as Burn prints it.
    pub device: String,
    /// Burn version.
    pub burn_version: String,
}

/// Writes `model/` (record, model config, metrics) and the run's `metrics.json` into `dir`, each
/// file atomically (Burn's record writer is atomic itself; the JSON goes through
/// [`crate::atomic_write`]): a kill leaves each file whole, old or new.
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
    atomic_write::write_json(&config, model, Replace::Yes).map_err(io(&config))?;
    for path in [model_dir.join("metrics.json"), dir.metrics()] {
        atomic_write::write_json(&path, metrics, Replace::Yes).map_err(io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_with_nan_read_back() {
        let metrics = RunMetrics {
            test_accuracy: 0.5,
            per_class_accuracy: [f64::NAN; NUM_CLASSES],
            test_images: 10,
            epochs: 2,
            selected_epoch: 1,
            valid_accuracy: f64::NAN,
            train_seconds: 1.0,
            seconds_per_epoch: f64::INFINITY,
            backend: Backend::Flex,
            device: "Cpu".into(),
            burn_version: "0.22.1".into(),
        };
        let json = serde_json::to_string(&metrics).unwrap();
        assert!(!json.contains("null"), "{json}");
        let back: RunMetrics = serde_json::from_str(&json).unwrap();
        assert!(back.valid_accuracy.is_nan() && back.per_class_accuracy[3].is_nan());
        assert_eq!(back.seconds_per_epoch, f64::INFINITY);
        assert_eq!(back.epochs, 2);
    }
}
