//! One training run, from data to exported model: the library behind the `train` binary.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::Dataset;
use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::module::Module;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, SgdConfig};
use burn::store::ModuleRecord;
use burn::train::logger::FileMetricLogger;
use burn::train::metric::store::{Aggregate, Direction, Split};
use burn::train::metric::{AccuracyMetric, LearningRateMetric, LossMetric};
use burn::train::{Learner, MetricEarlyStoppingStrategy, StoppingCondition, SupervisedTraining};
use data::{Augmentation, AugmentedDataset, Mnist, MnistBatcher};
use serde::{Deserialize, Serialize};

use crate::artifacts::RunDir;
use crate::config::{LrSchedule, OptimizerKind, TrainingConfig};
use crate::device::SelectedDevice;
use crate::history::{EpochRecord, HistoryLogger, HistoryState, read_history};
use crate::renderer::PlainRenderer;
use crate::step::Classifier;

/// The Burn release this crate is built against (checked against Cargo.lock by a test).
pub const BURN_VERSION: &str = "0.22.1";

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressStyle {
    /// Burn's terminal dashboard.
    Tui,
    /// A line every `interval`, a summary per epoch.
    Plain(Duration),
}

/// Everything about a run that is not in [`TrainingConfig`].
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Where the run writes.
    pub run_dir: RunDir,
    /// The device to train on (without autodiff).
    pub device: SelectedDevice,
    /// Continue the run in `run_dir` from its last checkpoint.
    pub resume: bool,
    /// Progress display.
    pub progress: ProgressStyle,
    /// Shards each training batch is split into, run in parallel (see
    /// [`Classifier::sharded_step`]); `None` picks [`crate::device::default_shards`].
    pub shards: Option<usize>,
}

/// What `metrics.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunMetrics {
    /// Accuracy on the 10,000 test images (or the test set given), in [0, 1].
    pub test_accuracy: f64,
    /// Accuracy per true digit, in [0, 1].
    pub per_class_accuracy: [f64; 10],
    /// Test images evaluated.
    pub test_images: u32,
    /// Epochs trained (including those before a resume).
    pub epochs: usize,
    /// The epoch whose weights were exported: lowest validation loss.
    pub selected_epoch: usize,
    /// Validation accuracy of the exported weights, in percent.
    pub valid_accuracy: f64,
    /// Wall time of this invocation's training, seconds.
    pub train_seconds: f64,
    /// Mean seconds per epoch of this invocation.
    pub seconds_per_epoch: f64,
    /// Backend name (`flex`, `ndarray`, `wgpu`).
    pub backend: String,
    /// The device, as Burn prints it.
    pub device: String,
    /// Burn version.
    pub burn_version: String,
}

/// Errors that end a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Data problem.
    #[error(transparent)]
    Data(#[from] data::DataError),
    /// Artifact directory problem.
    #[error(transparent)]
    Artifacts(#[from] crate::artifacts::ArtifactError),
    /// The loss diverged; nothing was exported.
    #[error(
        "training diverged: the loss became NaN or infinite at epoch {epoch}, step {step}; no model was written (try a smaller --lr)"
    )]
    NonFiniteLoss {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step in the epoch.
        step: usize,
    },
    /// Burn's training loop reported an error.
    #[error("training failed: {0}")]
    Training(String),
    /// Writing or reading a record.
    #[error("{path}: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Trains with `config` on MNIST from `data_dir` / `MNIST_DIR` / the cache.
pub fn train(
    config: &TrainingConfig,
    data_dir: Option<&Path>,
    options: &RunOptions,
) -> Result<RunMetrics, RunError> {
    config.validate()?;
    options.run_dir.prepare(config, options.resume)?;
    let mnist = Mnist::load(data_dir)?;
    train_on(config, &mnist, options)
}

