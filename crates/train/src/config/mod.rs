//! The full training configuration, saved as `config.json` at the start of every run and
//! accepted back with `--config` to rerun it.

pub(crate) mod file;
pub(crate) mod multi_device;
pub(crate) mod optimizer;

use burn::config::Config;
use clap::ValueEnum;
use model::MnistCnnConfig;
use serde::{Deserialize, Serialize};

use crate::config::multi_device::MultiDeviceConfig;
use crate::config::optimizer::OptimizerConfig;
use crate::error::ConfigError;
use crate::limits::{
    MAX_BATCH_ACTIVATIONS, MAX_BATCH_SIZE, MAX_EPOCHS, MAX_PARAMS, MAX_VALID_SIZE, MAX_WORKERS,
};

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
    /// Epochs (fractional allowed) of linear warm-up from `lr / 100` to `lr` before the
    /// schedule, which then runs over the remaining steps (see `learner/schedule.rs`). Absent in
    /// the configurations of runs made before the option: no warm-up.
    pub warmup_epochs: Option<f64>,
    /// Seed of weight initialisation, shuffling, the validation split and augmentation.
    #[config(default = 42)]
    pub seed: u64,
    /// Data-loader worker threads; 0 builds each batch on the training thread when the step
    /// asks for it (Burn's `BatchDataLoader`: no thread competing with the step's).
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
    /// `.bpk`, `.safetensors`, PyTorch `.pt` or `.onnx` file (see `run/init_from.rs`). Part of the
    /// configuration so that `config.json` says what a run started from.
    pub init_from: Option<std::path::PathBuf>,
    /// The split over several devices (`--devices`), absent on one device: per-device batch,
    /// loss scale and effective learning rate (see `config/multi_device.rs`).
    pub multi_device: Option<MultiDeviceConfig>,
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

impl TrainingConfig {
    /// Rejects values that would fail (or silently do nothing) later, before any work starts:
    /// the network first (its own sizes), then the run's bounds, then the memory the network
    /// would take, computed without building it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: String| Err(ConfigError::Invalid(msg));
        // The model's own bounds first (kernel, filters, units, parameters): no shape
        // arithmetic below meets a kernel near `usize::MAX`.
        self.model.validate()?;
        for (name, value, max) in [
            ("epochs", self.epochs, MAX_EPOCHS),
            ("batch size", self.batch_size, MAX_BATCH_SIZE),
            ("workers", self.workers, MAX_WORKERS),
            ("valid size", self.valid_size, MAX_VALID_SIZE),
            (
                "early-stopping patience",
                self.early_stopping.unwrap_or(1),
                MAX_EPOCHS,
            ),
        ] {
            if value > max {
                return invalid(format!("{name} must be at most {max}, got {value}"));
            }
        }
        if self.epochs == 0 {
            return invalid("epochs must be at least 1".into());
        }
        if self.batch_size == 0 {
            return invalid("batch size must be at least 1".into());
        }
        if self.valid_size == 0 {
            return invalid(
                "valid size must be at least 1 (the validation split selects the model)".into(),
            );
        }
        let size = NetworkSize::of(&self.model);
        match size.params {
            Some(params) if params <= MAX_PARAMS => {}
            _ => {
                return invalid(format!(
                    "the network would have {} trainable parameters; training takes at most {MAX_PARAMS} (check filters, kernel_size and hidden_units)",
                    size.params.map_or("over 2^64".into(), |p| p.to_string())
                ));
            }
        }
        let activations = size
            .activations_per_image
            .and_then(|a| a.checked_mul(self.batch_size as u64));
        match activations {
            Some(a) if a <= MAX_BATCH_ACTIVATIONS => {}
            _ => {
                return invalid(format!(
                    "a batch of {} would need {} floats of activations; at most {MAX_BATCH_ACTIVATIONS} (use a smaller --batch-size or network)",
                    self.batch_size,
                    activations.map_or("over 2^64".into(), |a| a.to_string())
                ));
            }
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
        if let Some(warmup) = self.warmup_epochs {
            if !(warmup.is_finite() && warmup >= 0.0 && warmup < self.epochs as f64) {
                return invalid(format!(
                    "warm-up epochs must be at least 0 and less than the {} epochs of the run, got {warmup}",
                    self.epochs
                ));
            }
            // Burn's linear schedule takes rates in (0, 1].
            if warmup > 0.0 && self.lr > 1.0 {
                return invalid(format!(
                    "a warm-up takes a learning rate of at most 1, got {}",
                    self.lr
                ));
            }
        }
        if self.early_stopping == Some(0) {
            return invalid("early-stopping patience must be at least 1 epoch".into());
        }
        optimizer::validate(&self.optimizer).map_err(ConfigError::Invalid)?;
        if let Some(multi) = &self.multi_device {
            multi.validate(self.batch_size, self.lr)?;
        }
        Ok(())
    }

