//! The full training configuration, saved as `config.json` at the start of every run and
//! accepted back with `--config` to rerun it.

use std::fmt;
use std::str::FromStr;

use burn::config::Config;
use model::MnistCnnConfig;
use serde::{Deserialize, Serialize};

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
    /// Optimiser.
    #[config(default = "OptimizerKind::Adam")]
    pub optimizer: OptimizerKind,
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
}

/// The optimiser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// Adam (β = 0.9, 0.999).
    Adam,
    /// AdamW, Adam with decoupled weight decay (1e-4).
    Adamw,
    /// Stochastic gradient descent with momentum 0.9.
    Sgd,
}

/// How the learning rate changes over the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
        Ok(())
    }
}

macro_rules! named_enum {
    ($ty:ident, $kind:literal, $($variant:ident => $name:literal),+) => {
        impl FromStr for $ty {
            type Err = ConfigError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Self::$variant),)+
                    _ => Err(ConfigError::Invalid(format!(
                        concat!("unknown ", $kind, " '{}' (expected one of: ", $($name, " "),+, ")"),
                        s
                    ))),
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $(Self::$variant => $name,)+ })
            }
        }
    };
}

named_enum!(OptimizerKind, "optimizer", Adam => "adam", Adamw => "adamw", Sgd => "sgd");
named_enum!(LrSchedule, "lr schedule", Constant => "constant", Cosine => "cosine");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let config = TrainingConfig::new(MnistCnnConfig::new().with_hidden_units(64))
            .with_epochs(3)
            .with_optimizer(OptimizerKind::Sgd)
            .with_lr_schedule(LrSchedule::Constant)
            .with_early_stopping(Some(2));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        config.save(&path).unwrap();
        assert_eq!(TrainingConfig::load(&path).unwrap(), config);
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

    #[test]
    fn names_parse() {
        assert_eq!(
            "adamw".parse::<OptimizerKind>().unwrap(),
            OptimizerKind::Adamw
        );
        assert_eq!("cosine".parse::<LrSchedule>().unwrap(), LrSchedule::Cosine);
        let err = "rmsprop".parse::<OptimizerKind>().unwrap_err().to_string();
        assert!(err.contains("unknown optimizer 'rmsprop'"), "{err}");
    }
}
