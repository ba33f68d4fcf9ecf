//! The learning-rate schedule of a run: constant or cosine annealing, optionally after a linear
//! warm-up (`--warmup-epochs`), built from Burn's own schedulers.
//!
//! With a warm-up of `W` steps out of `T`, Burn's `SequentialLrScheduler` runs a
//! `LinearLrScheduler` for the first `W` steps and the main schedule over the remaining `T - W`:
//!
//! * step `k < W` (counting from 0): `lr/100 + (lr - lr/100) * k / W` — from `lr / 100` (Burn's
//!   linear schedule needs a start above 0) towards `lr`;
//! * step `k >= W`: cosine, `lr * (1 + cos(pi * (k - W) / (T - W))) / 2`, or constant `lr`.
//!
//! The ramp's next value would be `lr` itself, which is where the cosine starts: no jump. Steps
//! are optimiser steps, counted as Burn's epoch loop takes them (`DeviceSplit::steps_per_epoch` in `config/mod.rs`).

use burn::lr_scheduler::LrSchedulerConfig;
use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::lr_scheduler::sequential::SequentialLrSchedulerConfig;

use crate::config::{LrSchedule, TrainingConfig};
use crate::error::ConfigError;

/// The factor between the learning rate and the warm-up's first one.
pub const WARMUP_START_DIVISOR: f64 = 100.0;

/// The warm-up's length in steps: `warmup_epochs` epochs of `steps_per_epoch`, rounded to the
/// nearest step (0 without a warm-up).
pub fn warmup_steps(config: &TrainingConfig, steps_per_epoch: usize) -> usize {
    let epochs = config.warmup_epochs.unwrap_or(0.0);
    (epochs * steps_per_epoch as f64).round() as usize
}

/// The schedule of `config` over its `epochs * steps_per_epoch` steps.
pub fn lr_scheduler(
    config: &TrainingConfig,
    steps_per_epoch: usize,
) -> Result<ModuleLrScheduler, ConfigError> {
    let total = steps_per_epoch * config.epochs;
    let warmup = warmup_steps(config, steps_per_epoch);
    let main = |steps: usize| match config.lr_schedule {
        LrSchedule::Constant => LrSchedulerConfig::Constant(config.lr),
        LrSchedule::Cosine => CosineAnnealingLrSchedulerConfig::new(config.lr, steps).into(),
    };
    // Burn reports a bad schedule as text only; `validate` already rules out its causes
    // (learning rate in (0, 1] where a schedule needs it, a warm-up shorter than the run).
    let invalid = ConfigError::Invalid;
    if warmup == 0 {
        return match main(total) {
            LrSchedulerConfig::Constant(lr) => Ok(lr.into()),
            LrSchedulerConfig::Cosine(cosine) => cosine.init().map_err(invalid),
            _ => unreachable!("main() builds constant or cosine schedules only"),
        };
    }
    if warmup >= total {
        return Err(ConfigError::Invalid(format!(
            "the warm-up ({warmup} steps) must be shorter than the run ({total} steps)"
        )));
    }
    let ramp = LinearLrSchedulerConfig::new(config.lr / WARMUP_START_DIVISOR, config.lr, warmup);
    SequentialLrSchedulerConfig::new(vec![ramp.into(), main(total - warmup)], vec![warmup])
        .init()
        .map_err(invalid)
}

/// The learning rate of step `step` (from 0) by the formula of the module documentation: what
/// `lr_scheduler` must produce, written out independently of Burn for the tests and for
/// anyone reading a run's learning-rate curve.
pub fn expected_lr(config: &TrainingConfig, steps_per_epoch: usize, step: usize) -> f64 {
    let total = steps_per_epoch * config.epochs;
    let warmup = warmup_steps(config, steps_per_epoch);
    let lr = config.lr;
    if step < warmup {
        let start = lr / WARMUP_START_DIVISOR;
        return start + (lr - start) * step as f64 / warmup as f64;
    }
    match config.lr_schedule {
        LrSchedule::Constant => lr,
        LrSchedule::Cosine => {
            let progress = (step - warmup) as f64 / (total - warmup) as f64;
            lr * (1.0 + (std::f64::consts::PI * progress).cos()) / 2.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MnistCnnConfig;

    fn config(epochs: usize, warmup: Option<f64>, schedule: LrSchedule) -> TrainingConfig {
        TrainingConfig::new(MnistCnnConfig::new())
            .with_epochs(epochs)
            .with_lr(2e-3)
            .with_lr_schedule(schedule)
            .with_warmup_epochs(warmup)
    }

    /// Every step's rate, from Burn's scheduler, against the formula.
    fn assert_follows_formula(config: &TrainingConfig, steps_per_epoch: usize) {
        let mut scheduler = lr_scheduler(config, steps_per_epoch).unwrap();
        for step in 0..steps_per_epoch * config.epochs {
            let got = scheduler.step().base();
            let want = expected_lr(config, steps_per_epoch, step);
            assert!(
                (got - want).abs() <= 1e-12 * config.lr.max(1.0),
                "{config:?}: step {step}: {got} != {want}"
            );
        }
    }

    #[test]
    fn the_rate_per_step_follows_the_formula() {
        // 1.5 epochs of 40 steps: 60 warm-up steps, then a cosine over 4 * 40 - 60 = 100.
        let warm = config(4, Some(1.5), LrSchedule::Cosine);
        assert_eq!(warmup_steps(&warm, 40), 60);
        assert_follows_formula(&warm, 40);
        let mut scheduler = lr_scheduler(&warm, 40).unwrap();
        let rates: Vec<f64> = (0..160).map(|_| scheduler.step().base()).collect();
        assert!((rates[0] - 2e-5).abs() < 1e-15, "starts at lr / 100");
        assert!(rates[..60].windows(2).all(|w| w[1] > w[0]), "ramps up");
        assert!((rates[60] - 2e-3).abs() < 1e-15, "the cosine starts at lr");
        assert!(rates[60..].windows(2).all(|w| w[1] < w[0]), "then anneals");
        assert!(rates[159] < 2e-3 * 1e-3, "to nearly 0 at the last step");
        // The ramp climbs by the same amount each step, and its next step would be lr.
        let rise = rates[1] - rates[0];
        assert!((rates[59] + rise - 2e-3).abs() < 1e-12);
        // Fractional epochs round to the nearest step; constant after the warm-up; none at all.
        assert_follows_formula(&config(3, Some(0.26), LrSchedule::Cosine), 7);
        assert_follows_formula(&config(2, Some(0.5), LrSchedule::Constant), 10);
        assert_follows_formula(&config(3, None, LrSchedule::Cosine), 9);
        assert_follows_formula(&config(3, Some(0.0), LrSchedule::Cosine), 9);
    }

    #[test]
    fn a_warmup_as_long_as_the_run_is_refused() {
        // 0.99 of a 1-epoch run of 50 steps rounds to 50 steps: nothing left for the cosine.
        let Err(err) = lr_scheduler(&config(1, Some(0.995), LrSchedule::Cosine), 50) else {
            panic!("a warm-up of the whole run was accepted");
        };
        assert!(err.to_string().contains("shorter than the run"), "{err}");
    }
}
