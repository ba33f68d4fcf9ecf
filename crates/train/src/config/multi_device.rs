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

use crate::error::ConfigError;

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
    /// The split of a run's (global) `batch_size` over `devices` (at least two), for a run at
    /// learning rate `lr`, or why it cannot be split.
    pub fn new(devices: Vec<String>, batch_size: usize, lr: f64) -> Result<Self, ConfigError> {
        let n = devices.len();
        if n < 2 {
            return Err(ConfigError::Invalid(format!(
                "a multi-device run needs at least 2 devices, got {n}"
            )));
        }
        if !batch_size.is_multiple_of(n) || batch_size < n {
            return Err(ConfigError::Invalid(format!(
                "batch size {} does not split evenly over {n} devices (use a multiple of {n}: \
                 --batch-size is the global batch, each device takes batch/{n})",
                batch_size
            )));
        }
        Ok(Self {
            per_device_batch_size: batch_size / n,
            global_batch_size: batch_size,
            loss_scale: 1.0 / n as f64,
            effective_lr: lr,
            devices,
        })
    }

    /// Rejects a record that does not match the run's `batch_size` and `lr` (edited by hand, or
    /// left over from another batch size), before any work starts.
    pub fn validate(&self, batch_size: usize, lr: f64) -> Result<(), ConfigError> {
        let expected = Self::new(self.devices.clone(), batch_size, lr)?;
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
