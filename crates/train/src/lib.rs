//! Training for the `mnist-cnn` project: Burn's `SupervisedTraining` / `Learner` over the
//! `model` and `data` crates, with a readable non-terminal renderer, checkpoints, resume,
//! NaN detection and an exported record that inference loads without this crate.

pub mod artifacts;
pub mod config;
pub mod device;
pub mod history;
pub mod renderer;
pub mod run;
pub mod step;

pub use artifacts::RunDir;
pub use config::{LrSchedule, OptimizerKind, TrainingConfig};
pub use device::{DeviceChoice, SelectedDevice};
pub use run::{ProgressStyle, RunError, RunMetrics, RunOptions, train, train_on};
