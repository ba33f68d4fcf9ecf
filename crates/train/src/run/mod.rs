//! One training run, from data to exported model: the library behind the `train` binary. Each
//! step lives in its own module; this one only puts them in order.

pub(crate) mod artifacts;
pub(crate) mod dir;
pub(crate) mod init_from;
pub(crate) mod resume;

use std::path::Path;
use std::time::Instant;

use data::Mnist;

use crate::devices::backend::{SelectedDevice, default_shards};
use crate::error::{ConfigError, RunError};
use crate::learner::loaders::Loaders;
use crate::learner::selection;
use crate::learner::{self, LearnerOptions};
use crate::logging::history::truncate_history;
use crate::logging::renderer::ProgressStyle;
use crate::run::artifacts::{RunMetrics, export};
use crate::run::dir::PreparedRun;
use crate::run::init_from::load_initial;

/// The Burn release this crate is built against (checked against Cargo.lock by infer's test).
pub use infer::BURN_VERSION;

/// Everything about a run that is neither in the [`PreparedRun`] nor in its configuration.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The device to train on (without autodiff).
    pub device: SelectedDevice,
    /// Progress display.
    pub progress: ProgressStyle,
    /// Shards each training batch is split into, run in parallel (see
    /// [`crate::learner::classifier::Classifier::sharded_step`]); `None` picks [`default_shards`].
    pub shards: Option<usize>,
    /// Further devices training alongside `device` through Burn's MultiDevice strategy
    /// (`--devices`; empty: one device). The configuration's `multi_device` must list them all.
    pub extra_devices: Vec<SelectedDevice>,
}

/// Trains `run` on MNIST from `data_dir` / `MNIST_DIR` / the cache.
pub fn train(
    run: PreparedRun,
    data_dir: Option<&Path>,
    options: &RunOptions,
) -> Result<RunMetrics, RunError> {
    let mnist = Mnist::load(data_dir)?;
    train_on(run, &mnist, options)
}

/// Trains `run` on data already in memory (the tests and the benchmark pass synthetic sets).
pub fn train_on(
    run: PreparedRun,
    mnist: &Mnist,
    options: &RunOptions,
) -> Result<RunMetrics, RunError> {
    let config = run.config();
    let start = Instant::now();
    let device = options.device.device.clone();
    // Read before seeding: building the network to load into draws from the device's RNG.
    let initial = match (&config.init_from, run.resume_from()) {
        (Some(path), None) => Some(load_initial(path, &config.model, &device)?),
        // A resumed run continues from its checkpoint's weights.
        _ => None,
    };
    // Burn panics on a checkpoint it cannot read or apply: check it first, naming the file.
    if let Some(last) = run.resume_from() {
        selection::verify_checkpoint(run.dir(), last, &config.model, &device)?;
    }
    device.seed(config.seed);

    let devices = 1 + options.extra_devices.len();
    let split = config.device_split(devices)?;
    let loaders = Loaders::new(config, split.device_batch, &mnist.train)?;
    // The schedule's length; `validate` bounds both factors, this keeps it so for any data.
    let steps = split.steps_per_epoch(loaders.train_len);
    steps.checked_mul(config.epochs).ok_or_else(|| {
        ConfigError::Invalid(format!(
            "{} epochs of {steps} steps overflow the schedule's step count",
            config.epochs
        ))
    })?;
    let learner_options = LearnerOptions {
        device: device.clone().autodiff(),
        extra_devices: options
            .extra_devices
            .iter()
            .map(|d| d.device.clone().autodiff())
            .collect(),
        split,
        shards: options.shards.unwrap_or_else(|| {
            let shards = default_shards(&options.device);
            // Local CPU devices share rayon's pool: its threads go round the devices.
            (shards / devices).max(1)
        }),
        progress: options.progress,
        initial,
    };
    let setup = learner::setup(&run, loaders, &learner_options)?;
    // The epochs after the checkpoint are trained again: their lines go, so that each epoch is
    // listed (and counted in metrics.json) once.
    let mut history = match run.resume_from() {
        Some(last) => truncate_history(&run.dir().history(), last)?,
        None => Vec::new(),
    };

    let result = setup.training.launch(setup.learner);
    let train_seconds = start.elapsed().as_secs_f64();
    if let Some(at) = setup.divergence.get() {
        return Err(RunError::NonFiniteLoss {
            epoch: at.epoch,
            step: at.step,
        });
    }
    if let Some(error) = result.error {
        return Err(RunError::Training(error));
    }
    let this_run = std::mem::take(&mut *setup.epochs.lock().expect("history epochs"));
    let epochs_this_run = this_run.len();
    history.extend(this_run);

    let best = selection::best_epoch(&history).ok_or(RunError::NoEpoch)?;
    let net = selection::load_checkpoint(run.dir(), best.epoch, &config.model, &device)?;
    let confusion =
        infer::evaluate(&net, &mnist.test, &device).map_err(|e| RunError::Evaluate(Box::new(e)))?;
    let metrics = RunMetrics {
        test_accuracy: confusion.accuracy(),
        per_class_accuracy: confusion.per_class_accuracy(),
        test_images: confusion.total(),
        epochs: history.len(),
        selected_epoch: best.epoch,
        valid_accuracy: best.valid_accuracy,
        train_seconds,
        seconds_per_epoch: train_seconds / epochs_this_run.max(1) as f64,
        backend: options.device.backend,
        device: format!("{:?}", options.device.device),
        burn_version: BURN_VERSION.to_string(),
    };
    export(run.dir(), net, &config.model, &metrics)?;
    Ok(metrics)
}
