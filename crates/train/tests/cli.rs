//! The `train` binary: bad input fails fast with one clear line; `--config` reruns a run.

mod common;

use std::process::{Command, Output};

use burn::config::Config;
use train::TrainingConfig;

fn train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_train"))
        .args(args)
        .env_remove("MNIST_DIR")
        .output()
        .expect("the train binary runs")
}

fn assert_fails_with(args: &[&str], needle: &str) {
    let out = train(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(
        stderr.contains(needle),
        "{args:?}: expected '{needle}' in:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
}

#[test]
fn bad_flags_fail_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run = run.to_str().unwrap();
    assert_fails_with(
        &["--batch-size", "0", "--artifact-dir", run],
        "batch size must be at least 1",
    );
    assert_fails_with(
        &["--activation", "tanh", "--artifact-dir", run],
        "invalid value 'tanh' for '--activation",
    );
    assert_fails_with(
        &["--optimizer", "rmsprop"],
        "invalid value 'rmsprop' for '--optimizer",
    );
    assert_fails_with(
        &["--padding", "full"],
        "invalid value 'full' for '--padding",
    );
    assert_fails_with(
        &["--dropout", "1.5", "--artifact-dir", run],
        "dropout must be in [0, 1)",
    );
    assert_fails_with(
        &["--lr", "-1", "--artifact-dir", run],
        "learning rate must be a positive number",
    );
    assert_fails_with(&["--device", "tpu"], "invalid value 'tpu' for '--device");
    assert!(
        !dir.path().join("run").exists(),
        "nothing may be written for a rejected configuration"
    );
}

/// The binary shows the configuration's own defaults in its help.
#[test]
fn help_shows_the_configuration_defaults() {
    let out = train(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    let defaults = TrainingConfig::new(model::MnistCnnConfig::new());
    for shown in [
        format!("[default: {}]", defaults.epochs),
        format!("[default: {}]", defaults.lr),
        format!("[default: {}]", defaults.valid_size),
        "[default: adam]".to_string(),
        "[default: cosine]".to_string(),
    ] {
        assert!(help.contains(&shown), "{shown} missing from:\n{help}");
    }
}

#[test]
fn unusable_directories_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under_file = file.join("run");
    assert_fails_with(
        &["--artifact-dir", under_file.to_str().unwrap()],
        "a-file/run",
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_fails_with(
        &["--resume", "--artifact-dir", empty.to_str().unwrap()],
        "cannot read",
    );
    std::fs::write(empty.join("config.json"), "{}").unwrap();
    let missing_data = dir.path().join("no-data");
    std::fs::create_dir(&missing_data).unwrap();
    assert_fails_with(
        &[
            "--data-dir",
            missing_data.to_str().unwrap(),
            "--artifact-dir",
            dir.path().join("run2").to_str().unwrap(),
        ],
        "has no train-images-idx3-ubyte",
    );
    // An earlier run is never overwritten.
    let earlier = dir.path().join("earlier");
    std::fs::create_dir(&earlier).unwrap();
    std::fs::write(earlier.join("config.json"), "{}").unwrap();
    assert_fails_with(
        &["--artifact-dir", earlier.to_str().unwrap()],
        "already holds a run",
    );
}

fn small_saved_config() -> TrainingConfig {
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

#[test]
fn config_file_reruns_a_saved_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    common::write_synthetic_idx(&data);
    let saved = small_saved_config();
    let config_path = dir.path().join("saved.json");
    saved.save(&config_path).unwrap();

    let run = dir.path().join("run");
    let out = train(&[
        "--config",
        config_path.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--artifact-dir",
        run.to_str().unwrap(),
        "--batch-size",
        "25",
        "--device",
        "cpu",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("device: flex"), "{stdout}");
    assert!(stdout.contains("test accuracy:"), "{stdout}");
    assert!(
        stdout.contains("epoch 1/1 done in"),
        "plain per-epoch summary missing:\n{stdout}"
    );
    assert!(
        !stdout.contains("ProgressSnapshot"),
        "Burn's debug dump leaked:\n{stdout}"
    );
    let written = TrainingConfig::load(run.join("config.json")).unwrap();
    assert_eq!(written, saved.with_batch_size(25));
    assert!(run.join("model/model.bpk").is_file());
    let curves = run.join("curves.png");
    assert!(
        stdout.contains(&format!("curves: {}", curves.display())),
        "{stdout}"
    );
    assert!(curves.is_file());
}

/// `curves` redraws a run's picture from its history, and says in one line why it cannot.
#[test]
fn curves_redraws_from_a_history_or_says_why_not() {
    let curves = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_curves"))
            .args(args)
            .output()
            .expect("the curves binary runs")
    };
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let fails = |args: &[&str], needle: &str| {
        let out = curves(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains(needle),
            "{args:?}: '{needle}' not in:\n{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    };
    let path = history.to_str().unwrap();
    fails(&[path], "No such file");
    std::fs::write(&history, "{oops\n").unwrap();
    fails(&[path], "line 1: not an epoch record");
    let huge = std::fs::File::create(&history).unwrap();
    huge.set_len(train::MAX_HISTORY_BYTES + 1).unwrap();
    fails(&[path], "is larger than");

    let line = r#"{"epoch":1,"train_loss":0.5,"train_accuracy":85.0,"valid_loss":0.4,"valid_accuracy":88.0,"lr":0.001}"#;
    std::fs::write(&history, format!("{line}\n")).unwrap();
    let out = curves(&[path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("curves.png").is_file());
    let elsewhere = dir.path().join("elsewhere.png");
    let out = curves(&[path, "--out", elsewhere.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("elsewhere.png (1 epoch)"));
    assert!(elsewhere.is_file());
}

/// Two processes, same seed, same backend, same flags: the same history, metrics and weights.
/// (Within one process the flex device's random generator is global, so trainings running at
/// the same time, as parallel tests do, draw from it in turn; a run alone in its process, as
/// the CLI is, does not share it.)
#[test]
fn same_seed_same_results_on_flex() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    common::write_synthetic_idx(&data);
    let config_path = dir.path().join("saved.json");
    small_saved_config().save(&config_path).unwrap();
    let run = |name: &str| {
        let run = dir.path().join(name);
        let out = train(&[
            "--config",
            config_path.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--artifact-dir",
            run.to_str().unwrap(),
            "--device",
            "cpu",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        run
    };
    let (a, b) = (run("a"), run("b"));
    let read = |p: std::path::PathBuf| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(a.join("history.jsonl")), read(b.join("history.jsonl")));
    let metrics = |dir: &std::path::Path| -> serde_json::Value {
        let mut m: serde_json::Value =
            serde_json::from_str(&read(dir.join("metrics.json"))).unwrap();
        m.as_object_mut()
            .unwrap()
            .retain(|k, _| !k.contains("seconds"));
        m
    };
    assert_eq!(metrics(&a), metrics(&b));
    let weights = |dir: &std::path::Path| {
        let p = infer::Predictor::load(dir.join("model"), &burn::tensor::Device::flex()).unwrap();
        let net = p.net();
        [net.conv1.weight.val(), net.conv2.weight.val()]
            .map(|w| w.into_data().try_into_vec::<f32>().unwrap())
            .concat()
            .into_iter()
            .chain(
                net.fc1
                    .weight
                    .val()
                    .into_data()
                    .try_into_vec::<f32>()
                    .unwrap(),
            )
            .collect::<Vec<f32>>()
    };
    assert_eq!(
        weights(&a),
        weights(&b),
        "same seed must give the same weights"
    );
}
