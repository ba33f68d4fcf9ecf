//! The full training configuration, saved as `config.json` at the start of every run and
//! accepted back with `--config` to rerun it.

use burn::config::Config;
use clap::ValueEnum;
use model::MnistCnnConfig;
use serde::{Deserialize, Serialize};

use crate::optimizer::OptimizerConfig;

/// Everything that determines a training run (apart from the data and the backend).
#[derive(Config, Debug, PartialEq)]
pub struct TrainingConfig {
    /// The network.
    pub model: MnistCnnConfig,
    /// Passes over the training split.
    #[config(default = 12)]
    pub epochs: usize,
    /// Images per optimiser step.
    #[config(default = 64)]
    pub batch_size: usize,
    /// Initial learning rate.
    #[config(default = 1e-3)]
    pub lr: f64,
    /// The optimiser and its hyper-parameters.
    #[config(default = "OptimizerConfig::default()")]
    pub optimizer: OptimizerConfig,
    /// Learning-rate schedule over the whole run.
    #[config(default = "LrSchedule::Cosine")]
    pub lr_schedule: LrSchedule,
    /// Seed of weight initialisation, shuffling, the validation split and augmentation.
    #[config(default = 42)]
    pub seed: u64,
    /// Data-loader worker threads.
    #[config(default = 1)]
    pub workers: usize,
    /// Training images held out for validation (model selection, early stopping).
    #[config(default = 5000)]
    pub valid_size: usize,
    /// Random shifts (±2 px) and rotations (±10°) of training images.
    #[config(default = false)]
    pub augment: bool,
    /// Stop when the validation loss has not improved for this many epochs.
    pub early_stopping: Option<usize>,
    /// Start from these weights instead of a random initialisation: a model directory, or a
    /// `.bpk`, `.safetensors` or PyTorch `.pt` file (see [`crate::init`]). Part of the
    /// configuration so that `config.json` says what a run started from.
    pub init_from: Option<std::path::PathBuf>,
    /// The split over several devices (`--devices`), absent on one device: per-device batch,
    /// loss scale and effective learning rate (see [`crate::multi_device`]).
    pub multi_device: Option<crate::multi_device::MultiDeviceConfig>,
}

/// How the learning rate changes over the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// The same rate throughout.
    Constant,
    /// Cosine annealing from the initial rate to 0 over all steps of the run.
    Cosine,
}

/// A configuration that cannot be trained.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A training parameter is out of range.
    #[error("invalid training configuration: {0}")]
    Invalid(String),
    /// The model part is invalid.
    #[error(transparent)]
    Model(#[from] model::InvalidConfig),
}

impl TrainingConfig {
    /// Rejects values that would fail (or silently do nothing) later, before any work starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.model.validate()?;
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        if self.epochs == 0 {
            return invalid("epochs must be at least 1".into());
        }
        if self.batch_size == 0 {
            return invalid("batch size must be at least 1".into());
        }
        if self.workers == 0 {
            return invalid("workers must be at least 1".into());
        }
        if self.valid_size == 0 {
            return invalid(
                "valid size must be at least 1 (the validation split selects the model)".into(),
            );
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return invalid(format!(
                "learning rate must be a positive number, got {}",
                self.lr
            ));
        }
        if self.lr_schedule == LrSchedule::Cosine && self.lr > 1.0 {
            return invalid(format!(
                "the cosine schedule takes a learning rate of at most 1, got {} (use --lr-schedule constant)",
                self.lr
            ));
        }
        if self.early_stopping == Some(0) {
            return invalid("early-stopping patience must be at least 1 epoch".into());
        }
        if let Some(multi) = &self.multi_device {
            multi.validate(self)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::OptimizerKind;

    #[test]
    fn json_round_trip() {
        let config = TrainingConfig::new(MnistCnnConfig::new().with_hidden_units(64))
            .with_epochs(3)
            .with_optimizer(OptimizerConfig::new(OptimizerKind::Sgd))
            .with_lr_schedule(LrSchedule::Constant)
            .with_early_stopping(Some(2));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        config.save(&path).unwrap();
        assert_eq!(TrainingConfig::load(&path).unwrap(), config);
        let json = std::fs::read_to_string(&path).unwrap();
        assert!(json.contains("\"dampening\""), "{json}");
    }

    #[test]
    fn bad_values_are_rejected() {
        let ok = TrainingConfig::new(MnistCnnConfig::new());
        assert!(ok.validate().is_ok());
        for bad in [
            ok.clone().with_batch_size(0),
            ok.clone().with_epochs(0),
            ok.clone().with_lr(-1.0),
            ok.clone().with_lr(f64::NAN),
            ok.clone().with_lr(5.0),
            ok.clone().with_workers(0),
            ok.clone().with_valid_size(0),
            ok.clone().with_early_stopping(Some(0)),
            TrainingConfig::new(MnistCnnConfig::new().with_dropout(2.0)),
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        assert!(
            ok.with_lr(5.0)
                .with_lr_schedule(LrSchedule::Constant)
                .validate()
                .is_ok()
        );
    }
}