    /// How this run's batch is spread over `devices` devices, after checking that
    /// `multi_device` agrees with the device count. The one place a run's per-device batch
    /// comes from: the loaders, the schedule's length, the step's loss scale and the schedule's
    /// overflow check all read the result.
    pub fn device_split(&self, devices: usize) -> Result<DeviceSplit, ConfigError> {
        match (&self.multi_device, devices) {
            (None, 1) => Ok(DeviceSplit {
                devices: 1,
                device_batch: self.batch_size,
                loss_scale: 1.0,
            }),
            (Some(multi), n) if multi.devices.len() == n => {
                multi.validate(self.batch_size, self.lr)?;
                Ok(DeviceSplit {
                    devices: n,
                    device_batch: multi.per_device_batch_size,
                    // 1/n with n <= MAX_DEVICES: exact enough in f32.
                    loss_scale: multi.loss_scale as f32,
                })
            }
            (multi, n) => Err(ConfigError::Invalid(format!(
                "the run has {n} device(s) but its configuration's multi_device lists {}",
                multi.as_ref().map_or(1, |m| m.devices.len())
            ))),
        }
    }
}

/// A run's batch spread over its devices ([`TrainingConfig::device_split`]): each of `devices`
/// devices takes `device_batch` images per optimiser step (`batch_size / devices`; the whole
/// batch on one device) and scales its loss by `loss_scale` (`1 / devices`) before the backward
/// pass, so that Burn's sum of the devices' gradients is the global batch's mean gradient (see
/// `config/multi_device.rs`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeviceSplit {
    /// Devices the run trains on.
    pub devices: usize,
    /// Images each device takes per optimiser step.
    pub device_batch: usize,
    /// Factor on each device's loss before its backward pass.
    pub loss_scale: f32,
}

impl DeviceSplit {
    /// Optimiser steps in one epoch of `train_len` training images: the schedule's length per
    /// epoch.
    ///
    /// Burn's multi-device strategy splits the training loader into one contiguous part per
    /// device (`len / devices` items each, the last one taking the remainder) and makes one
    /// optimiser step per round in which any part still yields a batch: an epoch is as many
    /// steps as the largest part has batches. On one device this is `ceil(len / batch)`.
    pub fn steps_per_epoch(&self, train_len: usize) -> usize {
        let devices = self.devices.max(1);
        let largest_part = train_len - (devices - 1) * (train_len / devices);
        largest_part.div_ceil(self.device_batch.max(1))
    }
}

/// What the network of a configuration would take, computed with checked arithmetic (`None`:
/// over `u64`) and without building it. Only meaningful once [`MnistCnnConfig::validate`]
/// passed, which guarantees the feature-map sides are computable.
struct NetworkSize {
    /// Trainable parameters (weights and biases).
    params: Option<u64>,
    /// Floats of every layer's output for one image.
    activations_per_image: Option<u64>,
}

