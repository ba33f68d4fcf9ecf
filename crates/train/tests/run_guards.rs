//! The `train` binary against careless and hostile input: absurd sizes fail fast in one line,
//! `--resume` refuses changed settings and corrupt checkpoints (naming the flag or the file,
//! never panicking), and a resumed run lists each epoch once, NaN included.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use burn::config::Config;
use test_support::copy_dir;
use train::TrainingConfig;
use train::{read_history, write_history};

/// Runs `train` with `args`, killing it if it runs past `limit` (a hang fails the test).
fn train(args: &[&str], limit: Duration) -> Output {
    test_support::output_within(
        Command::new(env!("CARGO_BIN_EXE_train"))
            .args(args)
            .env_remove("MNIST_DIR"),
        limit,
    )
}

/// Fails with exit code 1, one line on stderr containing each of `needles`, no panic.
fn assert_one_line_error(out: &Output, what: &str, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{what}: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{what}: '{needle}' not in {stderr}"
        );
    }
}

#[test]
fn absurd_sizes_are_rejected_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run = run.to_str().unwrap();
    let quick = Duration::from_secs(20);
    for (flag, value, needle) in [
        (
            "--epochs",
            "18446744073709551615",
            "epochs must be at most 10000",
        ),
        ("--epochs", "10001", "epochs must be at most 10000"),
        (
            "--batch-size",
            "18446744073709551615",
            "batch size must be at most",
        ),
        (
            "--workers",
            "18446744073709551615",
            "workers must be at most",
        ),
        (
            "--valid-size",
            "18446744073709551615",
            "valid size must be at most",
        ),
        (
            "--early-stopping",
            "18446744073709551615",
            "patience must be at most",
        ),
        ("--hidden-units", "18446744073709551615", "hidden_units"),
    ] {
        let out = train(&[flag, value, "--artifact-dir", run], quick);
        assert_one_line_error(&out, &format!("{flag} {value}"), &[needle]);
    }
    // A --config whose kernel would take gigabytes: refused before anything is built.
    let mut json: serde_json::Value =
        serde_json::to_value(TrainingConfig::new(model::MnistCnnConfig::new())).unwrap();
    json["model"]["kernel_size"] = 1_000_001.into();
    json["model"]["padding"] = "same".into();
    let config = dir.path().join("huge.json");
    std::fs::write(&config, json.to_string()).unwrap();
    let start = Instant::now();
    let out = train(
        &["--config", config.to_str().unwrap(), "--artifact-dir", run],
        quick,
    );
    assert_one_line_error(&out, "kernel 1,000,001", &["kernel_size"]);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(
        !dir.path().join("run").exists(),
        "nothing may be written for a rejected configuration"
    );
}

/// A finished one-epoch run of the small network on synthetic digits, copied per test.
struct Trained {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    run: PathBuf,
}

