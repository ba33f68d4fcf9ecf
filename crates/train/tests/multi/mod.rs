//! What the multi-device tests share: a one-step training from fixed weights on given devices,
//! read back through `infer`, and the measure of how far two such first updates are apart.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use burn::config::Config;
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use data::Mnist;
use model::{MnistCnn, MnistCnnConfig};
use train::MultiDeviceConfig;
use train::{
    LrSchedule, OptimizerConfig, OptimizerKind, ProgressStyle, RunDir, RunMetrics, RunOptions,
    SelectedDevice, TrainingConfig, train_on,
};

/// Training images of the one-step runs: exactly one global batch, so that one epoch is one
/// optimiser step on one device and on two (each half of it), whatever the shuffling.
pub const STEP_IMAGES: usize = 96;
const VALID_IMAGES: usize = 32;

/// A network small enough to train in a second; no dropout, so that the devices' random
/// streams cannot make two runs differ.
pub fn small_net() -> MnistCnnConfig {
    MnistCnnConfig::new()
        .with_conv1_filters(4)
        .with_conv2_filters(8)
        .with_hidden_units(32)
        .with_dropout(0.0)
}

/// Synthetic digits: [`STEP_IMAGES`] to train on (plus the validation split), 64 to test.
pub fn step_data() -> Mnist {
    data::synthetic::mnist(STEP_IMAGES + VALID_IMAGES, 64)
}

/// Writes a random initialisation of [`small_net`] as a model directory (`model.bpk` and its
/// `config.json`, as `train` exports) in `dir/init`: the start of every run.
pub fn write_initial_weights(dir: &Path) -> PathBuf {
    let init = dir.join("init");
    std::fs::create_dir_all(&init).unwrap();
    let net = small_net();
    net.init(&Device::flex())
        .into_record()
        .save(init.join("model.bpk"))
        .unwrap();
    net.save(init.join("config.json")).unwrap();
    init
}

/// One epoch of one optimiser step over [`STEP_IMAGES`] images, from `init`.
pub fn one_step_config(init: &Path, optimizer: OptimizerKind) -> TrainingConfig {
    TrainingConfig::new(small_net())
        .with_epochs(1)
        .with_batch_size(STEP_IMAGES)
        .with_valid_size(VALID_IMAGES)
        .with_lr(if optimizer == OptimizerKind::Sgd {
            0.05
        } else {
            3e-3
        })
        .with_optimizer(OptimizerConfig::new(optimizer))
        .with_lr_schedule(LrSchedule::Constant)
        .with_init_from(Some(init.to_path_buf()))
}

/// Trains `config` on `devices` (the first the main one) into `dir`, recording the split in the
/// configuration as the `train` binary does.
pub fn train_on_devices(
    config: TrainingConfig,
    devices: Vec<SelectedDevice>,
    names: &[&str],
    dir: &Path,
    mnist: &Mnist,
) -> RunMetrics {
    let config = if devices.len() > 1 {
        let names = names.iter().map(ToString::to_string).collect();
        let multi = MultiDeviceConfig::new(names, config.batch_size, config.lr).unwrap();
        config.with_multi_device(Some(multi))
    } else {
        config
    };
    let run = RunDir::new(dir).prepare(&config, false).unwrap();
    let mut devices = devices.into_iter();
    let options = RunOptions {
        device: devices.next().unwrap(),
        progress: ProgressStyle::Plain(Duration::from_secs(3600)),
        shards: None,
        extra_devices: devices.collect(),
    };
    train_on(run, mnist, &options).unwrap()
}

/// The exported model of the run in `dir`, loaded by `infer` as any user would, on the CPU.
pub fn exported_weights(dir: &Path) -> Vec<f32> {
    let predictor = infer::Predictor::load(dir.join("model"), &Device::flex()).unwrap();
    weights(predictor.net())
}

/// Every parameter of `net`, flattened in module order.
pub fn weights(net: &MnistCnn) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.extend(
                param
                    .val()
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .unwrap(),
            );
        }
    }
    let mut collect = Collect(Vec::new());
    net.visit(&mut collect);
    collect.0
}

/// The initial weights of `init`.
pub fn initial_weights(init: &Path) -> Vec<f32> {
    let (net, _) = infer::load_model(init, &small_net(), &Device::flex()).unwrap();
    weights(&net)
}

/// How far update `b - init` is from update `a - init`: the largest difference of any weight,
/// relative to the largest change of any weight in `a`.
pub fn relative_update_difference(init: &[f32], a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(init.len(), a.len());
    assert_eq!(init.len(), b.len());
    let largest = |it: &mut dyn Iterator<Item = f32>| it.fold(0f32, |m, x| m.max(x.abs()));
    let update = largest(&mut init.iter().zip(a).map(|(i, a)| a - i));
    let apart = largest(&mut a.iter().zip(b).map(|(a, b)| a - b));
    assert!(update > 0.0, "the first step changed nothing");
    f64::from(apart) / f64::from(update)
}
