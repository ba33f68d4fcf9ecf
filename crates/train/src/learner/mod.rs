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

use crate::config::DeviceSplit;
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
    /// The run's batch over its devices: the loss scale of each device's step and the
    /// schedule's length come from it, as the loaders' batch did.
    pub split: DeviceSplit,
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
    let classifier = Classifier::new(net, options.shards).with_loss_scale(options.split.loss_scale);
    // An epoch counted as Burn's loop takes it, from the split the loaders were built with.
    let steps = options.split.steps_per_epoch(loaders.train_len);
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use burn::lr_scheduler::LrSchedulerRecord;
    use burn::tensor::Device;
    use model::MnistCnnConfig;

    use crate::config::multi_device::MultiDeviceConfig;
    use crate::config::{LrSchedule, TrainingConfig};
    use crate::devices::backend::SelectedDevice;
    use crate::devices::names::Backend;
    use crate::learner::schedule::lr_scheduler;
    use crate::logging::renderer::ProgressStyle;
    use crate::run::dir::RunDir;
    use crate::run::{RunOptions, train_on};

    /// The schedule is as long as the steps Burn's multi-device loop takes: after two epochs on
    /// three devices, the checkpoint's scheduler is where a fresh schedule is after two epochs
    /// of `DeviceSplit::steps_per_epoch` steps. 101 training images over three devices are
    /// parts of 33, 33 and 35 images; at 34 a device, the third part takes 2 rounds, where
    /// 101 / 102 would say 1.
    #[test]
    fn the_schedule_is_as_long_as_a_multi_device_epoch() {
        let names = vec!["cpu".to_string(); 3];
        let config = TrainingConfig::new(
            MnistCnnConfig::new()
                .with_conv1_filters(2)
                .with_conv2_filters(4)
                .with_hidden_units(8),
        )
        .with_epochs(2)
        .with_batch_size(102)
        .with_valid_size(32)
        .with_lr_schedule(LrSchedule::Cosine)
        .with_warmup_epochs(Some(1.0));
        let multi = MultiDeviceConfig::new(names, config.batch_size, config.lr).unwrap();
        let config = config.with_multi_device(Some(multi));
        let split = config.device_split(3).unwrap();
        let steps = split.steps_per_epoch(101);
        assert_eq!((split.device_batch, steps), (34, 2));
        assert_ne!(
            steps,
            101usize.div_ceil(config.batch_size),
            "the data must tell them apart"
        );

        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path()).prepare(&config, false).unwrap();
        let flex = || SelectedDevice {
            device: Device::flex(),
            backend: Backend::Flex,
        };
        let options = RunOptions {
            device: flex(),
            progress: ProgressStyle::Plain(Duration::from_secs(3600)),
            shards: None,
            extra_devices: vec![flex(), flex()],
        };
        train_on(run, &data::synthetic::mnist(101 + 32, 10), &options).unwrap();

        let saved = RunDir::new(dir.path()).checkpoint_file("scheduler", 2);
        let saved = format!("{:?}", LrSchedulerRecord::load(&saved).unwrap());
        let after = |steps: usize| {
            let mut scheduler = lr_scheduler(&config, steps).unwrap();
            for _ in 0..steps * config.epochs {
                scheduler.step();
            }
            format!("{:?}", scheduler.to_record())
        };
        assert_eq!(saved, after(steps), "Burn took another number of steps");
        assert_ne!(
            saved,
            after(1),
            "the records must tell the step counts apart"
        );
    }
}
