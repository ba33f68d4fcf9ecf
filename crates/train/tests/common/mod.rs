//! What the training tests share: a small network, quiet options, and a run on
//! `data::synthetic`'s digits (a bar per digit over seeded speckle), which the network learns
//! in a few steps.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use data::Mnist;
use model::MnistCnnConfig;
use train::{PreparedRun, ProgressStyle, RunDir, RunOptions, SelectedDevice, TrainingConfig};

/// A network small enough to train in a second on the synthetic digits.
pub fn small_config() -> TrainingConfig {
    TrainingConfig::new(
        MnistCnnConfig::new()
            .with_conv1_filters(4)
            .with_conv2_filters(8)
            .with_hidden_units(32)
            .with_dropout(0.1),
    )
    .with_epochs(3)
    .with_batch_size(32)
    .with_valid_size(80)
    .with_lr(3e-3)
}

/// Options on `device`, quiet progress.
pub fn run_options(device: SelectedDevice) -> RunOptions {
    RunOptions {
        device,
        progress: ProgressStyle::Plain(Duration::from_secs(3600)),
        shards: None,
        extra_devices: Vec::new(),
    }
}

/// `dir` prepared for `config` (fresh, or resumed).
pub fn prepare(dir: &Path, config: &TrainingConfig, resume: bool) -> PreparedRun {
    RunDir::new(dir)
        .prepare(config, resume)
        .expect("a usable run directory and configuration")
}

/// Train 400 / test 100 synthetic digits.
pub fn synthetic_mnist() -> Mnist {
    data::synthetic::mnist(400, 100)
}

/// Writes the synthetic data as the four IDX files in `dir`.
pub fn write_synthetic_idx(dir: &Path) {
    data::synthetic::write_idx_files(&synthetic_mnist(), dir).expect("writable IDX files");
}
