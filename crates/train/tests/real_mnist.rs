//! One epoch on the real MNIST (`MNIST_DIR`), on flex. Ignored by default; `.ci/run` runs it.

use std::time::Duration;

use burn::tensor::Device;
use model::MnistCnnConfig;
use train::{Backend, ProgressStyle, RunDir, RunOptions, SelectedDevice, TrainingConfig, train};

#[test]
#[ignore = "needs real MNIST in MNIST_DIR; about a minute"]
fn one_epoch_on_flex_reaches_98_percent() {
    let mnist_dir = std::env::var_os("MNIST_DIR").expect("MNIST_DIR must point at the MNIST files");
    let dir = tempfile::tempdir().unwrap();
    let config = TrainingConfig::new(MnistCnnConfig::new()).with_epochs(1);
    let run = RunDir::new(dir.path().join("run"))
        .prepare(&config, false)
        .unwrap();
    let options = RunOptions {
        device: SelectedDevice {
            device: Device::flex(),
            backend: Backend::Flex,
        },
        progress: ProgressStyle::Plain(Duration::from_secs(15)),
        shards: None,
        extra_devices: Vec::new(),
    };
    let metrics = train(run, Some(std::path::Path::new(&mnist_dir)), &options).unwrap();
    println!("one epoch: {metrics:?}");
    assert_eq!(metrics.test_images, 10_000);
    assert!(
        metrics.test_accuracy >= 0.98,
        "test accuracy {}",
        metrics.test_accuracy
    );
}
