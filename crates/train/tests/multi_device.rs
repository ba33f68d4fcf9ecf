//! Burn's MultiDevice strategy on two local CPU devices (`--devices flex,flex`): the same first
//! update as one device at the same global batch, and a training that learns. The same checks
//! over two `serve-device` processes are in `remote_devices.rs` (feature `remote`).

#![allow(clippy::unwrap_used)]

mod multi;

use burn::config::Config;
use burn::tensor::Device;
use train::MultiDeviceConfig;
use train::read_history;
use train::{Backend, OptimizerKind, SelectedDevice, TrainingConfig};

fn flex() -> SelectedDevice {
    SelectedDevice {
        device: Device::flex(),
        backend: Backend::Flex,
    }
}

/// SGD shows a missing 1/n at once (its update is proportional to the gradient); Adam divides
/// a constant scale out, so it shows what the strategy itself changes.
#[test]
fn two_devices_take_the_same_first_step_as_one() {
    let mnist = multi::step_data();
    for optimizer in [OptimizerKind::Sgd, OptimizerKind::Adam] {
        let dir = tempfile::tempdir().unwrap();
        let init = multi::write_initial_weights(dir.path());
        let config = multi::one_step_config(&init, optimizer);
        let one = dir.path().join("one");
        let two = dir.path().join("two");
        multi::train_on_devices(config.clone(), vec![flex()], &["flex"], &one, &mnist);
        multi::train_on_devices(
            config,
            vec![flex(), flex()],
            &["flex", "flex"],
            &two,
            &mnist,
        );

        let start = multi::initial_weights(&init);
        let difference = multi::relative_update_difference(
            &start,
            &multi::exported_weights(&one),
            &multi::exported_weights(&two),
        );
        println!(
            "{optimizer:?}: first update on 2 devices vs 1, relative difference {difference:.3e}"
        );
        assert!(difference < 1e-3, "{optimizer:?}: {difference}");

        let saved = TrainingConfig::load(two.join("config.json")).unwrap();
        let multi = saved.multi_device.expect("the split is in config.json");
        assert_eq!(multi.per_device_batch_size, multi::STEP_IMAGES / 2);
        assert_eq!(multi.global_batch_size, multi::STEP_IMAGES);
        assert_eq!(multi.loss_scale, 0.5);
    }
}

#[test]
fn two_devices_lower_the_loss_and_export_a_model_infer_loads() {
    let dir = tempfile::tempdir().unwrap();
    let config = TrainingConfig::new(multi::small_net().with_dropout(0.1))
        .with_epochs(3)
        .with_batch_size(32)
        .with_valid_size(80)
        .with_lr(3e-3);
    let mnist = data::synthetic::mnist(400, 100);
    let metrics = multi::train_on_devices(
        config,
        vec![flex(), flex()],
        &["cpu", "cpu"],
        dir.path(),
        &mnist,
    );

    let history = read_history(&dir.path().join("history.jsonl")).unwrap();
    let (first, last) = (history[0].train_loss, history[2].train_loss);
    println!("2 devices: train loss {first:.4} (epoch 1) -> {last:.4} (epoch 3)");
    assert!(last < first * 0.7, "loss did not fall: {history:?}");
    assert!(metrics.test_accuracy > 0.5, "{metrics:?}");
    let predictor = infer::Predictor::load(dir.path().join("model"), &Device::flex()).unwrap();
    assert_eq!(predictor.config().hidden_units, 32);
}

#[test]
fn a_devices_list_that_does_not_match_the_configuration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = TrainingConfig::new(multi::small_net()).with_batch_size(32);
    let two = MultiDeviceConfig::new(
        vec!["cpu".into(), "cpu".into()],
        config.batch_size,
        config.lr,
    )
    .unwrap();
    let run = train::RunDir::new(dir.path())
        .prepare(&config.with_multi_device(Some(two)), false)
        .unwrap();
    let options = train::RunOptions {
        device: flex(),
        progress: train::ProgressStyle::Plain(std::time::Duration::from_secs(3600)),
        shards: None,
        extra_devices: Vec::new(),
    };
    let err = train::train_on(run, &data::synthetic::mnist(100, 10), &options).unwrap_err();
    assert!(err.to_string().contains("1 device(s)"), "{err}");
}

/// `train --devices` with a list it cannot use: one error line, a failing status, nothing written.
#[test]
fn the_binary_rejects_a_bad_devices_list_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let train = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_train"))
            .args(args)
            .args(["--artifact-dir", run.to_str().unwrap(), "--plain"])
            .output()
            .unwrap()
    };
    for (args, expected) in [
        (
            &["--devices", "tpu"][..],
            // Parsed by `train`, not by clap, whose error repeats the whole value (issue 25).
            "--devices tpu: unknown device `tpu`",
        ),
        (&["--devices", "cpu,,cpu"], "empty entry"),
        (
            &["--devices", "cpu,cpu,cpu", "--batch-size", "64"],
            "does not split evenly over 3 devices",
        ),
        (
            &["--devices", "cpu", "--device", "cpu"],
            "cannot be used with",
        ),
    ] {
        let out = train(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!run.exists(), "{args:?} left a run directory");
    }
}
