//! Training on small synthetic data with the real Learner on the flex backend.

mod common;

use burn::tensor::Device;
use model::MnistCnnConfig;
use train::read_history;

use train::{
    ArtifactError, Backend, LrSchedule, OptimizerConfig, OptimizerKind, RunDir, RunError,
    RunOptions, SelectedDevice, TrainingConfig, train_on,
};

/// The flex device's random generator is global to the process: trainings running at the same
/// time (parallel tests) draw from it in turn, and the loss thresholds below then fail now and
/// then (measured: 2 runs in 12 of this binary before). The tests of this file train one at a
/// time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn options() -> RunOptions {
    common::run_options(SelectedDevice {
        device: Device::flex(),
        backend: Backend::Flex,
    })
}

fn fresh_run(
    config: &TrainingConfig,
    dir: &std::path::Path,
) -> Result<train::RunMetrics, RunError> {
    let run = common::prepare(dir, config, false);
    train_on(run, &common::synthetic_mnist(), &options())
}

#[test]
fn training_lowers_the_loss_and_leaves_every_artifact() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let config = common::small_config();
    let metrics = fresh_run(&config, dir.path()).unwrap();

    let history = read_history(&dir.path().join("history.jsonl")).unwrap();
    assert_eq!(
        history.iter().map(|r| r.epoch).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(
        history[2].train_loss < history[0].train_loss * 0.7,
        "loss did not fall: {history:?}"
    );
    assert!(history[2].valid_accuracy > 50.0, "{history:?}");
    // The cosine schedule decays the rate every epoch.
    assert!(
        history[0].lr > history[1].lr && history[1].lr > history[2].lr,
        "{history:?}"
    );

    assert_eq!(metrics.test_images, 100);
    assert!(metrics.test_accuracy > 0.5, "{metrics:?}");
    assert_eq!(metrics.epochs, 3);
    assert_eq!(metrics.backend, Backend::Flex);
    for file in [
        "config.json",
        "history.jsonl",
        "curves.png",
        "metrics.json",
        "checkpoint/model-3.bpk",
        "checkpoint/optim-3.bpk",
        "checkpoint/scheduler-3.bpk",
        "model/model.bpk",
        "model/config.json",
        "model/metrics.json",
        "train/epoch-1/Loss.log",
    ] {
        assert!(dir.path().join(file).is_file(), "missing {file}");
    }
    // The exported model config is the model part of the training config, nothing else.
    let model_config: MnistCnnConfig =
        burn::config::Config::load(dir.path().join("model/config.json")).unwrap();
    assert_eq!(model_config, config.model);

    // The exported weights are the checkpoint of the epoch with the lowest validation loss.
    let best = train::best_epoch(&history).unwrap();
    assert_eq!(metrics.selected_epoch, best.epoch);
    assert_eq!(metrics.valid_accuracy, best.valid_accuracy);
    let device = Device::flex();
    let run = RunDir::new(dir.path());
    let from_checkpoint = train::load_checkpoint(&run, best.epoch, &config.model, &device).unwrap();
    let exported = infer::Predictor::load(run.model_dir(), &device).unwrap();
    assert_eq!(weights(&from_checkpoint), weights(exported.net()));
}

/// Every weight of the network, flattened.
fn weights(net: &model::MnistCnn) -> Vec<f32> {
    let convs = [net.conv1.weight.val(), net.conv2.weight.val()]
        .map(|w| w.into_data().try_into_vec::<f32>().expect("f32 weights"));
    let denses = [net.fc1.weight.val(), net.fc2.weight.val()]
        .map(|w| w.into_data().try_into_vec::<f32>().expect("f32 weights"));
    [convs, denses].concat().concat()
}

/// `workers: 0` (`--workers 0`): Burn's single-threaded loader builds each batch on the training
/// thread when the step asks for it; the run trains as with a worker thread.
#[test]
fn batches_built_on_the_training_thread_train_too() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let config = common::small_config().with_workers(0);
    fresh_run(&config, dir.path()).unwrap();
    let history = read_history(&dir.path().join("history.jsonl")).unwrap();
    assert_eq!(history.len(), 3, "{history:?}");
    assert!(
        history[2].train_loss < history[0].train_loss * 0.7,
        "loss did not fall: {history:?}"
    );
}

/// Selection never falls back to another epoch: when the history makes an epoch best whose
/// checkpoint is gone, the run fails and exports nothing.
#[test]
fn a_missing_best_checkpoint_is_an_error() {
    let _serial = serial();
    let config = common::small_config().with_epochs(2);
    let dir = tempfile::tempdir().unwrap();
    fresh_run(&config, dir.path()).unwrap();
    // Make epoch 1 the best in the history, then remove its checkpoint (if Burn kept it).
    let history_path = dir.path().join("history.jsonl");
    let mut history = read_history(&history_path).unwrap();
    history[0].valid_loss = 0.0;
    let lines: Vec<String> = history
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    std::fs::write(&history_path, lines.concat()).unwrap();
    let _ = std::fs::remove_file(dir.path().join("checkpoint/model-1.bpk"));
    std::fs::remove_dir_all(dir.path().join("model")).unwrap();

    let run = common::prepare(dir.path(), &config.with_epochs(3), true);
    let err = train_on(run, &common::synthetic_mnist(), &options()).unwrap_err();
    assert!(
        matches!(
            err,
            RunError::Artifacts(ArtifactError::MissingCheckpoint { epoch: 1, .. })
        ),
        "{err:?}"
    );
    assert!(!dir.path().join("model/model.bpk").exists());
}

