//! The deprecated-but-supported ndarray backend trains the same model code
//! (`cargo test -p train --features ndarray`).
#![cfg(feature = "ndarray")]

mod common;

use std::time::Duration;

use model::MnistCnnConfig;
use train::history::read_history;
use train::{ProgressStyle, RunDir, RunOptions, TrainingConfig, train_on};

#[test]
fn ndarray_trains_and_lowers_the_loss() {
    let device = train::device::named("ndarray").unwrap();
    assert_eq!(device.backend, "ndarray");
    let dir = tempfile::tempdir().unwrap();
    let config = TrainingConfig::new(
        MnistCnnConfig::new()
            .with_conv1_filters(4)
            .with_conv2_filters(8)
            .with_hidden_units(32)
            .with_dropout(0.1),
    )
    .with_epochs(2)
    .with_batch_size(32)
    .with_valid_size(80)
    .with_lr(3e-3);
    let options = RunOptions {
        run_dir: RunDir::new(dir.path()),
        device,
        resume: false,
        progress: ProgressStyle::Plain(Duration::from_secs(3600)),
    };
    options.run_dir.prepare(&config, false).unwrap();
    let metrics = train_on(&config, &common::synthetic_mnist(), &options).unwrap();
    assert_eq!(metrics.backend, "ndarray");
    let history = read_history(&dir.path().join("history.jsonl")).unwrap();
    assert!(history[1].train_loss < history[0].train_loss, "{history:?}");
}
