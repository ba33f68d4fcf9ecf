//! Hostile input, round 3 (issue 25), against the `train` and `curves` binaries: FIFOs where a
//! file is expected, a history holding a loss of 1.7e308, optimiser settings out of range,
//! misspelt and unknown configuration keys, old configurations, a `multi_device` block without
//! `--devices`, and user values too long to repeat. Each is one error line (or a note) within a
//! time limit, never a hang, and nothing is left behind.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use burn::config::Config;
use test_support::copy_dir;
use train::TrainingConfig;
use train::{read_history, write_history};

/// Runs the binary `exe` with `args`, killing it if it runs past `limit` (a hang fails the
/// test).
fn run(exe: &str, args: &[&std::ffi::OsStr], limit: Duration) -> Output {
    test_support::output_within(Command::new(exe).args(args).env_remove("MNIST_DIR"), limit)
}

fn train(args: &[&str]) -> Output {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    run(env!("CARGO_BIN_EXE_train"), &args, Duration::from_secs(300))
}

fn curves(args: &[&str]) -> Output {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    run(
        env!("CARGO_BIN_EXE_curves"),
        &args,
        Duration::from_secs(120),
    )
}

/// Fails with exit code 1, one line on stderr containing each of `needles`, no panic.
fn assert_one_line_error(out: &Output, what: &str, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{what}: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{what}: '{needle}' not in {stderr}"
        );
    }
    stderr
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success());
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn small_config() -> TrainingConfig {
    TrainingConfig::new(
        model::MnistCnnConfig::new()
            .with_conv1_filters(4)
            .with_conv2_filters(8)
            .with_hidden_units(16),
    )
    .with_epochs(1)
    .with_valid_size(50)
    .with_seed(7)
}

/// `config` as JSON with `edit` applied to its value.
fn edited(config: &TrainingConfig, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut value = serde_json::to_value(config).unwrap();
    edit(&mut value);
    serde_json::to_string_pretty(&value).unwrap()
}