fn trained() -> Trained {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let data = root.join("data");
    std::fs::create_dir(&data).unwrap();
    common::write_synthetic_idx(&data);
    let config = TrainingConfig::new(
        model::MnistCnnConfig::new()
            .with_conv1_filters(4)
            .with_conv2_filters(8)
            .with_hidden_units(16),
    )
    .with_epochs(1)
    .with_valid_size(50)
    .with_seed(7);
    let config_path = root.join("saved.json");
    config.save(&config_path).unwrap();
    let run = root.join("run");
    let out = train(
        &[
            "--config",
            config_path.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--artifact-dir",
            run.to_str().unwrap(),
            "--device",
            "cpu",
        ],
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Trained {
        _dir: dir,
        root,
        data,
        run,
    }
}

impl Trained {
    /// `--resume` of a copy of the run named `name`, with `extra` flags.
    fn resume(&self, name: &str, extra: &[&str]) -> (PathBuf, Output) {
        let copy = self.root.join(name);
        copy_dir(&self.run, &copy);
        let mut args = vec![
            "--resume",
            "--artifact-dir",
            copy.to_str().unwrap(),
            "--data-dir",
            self.data.to_str().unwrap(),
            "--device",
            "cpu",
        ];
        args.extend_from_slice(extra);
        let out = train(&args, Duration::from_secs(300));
        (copy, out)
    }
}

#[test]
fn resume_refuses_changes_and_corrupt_checkpoints_and_lists_each_epoch_once() {
    let trained = trained();

    // A changed architecture flag: the flag and both values, nothing trained or written.
    for (name, flags, needles) in [
        (
            "wider",
            &["--hidden-units", "64"][..],
            &["--hidden-units", "64", "16"][..],
        ),
        (
            "leaky",
            &["--activation", "leaky-relu"][..],
            &["--activation", "relu", "leaky-relu"][..],
        ),
        (
            "padding",
            &["--padding", "same"][..],
            &["--padding", "valid", "same"][..],
        ),
        (
            "batch",
            &["--batch-size", "8"][..],
            &["--batch-size", "64", "8"][..],
        ),
    ] {
        let (copy, out) = trained.resume(name, flags);
        assert_one_line_error(&out, name, needles);
        let saved = TrainingConfig::read(&copy.join("config.json")).unwrap();
        assert_eq!(saved.model.hidden_units, 16, "{name}: config.json changed");
    }

    // A corrupt or truncated checkpoint: an error naming the file, not a panic inside Burn.
    let model = |dir: &Path| dir.join("checkpoint/model-1.bpk");
    let bytes = std::fs::read(model(&trained.run)).unwrap();
    for (name, file, content) in [
        (
            "truncated",
            "model-1.bpk",
            bytes[..bytes.len() / 2].to_vec(),
        ),
        (
            "garbage-model",
            "model-1.bpk",
            b"not a burnpack file".to_vec(),
        ),
        ("garbage-optim", "optim-1.bpk", vec![0u8; 64]),
        ("garbage-scheduler", "scheduler-1.bpk", b"\x00junk".to_vec()),
    ] {
        let copy = trained.root.join(name);
        copy_dir(&trained.run, &copy);
        std::fs::write(copy.join("checkpoint").join(file), content).unwrap();
        let out = train(
            &[
                "--resume",
                "--artifact-dir",
                copy.to_str().unwrap(),
                "--data-dir",
                trained.data.to_str().unwrap(),
                "--device",
                "cpu",
                "--epochs",
                "2",
            ],
            Duration::from_secs(300),
        );
        assert_one_line_error(&out, name, &[&format!("checkpoint/{file}")]);
    }

    // Killed after epoch 2's history line, before its checkpoint: the line is stale. Epoch 1
    // holds a NaN, as a diverged value is written; the resume reads it and lists each epoch
    // once.
    let copy = trained.root.join("stale");
    copy_dir(&trained.run, &copy);
    let history_path = copy.join("history.jsonl");
    let mut history = read_history(&history_path).unwrap();
    history[0].train_accuracy = f64::NAN;
    let mut stale = history[0].clone();
    stale.epoch = 2;
    history.push(stale);
    write_history(&history_path, &history).unwrap();
    assert!(
        std::fs::read_to_string(&history_path)
            .unwrap()
            .contains("\"NaN\"")
    );
    let out = train(
        &[
            "--resume",
            "--artifact-dir",
            copy.to_str().unwrap(),
            "--data-dir",
            trained.data.to_str().unwrap(),
            "--device",
            "cpu",
            "--epochs",
            "3",
        ],
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resumed = read_history(&history_path).unwrap();
    assert_eq!(
        resumed.iter().map(|r| r.epoch).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(resumed[0].train_accuracy.is_nan());
    assert!(
        resumed[1].train_accuracy.is_finite(),
        "epoch 2 was trained again"
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(copy.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["epochs"], 3, "{metrics}");
    // The longer run is what config.json now says.
    assert_eq!(
        TrainingConfig::read(&copy.join("config.json"))
            .unwrap()
            .epochs,
        3
    );
}

/// Runs started at the same moment without `--artifact-dir` each get a directory of their own
/// (the timestamp, then `-2`, `-3` within one second), each with its own `config.json`.
#[test]
fn simultaneous_runs_never_share_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-data");
    std::fs::create_dir(&empty).unwrap();
    // Each run claims its directory, then stops at the missing data.
    let children: Vec<_> = (0..3)
        .map(|seed| {
            Command::new(env!("CARGO_BIN_EXE_train"))
                .current_dir(dir.path())
                .args(["--data-dir", empty.to_str().unwrap()])
                .args(["--seed", &seed.to_string()])
                .env_remove("MNIST_DIR")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        child.wait_with_output().unwrap();
    }
    let runs: Vec<PathBuf> = std::fs::read_dir(dir.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 3, "{runs:?}");
    let mut seeds: Vec<u64> = runs
        .iter()
        .map(|run| TrainingConfig::read(&run.join("config.json")).unwrap().seed)
        .collect();
    seeds.sort_unstable();
    assert_eq!(
        seeds,
        [0, 1, 2],
        "each run wrote its own config.json: {runs:?}"
    );
}