/// Trains on data already in memory (the test suite passes small synthetic sets).
pub fn train_on(
    config: &TrainingConfig,
    mnist: &Mnist,
    options: &RunOptions,
) -> Result<RunMetrics, RunError> {
    config.validate()?;
    let dir = &options.run_dir;
    let start = Instant::now();
    let device = options.device.device.clone();
    device.seed(config.seed);
    let train_device = device.clone().autodiff();

    let (train_set, valid_set) = mnist.train.split(config.valid_size, config.seed)?;
    let train_len = train_set.len();
    let train_loader = {
        let builder = DataLoaderBuilder::new(MnistBatcher)
            .batch_size(config.batch_size)
            .shuffle(config.seed)
            .num_workers(config.workers);
        if config.augment {
            builder.build(AugmentedDataset::new(
                train_set,
                Augmentation::new(config.seed),
            ))
        } else {
            builder.build(train_set)
        }
    };
    let valid_loader = DataLoaderBuilder::new(MnistBatcher)
        .batch_size(config.batch_size.max(256))
        .num_workers(config.workers)
        .build(valid_set);

    let shards = options
        .shards
        .unwrap_or_else(|| crate::device::default_shards(&options.device));
    let classifier = Classifier::new(config.model.init(&train_device), shards);
    let optimizer = match config.optimizer {
        OptimizerKind::Adam => AdamConfig::new().init(),
        OptimizerKind::Adamw => AdamWConfig::new().init(),
        OptimizerKind::Sgd => SgdConfig::new()
            .with_momentum(Some(MomentumConfig::new().with_dampening(0.0)))
            .init(),
    };
    let steps_per_epoch = train_len.div_ceil(config.batch_size);
    let scheduler: ModuleLrScheduler = match config.lr_schedule {
        LrSchedule::Constant => config.lr.into(),
        LrSchedule::Cosine => {
            CosineAnnealingLrSchedulerConfig::new(config.lr, steps_per_epoch * config.epochs)
                .init()
                .map_err(|e| crate::config::ConfigError::Invalid(e.to_string()))?
        }
    };
    let learner = Learner::new(classifier, optimizer, scheduler);

    let history_state = Arc::new(Mutex::new(HistoryState::default()));
    let mut training = SupervisedTraining::new(dir.path(), train_loader, valid_loader)
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .metric_train_numeric(LearningRateMetric::new())
        .with_metric_logger(FileMetricLogger::new(dir.path()))
        .with_default_checkpointers()
        .num_epochs(config.epochs);
    let history = HistoryLogger::new(dir.history(), training.interrupter(), history_state.clone());
    training = training.with_metric_logger(history);
    if let ProgressStyle::Plain(interval) = options.progress {
        training = training.renderer(Box::new(PlainRenderer::new(interval)));
    }
    if let Some(patience) = config.early_stopping {
        training = training.early_stopping(MetricEarlyStoppingStrategy::new(
            &LossMetric::new(),
            Aggregate::Mean,
            Direction::Lowest,
            Split::Valid,
            StoppingCondition::NoImprovementSince { n_epochs: patience },
        ));
    }
    let earlier = if options.resume {
        let last = dir.last_checkpoint()?;
        training = training.checkpoint(last);
        read_history(&dir.history())
            .map_err(|e| RunError::Record {
                path: dir.history(),
                message: e.to_string(),
            })?
            .into_iter()
            .filter(|r| r.epoch <= last)
            .collect()
    } else {
        Vec::new()
    };

    let result = training.launch(learner);
    let train_seconds = start.elapsed().as_secs_f64();
    let state = history_state.lock().expect("history state");
    if let Some(at) = state.non_finite {
        return Err(RunError::NonFiniteLoss {
            epoch: at.epoch,
            step: at.step,
        });
    }
    if let Some(error) = result.error {
        return Err(RunError::Training(error.to_string()));
    }
    let epochs_this_run = state.epochs.len();
    let all_epochs: Vec<EpochRecord> = earlier
        .into_iter()
        .chain(state.epochs.iter().cloned())
        .collect();
    drop(state);

    // Model selection on the validation split: the epoch with the lowest validation loss.
    let best = all_epochs
        .iter()
        .min_by(|a, b| a.valid_loss.total_cmp(&b.valid_loss))
        .cloned();
    let mut net = result.model.net.valid();
    let mut selected_epoch = all_epochs.last().map_or(0, |r| r.epoch);
    let mut valid_accuracy = all_epochs.last().map_or(f64::NAN, |r| r.valid_accuracy);
    if let Some(best) = best
        && best.epoch != selected_epoch
    {
        let path = dir.checkpoint_model(best.epoch);
        if path.is_file() {
            let record = ModuleRecord::load(&path).map_err(|e| RunError::Record {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let restored = Classifier::new(config.model.init(&device), 1)
                .try_load_record(record)
                .map_err(|e| RunError::Record {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            net = restored.net;
            selected_epoch = best.epoch;
            valid_accuracy = best.valid_accuracy;
        }
    }

    let confusion = infer::evaluate(&net, &mnist.test, &device);
    let metrics = RunMetrics {
        test_accuracy: confusion.accuracy(),
        per_class_accuracy: confusion.per_class_accuracy(),
        test_images: confusion.total(),
        epochs: all_epochs.len(),
        selected_epoch,
        valid_accuracy,
        train_seconds,
        seconds_per_epoch: train_seconds / epochs_this_run.max(1) as f64,
        backend: options.device.backend.to_string(),
        device: format!("{:?}", options.device.device),
        burn_version: BURN_VERSION.to_string(),
    };
    dir.export(net, &config.model, &metrics)?;
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    #[test]
    fn burn_version_matches_the_lock_file() {
        let lock = include_str!("../../../Cargo.lock");
        let entry = format!("name = \"burn\"\nversion = \"{}\"", super::BURN_VERSION);
        assert!(
            lock.contains(&entry),
            "Cargo.lock does not pin burn {}",
            super::BURN_VERSION
        );
    }
}
