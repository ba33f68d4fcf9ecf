//! Training for the `mnist-cnn` project: Burn's `SupervisedTraining` / `Learner` over the
//! `model` and `data` crates, with a readable non-terminal renderer, checkpoints, resume,
//! NaN detection and an exported record that inference loads without this crate.
//!
//! A run, in order: [`RunDir::prepare`] checks the directory and the configuration,
//! [`loaders`] split and batch the data, [`learner`] sets up Burn's training, [`selection`]
//! picks the epoch to export, [`export`] writes it; [`run`] strings them together.

pub mod atomic;
pub mod config;
mod config_keys;
pub mod curves;
pub mod device;
pub mod device_list;
pub mod export;
pub mod float_json;
pub mod guard;
pub mod history;
pub mod init;
pub mod learner;
pub mod loaders;
pub mod multi_device;
pub mod optimizer;
pub mod renderer;
pub mod resume;
pub mod run;
pub mod run_dir;
pub mod schedule;
pub mod selection;
pub mod step;
pub mod tracked;

pub use config::{LrSchedule, TrainingConfig};
pub use device::{Backend, DeviceChoice, SelectedDevice};
pub use export::RunMetrics;
pub use optimizer::{OptimizerConfig, OptimizerKind};
pub use renderer::ProgressStyle;
pub use run::{RunError, RunOptions, train, train_on};
pub use run_dir::{ArtifactError, PreparedRun, RunDir};