impl NetworkSize {
    fn of(m: &MnistCnnConfig) -> Self {
        use model::shape::{conv_output_side, pool_output_side};
        let u = |v: usize| v as u64;
        let c1 = conv_output_side(model::IMAGE_SIZE, m.kernel_size, m.padding);
        let p1 = pool_output_side(c1);
        let c2 = conv_output_side(p1, m.kernel_size, m.padding);
        let p2 = pool_output_side(c2);
        let (f1, f2, k, h) = (
            u(m.conv1_filters),
            u(m.conv2_filters),
            u(m.kernel_size),
            u(m.hidden_units),
        );
        let classes = u(model::NUM_CLASSES);
        let square = |side: usize| u(side).checked_mul(u(side));
        let flatten = square(p2).and_then(|s| s.checked_mul(f2));
        let params = (|| {
            let kk = k.checked_mul(k)?;
            let conv1 = f1.checked_mul(kk.checked_add(1)?)?;
            let conv2 = f2.checked_mul(kk.checked_mul(f1)?.checked_add(1)?)?;
            let fc1 = flatten?.checked_add(1)?.checked_mul(h)?;
            let fc2 = h.checked_add(1)?.checked_mul(classes)?;
            conv1.checked_add(conv2)?.checked_add(fc1)?.checked_add(fc2)
        })();
        let activations_per_image = (|| {
            let maps = [
                square(c1)?.checked_mul(f1)?,
                square(p1)?.checked_mul(f1)?,
                square(c2)?.checked_mul(f2)?,
                flatten?,
                h,
                classes,
            ];
            maps.iter().try_fold(0u64, |sum, m| sum.checked_add(*m))
        })();
        Self {
            params,
            activations_per_image,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::optimizer::OptimizerKind;
    use crate::limits::MAX_CONFIG_BYTES;

    #[test]
    fn json_round_trip() {
        let config = TrainingConfig::new(MnistCnnConfig::new().with_hidden_units(64))
            .with_epochs(3)
            .with_optimizer(OptimizerConfig::new(OptimizerKind::Sgd))
            .with_lr_schedule(LrSchedule::Constant)
            .with_early_stopping(Some(2))
            .with_warmup_epochs(Some(0.5));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        config.save(&path).unwrap();
        assert_eq!(TrainingConfig::load(&path).unwrap(), config);
        let json = std::fs::read_to_string(&path).unwrap();
        assert!(json.contains("\"dampening\""), "{json}");
        assert!(json.contains("\"warmup_epochs\": 0.5"), "{json}");
    }

    /// A `config.json` written before `warmup_epochs` existed still loads (and resumes): no
    /// warm-up.
    #[test]
    fn a_config_without_warmup_loads_as_none() {
        let config = TrainingConfig::new(MnistCnnConfig::new());
        let mut json: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
        json.as_object_mut().unwrap().remove("warmup_epochs");
        let back = TrainingConfig::load_binary(json.to_string().as_bytes()).unwrap();
        assert_eq!(back.warmup_epochs, None);
        assert_eq!(back, config);
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
            ok.clone().with_valid_size(0),
            ok.clone().with_early_stopping(Some(0)),
            TrainingConfig::new(MnistCnnConfig::new().with_dropout(2.0)),
            ok.clone().with_epochs(usize::MAX),
            ok.clone().with_epochs(MAX_EPOCHS + 1),
            ok.clone().with_batch_size(usize::MAX),
            ok.clone().with_workers(usize::MAX),
            ok.clone().with_valid_size(usize::MAX),
            ok.clone().with_early_stopping(Some(usize::MAX)),
            ok.clone().with_warmup_epochs(Some(-0.5)),
            ok.clone().with_warmup_epochs(Some(12.0)),
            ok.clone().with_warmup_epochs(Some(f64::NAN)),
            ok.clone().with_warmup_epochs(Some(f64::INFINITY)),
            ok.clone()
                .with_warmup_epochs(Some(1.0))
                .with_lr(5.0)
                .with_lr_schedule(LrSchedule::Constant),
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let at_bounds = ok
            .clone()
            .with_epochs(MAX_EPOCHS)
            .with_workers(MAX_WORKERS)
            .with_valid_size(MAX_VALID_SIZE);
        assert!(at_bounds.validate().is_ok());
        for warmup in [0.0, 0.25, 11.5] {
            assert!(
                ok.clone()
                    .with_warmup_epochs(Some(warmup))
                    .validate()
                    .is_ok()
            );
        }
        assert!(
            ok.with_lr(5.0)
                .with_lr_schedule(LrSchedule::Constant)
                .validate()
                .is_ok()
        );
    }

    /// The lecture's network: the parameter count the summary shows, and room to spare.
    #[test]
    fn the_network_size_is_computed_without_building_it() {
        let size = NetworkSize::of(&MnistCnnConfig::new());
        assert_eq!(size.params, Some(843_658));
        assert_eq!(
            size.activations_per_image,
            Some(26 * 26 * 32 + 13 * 13 * 32 + 11 * 11 * 64 + 1600 + 512 + 10)
        );
    }

    /// Networks too big to train are refused by their size, before anything is allocated,
    /// including sizes whose products overflow.
    #[test]
    fn huge_networks_are_rejected_by_size() {
        use model::Padding;
        let huge = |m: MnistCnnConfig| {
            let err = TrainingConfig::new(m.clone()).validate();
            assert!(err.is_err(), "{m:?}");
            err.unwrap_err().to_string()
        };
        let kernel = MnistCnnConfig::new()
            .with_kernel_size(1_000_001)
            .with_padding(Padding::Same);
        let message = huge(kernel);
        assert!(
            message.contains("kernel") || message.contains("parameters"),
            "{message}"
        );
        huge(
            MnistCnnConfig::new()
                .with_kernel_size(usize::MAX)
                .with_padding(Padding::Same),
        );
        huge(MnistCnnConfig::new().with_hidden_units(usize::MAX));
        huge(MnistCnnConfig::new().with_conv2_filters(usize::MAX / 2));
        huge(MnistCnnConfig::new().with_conv1_filters(1 << 40));
        // Parameters in bounds, activations not: wide first convolution at the largest batch.
        let wide = TrainingConfig::new(
            MnistCnnConfig::new().with_conv1_filters(MnistCnnConfig::MAX_FILTERS),
        )
        .with_batch_size(MAX_BATCH_SIZE);
        let message = wide.validate().unwrap_err().to_string();
        assert!(message.contains("activations"), "{message}");
    }

    #[test]
    fn a_config_file_is_read_within_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let config = TrainingConfig::new(MnistCnnConfig::new()).with_epochs(3);
        config.save(&path).unwrap();
        assert_eq!(TrainingConfig::read(&path).unwrap(), config);
        std::fs::write(&path, "{oops").unwrap();
        let err = TrainingConfig::read(&path).unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
        let big = std::fs::File::create(&path).unwrap();
        big.set_len(MAX_CONFIG_BYTES + 1).unwrap();
        let err = TrainingConfig::read(&path).unwrap_err();
        assert!(matches!(err, ConfigError::TooLarge { .. }), "{err:?}");
    }
}

/// The multi-device record and the split derived from it.
#[cfg(test)]
mod multi_device_tests {
    use super::*;
    use model::MnistCnnConfig;

