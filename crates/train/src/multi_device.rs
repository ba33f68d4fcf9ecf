//! Training on several devices at once, through Burn's own `MultiDevice` strategy.
//!
//! Burn splits the training loader into one part per device, runs one step per device on its
//! own thread (each on a batch of its part), moves the gradients to the first ("main") device,
//! **sums** them and steps the optimiser there. A device's gradient is that of the mean loss of
//! its own batch, so the sum over `n` devices is `n` times the gradient of the mean loss of all
//! their images together. To make an `n`-device run the same optimisation as one device at the
//! same global batch, each device takes `batch_size / n` images and its loss is scaled by `1/n`
//! before the backward pass (the reported loss is not): the summed gradient is then exactly the
//! global batch's, whatever the optimiser (scaling the learning rate instead would be right for
//! SGD only: Adam divides the scale out, weight decay and clipping do not). The learning rate
//! stays as configured. `tests/multi_device.rs` measures the first update of both ways against
//! one device.

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, TrainingConfig};

/// What `config.json` records about a run on several devices (absent on one device).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MultiDeviceConfig {
    /// The devices as `--devices` names them; the first is the main device (optimiser,
    /// validation, export).
    pub devices: Vec<String>,
    /// Images each device takes per optimiser step: `global_batch_size / devices`.
    pub per_device_batch_size: usize,
    /// Images per optimiser step over all devices: the run's `batch_size`.
    pub global_batch_size: usize,
    /// Factor on each device's loss before its backward pass: `1 / devices`, so that Burn's sum
    /// of the devices' gradients is the global batch's mean gradient.
    pub loss_scale: f64,
    /// The learning rate the optimiser steps with: the run's `lr`, as on one device at the
    /// global batch (the loss scale already accounts for the sum).
    pub effective_lr: f64,
}

impl MultiDeviceConfig {
    /// The split of `config`'s batch over `devices` (at least two), or why it cannot be split.
    pub fn new(devices: Vec<String>, config: &TrainingConfig) -> Result<Self, ConfigError> {
        let n = devices.len();
        if n < 2 {
            return Err(ConfigError::Invalid(format!(
                "a multi-device run needs at least 2 devices, got {n}"
            )));
        }
        if !config.batch_size.is_multiple_of(n) || config.batch_size < n {
            return Err(ConfigError::Invalid(format!(
                "batch size {} does not split evenly over {n} devices (use a multiple of {n}: \
                 --batch-size is the global batch, each device takes batch/{n})",
                config.batch_size
            )));
        }
        Ok(Self {
            per_device_batch_size: config.batch_size / n,
            global_batch_size: config.batch_size,
            loss_scale: 1.0 / n as f64,
            effective_lr: config.lr,
            devices,
        })
    }

    /// Rejects a record that does not match `config` (edited by hand, or left over from another
    /// batch size), before any work starts.
    pub fn validate(&self, config: &TrainingConfig) -> Result<(), ConfigError> {
        let expected = Self::new(self.devices.clone(), config)?;
        if *self != expected {
            return Err(ConfigError::Invalid(format!(
                "multi_device does not match the run: expected {}, found {}",
                model::quote(&format!("{expected:?}")),
                model::quote(&format!("{self:?}"))
            )));
        }
        Ok(())
    }

    /// The one line the `train` binary prints about the split.
    pub fn summary(&self) -> String {
        format!(
            "{} devices through Burn's MultiDevice strategy: global batch {} = {} per device, \
             each device's loss scaled by 1/{} (gradients are summed), learning rate {}",
            self.devices.len(),
            self.global_batch_size,
            self.per_device_batch_size,
            self.devices.len(),
            self.effective_lr
        )
    }
}

/// How a run's training loader and step are set for `devices` devices: the per-device batch
/// size and the loss scale, after checking `config.multi_device` agrees with the device count.
pub fn split(config: &TrainingConfig, devices: usize) -> Result<(usize, f32), ConfigError> {
    match (&config.multi_device, devices) {
        (None, 1) => Ok((config.batch_size, 1.0)),
        (Some(multi), n) if multi.devices.len() == n => {
            multi.validate(config)?;
            // 1/n with n <= MAX_DEVICES: exact enough in f32.
            Ok((multi.per_device_batch_size, multi.loss_scale as f32))
        }
        (multi, n) => Err(ConfigError::Invalid(format!(
            "the run has {n} device(s) but its configuration's multi_device lists {}",
            multi.as_ref().map_or(1, |m| m.devices.len())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MnistCnnConfig;

    fn names(n: usize) -> Vec<String> {
        vec!["cpu".to_string(); n]
    }

    #[test]
    fn the_global_batch_splits_evenly_and_the_loss_is_scaled() {
        let config = TrainingConfig::new(MnistCnnConfig::new()).with_batch_size(64);
        let multi = MultiDeviceConfig::new(names(2), &config).unwrap();
        assert_eq!(multi.per_device_batch_size, 32);
        assert_eq!(multi.global_batch_size, 64);
        assert_eq!(multi.loss_scale, 0.5);
        assert_eq!(multi.effective_lr, config.lr);
        let config = config.with_multi_device(Some(multi));
        assert_eq!(split(&config, 2).unwrap(), (32, 0.5));
        assert!(config.validate().is_ok());
    }

    #[test]
    fn uneven_or_mismatched_splits_are_rejected() {
        let config = TrainingConfig::new(MnistCnnConfig::new()).with_batch_size(64);
        assert!(MultiDeviceConfig::new(names(3), &config).is_err());
        assert!(MultiDeviceConfig::new(names(1), &config).is_err());
        let two = MultiDeviceConfig::new(names(2), &config).unwrap();
        assert!(split(&config, 2).is_err(), "two devices, no record");
        let recorded = config.clone().with_multi_device(Some(two.clone()));
        assert!(split(&recorded, 1).is_err(), "a record, one device");
        assert!(split(&recorded, 3).is_err());
        let stale = recorded.with_batch_size(128);
        assert!(
            stale.validate().is_err(),
            "left over from another batch size"
        );
        assert_eq!(split(&config, 1).unwrap(), (64, 1.0));
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
}
