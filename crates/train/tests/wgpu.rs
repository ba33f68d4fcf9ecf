//! The GPU path (`cargo test -p train --features wgpu`): on a machine without a GPU this runs on
//! Mesa's lavapipe, a real Vulkan implementation on the CPU.
#![cfg(feature = "wgpu")]

mod common;

use burn::tensor::Device;
use train::read_history;
use train::{Backend, train_on};
use train::{DeviceChoice, select};

#[test]
fn wgpu_trains_and_its_record_loads_on_flex() {
    let gpu = select(DeviceChoice::Gpu).expect("a wgpu adapter (install mesa-vulkan-drivers)");
    println!("wgpu adapter: {gpu}");
    assert_eq!(gpu.backend, Backend::Wgpu);

    let dir = tempfile::tempdir().unwrap();
    let config = common::small_config().with_epochs(2);
    let run = common::prepare(dir.path(), &config, false);
    let mnist = common::synthetic_mnist();
    let metrics = train_on(run, &mnist, &common::run_options(gpu)).unwrap();
    assert_eq!(metrics.backend, Backend::Wgpu);
    let history = read_history(&dir.path().join("history.jsonl")).unwrap();
    assert!(history[1].train_loss < history[0].train_loss, "{history:?}");

    // Records are backend-independent: the wgpu-trained model predicts the same on flex.
    let on_flex = infer::Predictor::load(dir.path().join("model"), &Device::flex()).unwrap();
    let confusion = infer::evaluate(on_flex.net(), &mnist.test, on_flex.device()).unwrap();
    assert!(
        (confusion.accuracy() - metrics.test_accuracy).abs() < 0.011,
        "flex {} vs wgpu {}",
        confusion.accuracy(),
        metrics.test_accuracy
    );
}