#[test]
fn config_files_are_checked_field_by_field_before_the_run_directory_exists() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let run_dir = dir.path().join("run");
    let file = dir.path().join("bad.json");
    let refused = |json: String, needles: &[&str]| {
        std::fs::write(&file, json).unwrap();
        let out = train(&["--config", s(&file), "--artifact-dir", s(&run_dir)]);
        let mut needles = needles.to_vec();
        needles.push("bad.json");
        let stderr = assert_one_line_error(&out, needles[0], &needles);
        assert!(!run_dir.exists(), "{stderr}: the run directory was made");
    };
    refused(
        edited(&config, |v| v["optimizer"]["beta_1"] = 2.into()),
        &["optimizer.beta_1 must be in [0, 1), got 2"],
    );
    refused(
        edited(&config, |v| v["optimizer"]["epsilon"] = (-1).into()),
        &["optimizer.epsilon must be > 0"],
    );
    refused(
        edited(&config, |v| v["optimizer"]["beta_2"] = 1e40.into()),
        &["optimizer.beta_2 must be a finite number"],
    );
    refused(
        edited(&config, |v| v["epochs"] = 0.into()),
        &["epochs must be at least 1"],
    );
    refused(
        edited(&config, |v| v["epochs"] = 1_000_000.into()),
        &["epochs must be at most"],
    );
    refused(
        edited(&config, |v| v["epoch"] = 3.into()),
        &[r#"unknown key "epoch" (did you mean "epochs"?)"#],
    );
    refused(
        edited(&config, |v| v["learning_rate"] = 0.1.into()),
        &[r#"unknown key "learning_rate" (did you mean "lr"?)"#],
    );
    refused(
        edited(&config, |v| v["model"]["dropuot"] = 0.1.into()),
        &[r#"unknown key "model.dropuot" (did you mean "model.dropout"?)"#],
    );
    refused(
        edited(&config, |v| v["optimizer"] = "rmsprop".into()),
        &[r#"{"kind": "adam"}"#],
    );
    // A value of a megabyte is quoted short.
    std::fs::write(
        &file,
        edited(&config, |v| v["x".repeat(100_000)] = 1.into()),
    )
    .unwrap();
    let out = train(&["--config", s(&file), "--artifact-dir", s(&run_dir)]);
    let stderr = assert_one_line_error(&out, "long key", &["more characters"]);
    assert!(stderr.len() < 500, "{} bytes", stderr.len());
}

#[test]
fn long_device_lists_are_quoted_short() {
    let list = vec!["cpu"; 10_000].join(",");
    let out = train(&["--devices", &list, "--epochs", "1"]);
    let stderr = assert_one_line_error(
        &out,
        "10,000 devices",
        &["10000 devices", "more characters"],
    );
    assert!(stderr.len() < 400, "{} bytes: {stderr}", stderr.len());
    let unknown = format!("cpu,{}", "z".repeat(100_000));
    let out = train(&["--devices", &unknown]);
    let stderr = assert_one_line_error(&out, "long entry", &["unknown device"]);
    assert!(stderr.len() < 500, "{} bytes", stderr.len());
}

/// The old configurations' `"optimizer": "adam"` is read as Adam with its defaults; a
/// `multi_device` block without `--devices` is a note (the run trains on one device). The data
/// directory is missing, so each run stops at the data, after the configuration was accepted.
#[test]
fn old_optimizer_strings_and_multi_device_blocks_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config().with_batch_size(64);
    let file = dir.path().join("old.json");
    let missing = dir.path().join("no-data");
    std::fs::write(&file, edited(&config, |v| v["optimizer"] = "adam".into())).unwrap();
    let read = TrainingConfig::read(&file).unwrap();
    assert_eq!(read, config);
    let multi = train::MultiDeviceConfig::new(
        vec!["cpu".into(), "cpu".into()],
        config.batch_size,
        config.lr,
    )
    .unwrap();
    std::fs::write(
        &file,
        edited(&config, |v| {
            v["multi_device"] = serde_json::to_value(&multi).unwrap()
        }),
    )
    .unwrap();
    let out = train(&[
        "--config",
        s(&file),
        "--artifact-dir",
        s(&dir.path().join("run")),
        "--data-dir",
        s(&missing),
        "--device",
        "cpu",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "was trained on 2 devices (cpu,cpu); without --devices this run trains on one device"
        ),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = TrainingConfig::load(dir.path().join("run/config.json")).unwrap();
    assert_eq!(written.multi_device, None);
}

/// A finished one-epoch run of the small network on synthetic digits.
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
    let config_path = root.join("saved.json");
    small_config().save(&config_path).unwrap();
    let run = root.join("run");
    let out = train(&[
        "--config",
        s(&config_path),
        "--data-dir",
        s(&data),
        "--artifact-dir",
        s(&run),
        "--device",
        "cpu",
    ]);
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

#[test]
fn fifos_huge_losses_and_clobbering_outputs_neither_hang_nor_destroy() {
    let trained = trained();
    let resume = |copy: &Path, epochs: &str| {
        train(&[
            "--resume",
            "--artifact-dir",
            s(copy),
            "--data-dir",
            s(&trained.data),
            "--device",
            "cpu",
            "--epochs",
            epochs,
        ])
    };

    // FIFOs: `--config`, `curves`, and a resumed run's history.
    let fifo = trained.root.join("fifo");
    mkfifo(&fifo);
    let out = train(&[
        "--config",
        s(&fifo),
        "--artifact-dir",
        s(&trained.root.join("x")),
    ]);
    assert_one_line_error(&out, "--config FIFO", &["fifo", "not a regular file"]);
    let out = curves(&[s(&fifo)]);
    assert_one_line_error(&out, "curves FIFO", &["not a regular file"]);
    let copy = trained.root.join("fifo-history");
    copy_dir(&trained.run, &copy);
    std::fs::remove_file(copy.join("history.jsonl")).unwrap();
    mkfifo(&copy.join("history.jsonl"));
    let out = resume(&copy, "2");
    assert_one_line_error(
        &out,
        "resume FIFO",
        &["history.jsonl", "not a regular file"],
    );

    // A loss of 1.7e308: `curves` draws it, and a resumed run trains, checkpoints and exports.
    let copy = trained.root.join("huge-loss");
    copy_dir(&trained.run, &copy);
    let history = copy.join("history.jsonl");
    let mut records = read_history(&history).unwrap();
    records[0].train_loss = 1.7e308;
    records[0].valid_loss = 1.7e308;
    write_history(&history, &records).unwrap();
    let out = curves(&[s(&history)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = resume(&copy, "2");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(copy.join("checkpoint/model-2.bpk").is_file());
    assert_eq!(read_history(&history).unwrap().len(), 2);

    // `curves --out`: the history itself is refused; a directory leaves nothing behind.
    let before = std::fs::read(&history).unwrap();
    let same = copy.join(".").join("history.jsonl");
    let out = curves(&[s(&history), "--out", s(&same)]);
    assert_one_line_error(&out, "--out history", &["the output is the history itself"]);
    assert_eq!(std::fs::read(&history).unwrap(), before);
    let names = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    let listed = names(&copy);
    let out_dir = copy.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = curves(&[s(&history), "--out", s(&out_dir)]);
    assert_one_line_error(&out, "--out directory", &["out"]);
    let mut expected = listed.clone();
    expected.push("out".into());
    expected.sort();
    assert_eq!(names(&copy), expected, "a scratch file was left behind");
}