    fn names(n: usize) -> Vec<String> {
        vec!["cpu".to_string(); n]
    }

    #[test]
    fn the_global_batch_splits_evenly_and_the_loss_is_scaled() {
        let config = TrainingConfig::new(MnistCnnConfig::new()).with_batch_size(64);
        let multi = MultiDeviceConfig::new(names(2), config.batch_size, config.lr).unwrap();
        assert_eq!(multi.per_device_batch_size, 32);
        assert_eq!(multi.global_batch_size, 64);
        assert_eq!(multi.loss_scale, 0.5);
        assert_eq!(multi.effective_lr, config.lr);
        let config = config.with_multi_device(Some(multi));
        let split = config.device_split(2).unwrap();
        assert_eq!((split.device_batch, split.loss_scale), (32, 0.5));
        assert!(config.validate().is_ok());
    }

    #[test]
    fn uneven_or_mismatched_splits_are_rejected() {
        let config = TrainingConfig::new(MnistCnnConfig::new()).with_batch_size(64);
        assert!(MultiDeviceConfig::new(names(3), config.batch_size, config.lr).is_err());
        assert!(MultiDeviceConfig::new(names(1), config.batch_size, config.lr).is_err());
        let two = MultiDeviceConfig::new(names(2), config.batch_size, config.lr).unwrap();
        assert!(config.device_split(2).is_err(), "two devices, no record");
        let recorded = config.clone().with_multi_device(Some(two.clone()));
        assert!(recorded.device_split(1).is_err(), "a record, one device");
        assert!(recorded.device_split(3).is_err());
        let stale = recorded.with_batch_size(128);
        assert!(
            stale.validate().is_err(),
            "left over from another batch size"
        );
        let split = config.device_split(1).unwrap();
        assert_eq!(
            (split.devices, split.device_batch, split.loss_scale),
            (1, 64, 1.0)
        );
    }

    #[test]
    fn an_old_config_without_the_record_still_loads() {
        let config = TrainingConfig::new(MnistCnnConfig::new());
        let mut json: serde_json::Value = serde_json::to_value(&config).unwrap();
        json.as_object_mut().unwrap().remove("multi_device");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, json.to_string()).unwrap();
        use burn::config::Config;
        assert_eq!(TrainingConfig::load(&path).unwrap(), config);
    }

    #[test]
    fn an_epoch_has_as_many_steps_as_the_largest_device_part() {
        let split = |devices, device_batch| DeviceSplit {
            devices,
            device_batch,
            loss_scale: 1.0 / devices as f32,
        };
        assert_eq!(split(1, 64).steps_per_epoch(55_000), 860);
        assert_eq!(split(2, 32).steps_per_epoch(55_000), 860);
        // Three parts of 18,333, 18,333 and 18,334 images in batches of 21: the last part
        // needs 874 batches, where 55,000 / 63 would say 873.
        assert_eq!(split(3, 21).steps_per_epoch(55_000), 874);
        assert_eq!(split(1, 4).steps_per_epoch(10), 3);
    }
}