#[test]
fn resume_continues_from_the_last_checkpoint() {
    let _serial = serial();
    let config = common::small_config();
    let uninterrupted = tempfile::tempdir().unwrap();
    fresh_run(&config, uninterrupted.path()).unwrap();
    let full = read_history(&uninterrupted.path().join("history.jsonl")).unwrap();

    // Simulate a run killed during epoch 3: epochs 1-2 checkpointed, nothing of epoch 3 kept.
    let dir = tempfile::tempdir().unwrap();
    fresh_run(&config, dir.path()).unwrap();
    for kind in ["model", "optim", "scheduler"] {
        std::fs::remove_file(dir.path().join(format!("checkpoint/{kind}-3.bpk"))).unwrap();
    }
    let history_path = dir.path().join("history.jsonl");
    let first_two: Vec<String> = std::fs::read_to_string(&history_path)
        .unwrap()
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&history_path, first_two.concat()).unwrap();
    std::fs::remove_dir_all(dir.path().join("model")).unwrap();

    assert_eq!(RunDir::new(dir.path()).last_checkpoint().unwrap(), 2);
    let run = common::prepare(dir.path(), &config, true);
    assert_eq!(run.resume_from(), Some(2));
    let metrics = train_on(run, &common::synthetic_mnist(), &options()).unwrap();
    let resumed = read_history(&history_path).unwrap();
    assert_eq!(
        resumed.iter().map(|r| r.epoch).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(metrics.epochs, 3);
    // The scheduler state came back: epoch 3 ends at the same point of the cosine curve.
    assert!(
        (resumed[2].lr - full[2].lr).abs() < 1e-12,
        "{} vs {}",
        resumed[2].lr,
        full[2].lr
    );
    // The weights came back: epoch 3 starts from trained weights, not from scratch.
    assert!(
        resumed[2].train_loss < full[0].train_loss * 0.7,
        "{resumed:?}"
    );
    assert!(dir.path().join("model/model.bpk").is_file());
}

/// `--warmup-epochs`: saved in config.json, each epoch's last learning rate is the warm-up /
/// cosine formula's, and a resumed run continues the same schedule (the sequential scheduler's
/// step and its two parts come back from the checkpoint).
#[test]
fn the_warmup_is_saved_followed_and_resumed() {
    let _serial = serial();
    // 320 training images in batches of 32: 10 steps an epoch, 30 in all, 15 of warm-up.
    let config = common::small_config().with_warmup_epochs(Some(1.5));
    let steps = config.device_split(1).unwrap().steps_per_epoch(400 - 80);
    assert_eq!(train::warmup_steps(&config, steps), 15);
    let dir = tempfile::tempdir().unwrap();
    fresh_run(&config, dir.path()).unwrap();
    let saved = TrainingConfig::read(&dir.path().join("config.json")).unwrap();
    assert_eq!(saved.warmup_epochs, Some(1.5));
    let history_path = dir.path().join("history.jsonl");
    let full = read_history(&history_path).unwrap();
    // The history's rate is the epoch's mean (Burn's learning-rate metric, averaged like the
    // other metrics over the epoch's steps).
    let epoch_mean = |epoch: usize| {
        let rates = ((epoch - 1) * steps..epoch * steps)
            .map(|step| train::expected_lr(&config, steps, step));
        rates.sum::<f64>() / steps as f64
    };
    for record in &full {
        let want = epoch_mean(record.epoch);
        assert!(
            (record.lr - want).abs() < 1e-9 * want,
            "epoch {}: {} vs {want}",
            record.epoch,
            record.lr
        );
    }
    // Epoch 1 is all ramp: from lr/100 up, steps 0-9 of 15.
    assert!((full[0].lr - (3e-5 + (3e-3 - 3e-5) * 4.5 / 15.0)).abs() < 1e-12);

    // Killed after epoch 2, resumed: epoch 3 ends where the uninterrupted schedule does.
    for kind in ["model", "optim", "scheduler"] {
        std::fs::remove_file(dir.path().join(format!("checkpoint/{kind}-3.bpk"))).unwrap();
    }
    let first_two: Vec<String> = std::fs::read_to_string(&history_path)
        .unwrap()
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&history_path, first_two.concat()).unwrap();
    std::fs::remove_dir_all(dir.path().join("model")).unwrap();
    let run = common::prepare(dir.path(), &saved, true);
    train_on(run, &common::synthetic_mnist(), &options()).unwrap();
    let resumed = read_history(&history_path).unwrap();
    assert!(
        (resumed[2].lr - full[2].lr).abs() < 1e-12,
        "{} vs {}",
        resumed[2].lr,
        full[2].lr
    );
    // Another warm-up is refused on --resume: it would change the schedule being continued.
    let other = saved.clone().with_warmup_epochs(Some(0.5));
    let err = RunDir::new(dir.path()).prepare(&other, true).unwrap_err();
    assert!(err.to_string().contains("--warmup-epochs is 0.5"), "{err}");
}

#[test]
fn a_diverging_loss_stops_training_without_writing_a_model() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let config = common::small_config()
        .with_optimizer(OptimizerConfig::new(OptimizerKind::Sgd))
        .with_lr_schedule(LrSchedule::Constant)
        .with_lr(1e12);
    let err = fresh_run(&config, dir.path()).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, RunError::NonFiniteLoss { epoch: 1, .. }),
        "{message}"
    );
    assert!(message.contains("epoch 1, step"), "{message}");
    assert!(!dir.path().join("model/model.bpk").exists());
}
