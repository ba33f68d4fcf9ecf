//! Burn's side of a run: the `Learner` (network, optimiser, learning-rate schedule) and the
//! `SupervisedTraining` around it (metrics, loggers, checkpointing, early stopping, renderer).

pub(crate) mod classifier;
pub(crate) mod loaders;
pub(crate) mod schedule;
pub(crate) mod selection;

use std::sync::{Arc, Mutex, OnceLock};

use burn::module::Module;
use burn::tensor::Device;
use burn::train::logger::FileMetricLogger;
use burn::train::{ExecutionStrategy, Learner, MultiDeviceOptim, SupervisedTraining};
use model::MnistCnn;

use crate::error::RunError;
use crate::learner::classifier::Classifier;
use crate::learner::loaders::Loaders;
use crate::logging::history_logger::{Epochs, HistoryLogger};
use crate::logging::nan_stop::{Divergence, NonFiniteLossGuard};
use crate::logging::renderer::{PlainRenderer, ProgressStyle};
use crate::logging::tracked_metrics::Metrics;
use crate::run::dir::PreparedRun;

/// A training ready to launch, with the handles to read its outcome afterwards.
pub struct Setup {
    /// The network, optimiser and schedule.
    pub learner: Learner<Classifier>,
    /// The training loop's configuration.
    pub training: SupervisedTraining<Classifier>,
    /// The epochs this launch completes, filled by the history logger.
    pub epochs: Epochs,
    /// Set by the non-finite loss guard if training diverged.
    pub divergence: Divergence,
}

/// How the Learner runs: on which device, with how many shards per batch, showing what.
#[derive(Clone, Debug)]
pub struct LearnerOptions {
    /// The device, with autodiff: the main one (optimiser, validation) when there are several.
    pub device: Device,
    /// Further devices, with autodiff, training alongside `device` through Burn's MultiDevice
    /// strategy (empty: one device, Burn's default single-device loop).
    pub extra_devices: Vec<Device>,
    /// Factor on each device's loss before the backward pass (see [`crate::config::multi_device`]).
    pub loss_scale: f32,
    /// Shards each training batch is split into (see [`Classifier::sharded_step`]).
    pub shards: usize,
    /// Progress display.
    pub progress: ProgressStyle,
    /// Weights to start from (`--init-from`, read on a plain device) instead of a random
    /// initialisation.
    pub initial: Option<MnistCnn>,
}

/// Builds the Learner and its training for `run`, over `loaders`.
pub fn setup(
    run: &PreparedRun,
    loaders: Loaders,
    options: &LearnerOptions,
) -> Result<Setup, RunError> {
    let config = run.config();
    let dir = run.dir();
    // Initialised either way, so that the random stream (dropout, shuffling) starts at the same
    // place with or without --init-from; a record moves the weights onto the autodiff device as
    // resuming from a checkpoint does.
    let mut net = config.model.init(&options.device);
    if let Some(initial) = &options.initial {
        net = net
            .try_load_record(initial.clone().into_record())
            .map_err(RunError::InitialWeights)?;
    }
    let classifier = Classifier::new(net, options.shards).with_loss_scale(options.loss_scale);
    // The loaders hold the per-device batch; an epoch is counted as Burn's loop takes it.
    let devices = 1 + options.extra_devices.len();
    let steps = schedule::steps_per_epoch(loaders.train_len, config.batch_size / devices, devices);
    let scheduler = schedule::lr_scheduler(config, steps)?;
    let learner = Learner::new(classifier, config.optimizer.init(), scheduler);

    let metrics = Metrics::new();
    let tracked = metrics.ids();
    let epochs = Arc::new(Mutex::new(Vec::new()));
    let divergence: Divergence = Arc::new(OnceLock::new());
    let mut training = SupervisedTraining::new(dir.path(), loaders.train, loaders.valid)
        .metrics((metrics.accuracy, metrics.loss))
        .metric_train_numeric(metrics.learning_rate)
        // Registered first: it answers the metric queries of checkpointing and early stopping.
        .with_metric_logger(FileMetricLogger::new(dir.path()))
        .with_default_checkpointers()
        .with_checkpointing_strategy(selection::checkpointing_strategy())
        .num_epochs(config.epochs);
    let guard =
        NonFiniteLossGuard::new(training.interrupter(), tracked.clone(), divergence.clone());
    let history = HistoryLogger::new(dir.history(), dir.curves(), tracked.clone(), epochs.clone());
    training = training
        .with_metric_logger(guard)
        .with_metric_logger(history);
    if let ProgressStyle::Plain(interval) = options.progress {
        training = training.renderer(Box::new(PlainRenderer::new(interval, tracked)));
    }
    if let Some(patience) = config.early_stopping {
        training = training.early_stopping(selection::early_stopping(patience));
    }
    if let Some(epoch) = run.resume_from() {
        training = training.checkpoint(epoch);
    }
    if !options.extra_devices.is_empty() {
        // The optimiser state stays on the main device, as on one device: the same update.
        let devices = std::iter::once(options.device.clone())
            .chain(options.extra_devices.iter().cloned())
            .collect();
        training = training.with_training_strategy(
            ExecutionStrategy::multi(devices, MultiDeviceOptim::OptimMainDevice).into(),
        );
    }
    Ok(Setup {
        learner,
        training,
        epochs,
        divergence,
    })
}
