//! Training for the `mnist-cnn` project: Burn's `SupervisedTraining` / `Learner` over the
//! `model` and `data` crates, with a readable non-terminal renderer, checkpoints, resume,
//! NaN detection and an exported record that inference loads without this crate.
//!
//! # Layout: one room per job
//!
//! | room | holds | where to look for |
//! |---|---|---|
//! | `config/` | [`TrainingConfig`] (`mod.rs`), reading a config file and its keys (`file.rs`), the optimiser (`optimizer.rs`), the multi-device record (`multi_device.rs`) | a hyper-parameter |
//! | `devices/` | the backends' and `--device` choices' names (`names.rs`), choosing the device a run trains on (`backend.rs`), `--devices` (`list.rs`) | a backend, a device |
//! | `learner/` | **the training loop**: Burn's `Learner` set up (`mod.rs`), the classifier's step (`classifier.rs`), the data loaders (`loaders.rs`), the learning-rate schedule (`schedule.rs`), the best epoch, checkpoints and early stopping (`selection.rs`) | the training loop |
//! | `logging/` | what a run reports: `history.jsonl` (`history.rs`), its Burn logger (`history_logger.rs`), `curves.png` (`curves.rs`), the NaN stop (`nan_stop.rs`), the progress lines (`renderer.rs`), the tracked metrics (`tracked_metrics.rs`) | the curves, the history |
//! | `run/` | one run from data to exported model (`mod.rs`): **the run directory** (`dir.rs`), `--resume` (`resume.rs`), `--init-from` (`init_from.rs`), the exported model and `metrics.json` (`artifacts.rs`) | the run directory |
//! | `error.rs`, `limits.rs`, `atomic_write.rs` | every error the crate returns; every bound it checks; all-or-nothing file writes (the run's JSON, the history, the curves) | an error, a limit |
//!
//! Dependencies point one way between files (no module imports one that imports it back):
//! `run` puts the others in order, `learner` uses `logging`, `config` and `devices` use
//! neither. The rooms are private; what the binaries, tests and examples use is re-exported
//! here.

mod atomic_write;
mod config;
mod devices;
mod error;
mod learner;
mod limits;
mod logging;
mod run;

pub use config::multi_device::MultiDeviceConfig;
pub use config::optimizer::{OptimizerConfig, OptimizerKind};
pub use config::{DeviceSplit, LrSchedule, TrainingConfig};
pub use devices::backend::{COMPILED_BACKENDS, SelectedDevice, default_shards, select};
pub use devices::list::{DeviceList, DeviceSpec};
pub use devices::names::{Backend, DeviceChoice};
pub use error::{
    ArtifactError, ConfigError, CurvesError, DeviceError, DeviceListError, InitError, RunError,
};
pub use learner::classifier::Classifier;
pub use learner::schedule::{expected_lr, warmup_steps};
pub use learner::selection::{best_epoch, load_checkpoint};
pub use limits::{
    DRAW_DEADLINE, MAX_ADDRESS_LEN, MAX_BATCH_ACTIVATIONS, MAX_BATCH_SIZE, MAX_CONFIG_BYTES,
    MAX_DEVICES, MAX_EPOCHS, MAX_HISTORY_BYTES, MAX_NAME_SUFFIX, MAX_PARAMS, MAX_VALID_SIZE,
    MAX_WORKERS,
};
pub use logging::curves::{latest_per_epoch, redraw, redraw_within, render};
pub use logging::history::{EpochRecord, parse_history, read_history, write_history};
pub use logging::renderer::ProgressStyle;
pub use run::artifacts::RunMetrics;
pub use run::dir::{PreparedRun, RunDir};
pub use run::init_from::load_initial_noted;
pub use run::{BURN_VERSION, RunOptions, train, train_on};
