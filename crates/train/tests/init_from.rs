#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! `--init-from`: a run starts from the given weights; weights of another network, or that do
//! not fit, are refused before training, by the library and by the CLI.

mod common;

use std::path::Path;
use std::process::Command;

use burn::config::Config;
use burn::module::Module;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};
use burn::tensor::{Device, Distribution, Tensor};
use model::{MnistCnn, MnistCnnConfig};
use train::InitError;
use train::{Backend, RunError, SelectedDevice, TrainingConfig, train_on};

fn options() -> train::RunOptions {
    common::run_options(SelectedDevice {
        device: Device::flex(),
        backend: Backend::Flex,
    })
}

/// `net` of `config` saved as a model directory (`model.bpk` + `config.json`) in `dir`.
fn save_model_dir(net: MnistCnn, config: &MnistCnnConfig, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    net.into_record().save(dir.join("model.bpk")).unwrap();
    config.save(dir.join("config.json")).unwrap();
}

fn logits(net: &MnistCnn, images: &Tensor<4>) -> Vec<f32> {
    net.forward(images.clone())
        .into_data()
        .try_into_vec::<f32>()
        .unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Trains one epoch at a learning rate so small that the weights stay where they started, from
/// `start` saved by `save` (which returns the path for `--init-from`): the trained network
/// computes what `start` computes.
fn run_starts_from(save: impl FnOnce(&MnistCnn, &MnistCnnConfig, &Path) -> std::path::PathBuf) {
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let config = common::small_config();
    let start = config.model.init(&device);
    let weights = save(&start, &config.model, dir.path());

    let config = config
        .with_epochs(1)
        .with_lr(1e-12)
        .with_init_from(Some(weights.clone()));
    let run = common::prepare(&dir.path().join("run"), &config, false);
    train_on(run, &common::synthetic_mnist(), &options()).unwrap();
    let (trained, _) = infer::load_model(
        &dir.path().join("run/model"),
        &MnistCnnConfig::new(),
        &device,
    )
    .unwrap();
    let images = Tensor::<4>::random([4, 1, 28, 28], Distribution::Default, &device);
    let diff = max_abs_diff(&logits(&trained, &images), &logits(&start, &images));
    assert!(diff < 1e-4, "moved by {diff}");
    // A fresh initialisation would be another function altogether.
    let fresh = common::small_config().model.init(&device);
    assert!(max_abs_diff(&logits(&fresh, &images), &logits(&start, &images)) > 1e-3);
    // The run's config.json says where it started.
    let saved = TrainingConfig::load(dir.path().join("run/config.json")).unwrap();
    assert_eq!(saved.init_from, Some(weights));
}

#[test]
fn a_run_starts_from_the_given_weights() {
    run_starts_from(|net, config, dir| {
        save_model_dir(net.clone(), config, &dir.join("start"));
        dir.join("start")
    });
}

/// `--init-from model.onnx` (infer's `export` feature: the tests have it; `cargo run -p train`
/// needs `--features onnx`).
#[test]
fn a_run_starts_from_an_onnx_file() {
    run_starts_from(|net, config, dir| {
        let file = dir.join("start.onnx");
        let bytes = infer::export::onnx_bytes(net, config, &Device::flex()).unwrap();
        std::fs::write(&file, bytes).unwrap();
        file
    });
}

#[test]
fn weights_of_another_network_are_refused() {
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let config = common::small_config();
    let other = config.model.clone().with_hidden_units(64);
    save_model_dir(other.init(&device), &other, &dir.path().join("other"));
    let run = common::prepare(
        &dir.path().join("run"),
        &config
            .clone()
            .with_init_from(Some(dir.path().join("other"))),
        false,
    );
    let err = train_on(run, &common::synthetic_mnist(), &options()).unwrap_err();
    assert!(
        matches!(&err, RunError::Init(InitError::Architecture { differences, .. })
            if differences.contains("hidden_units: 64")),
        "{err}"
    );

    // Weights without a configuration (here safetensors in PyTorch's layout) are read as the
    // training configuration's network: their shapes must fit it.
    let file = dir.path().join("other.safetensors");
    let mut store = SafetensorsStore::from_file(&file).with_to_adapter(BurnToPyTorchAdapter);
    other.init(&device).save_into(&mut store).unwrap();
    let run = common::prepare(
        &dir.path().join("run2"),
        &config.with_init_from(Some(file)),
        false,
    );
    let err = train_on(run, &common::synthetic_mnist(), &options()).unwrap_err();
    assert!(
        matches!(&err, RunError::Init(InitError::Load(infer::InferError::TensorShape { tensor, .. }))
            if tensor == "fc1.weight"),
        "{err}"
    );
}

#[test]
fn the_cli_refuses_bad_weights_before_making_the_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("weights.pt");
    std::fs::write(&weights, b"not a checkpoint").unwrap();
    let run = dir.path().join("run");
    let out = Command::new(env!("CARGO_BIN_EXE_train"))
        .args(["--init-from", weights.to_str().unwrap()])
        .args(["--artifact-dir", run.to_str().unwrap(), "--epochs", "1"])
        // The CPU, as the other CLI tests: with `wgpu` compiled in, probing the GPU lets the
        // Vulkan driver print its own lines on stderr.
        .args(["--device", "cpu"])
        .env_remove("MNIST_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("weights.pt: not a readable PyTorch state_dict"),
        "{stderr}"
    );
    assert!(!run.exists());
}
