//! The `infer` binary: per-file errors in a batch, clear errors, eval on a labelled folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn digits() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

fn infer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infer"))
        .args(args)
        .env_remove("MNIST_DIR")
        // These tests are about the CLI, not the GPU: with `--features wgpu` the default device
        // would be the GPU, whose driver may print its own diagnostics to stderr.
        .env("BURN_DEVICE", "flex")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn one_bad_file_does_not_stop_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.png");
    std::fs::write(&bad, b"not an image").unwrap();
    let seven = digits().join("seven.png");
    let out = infer(&["predict", bad.to_str().unwrap(), seven.to_str().unwrap()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success());
    assert!(stdout.contains("seven.png: 7 (7 "), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad.png: not a readable image"), "{stderr}");
    assert_eq!(stderr.matches("bad.png").count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"));

    let json = infer(&["predict", "--json", seven.to_str().unwrap()]);
    assert!(json.status.success());
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["label"], 7);
    assert_eq!(value["probabilities"].as_array().unwrap().len(), 10);
}

#[test]
fn wrong_model_dir_and_empty_folder_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let seven = digits().join("seven.png");
    let out = infer(&[
        "--model-dir",
        dir.path().to_str().unwrap(),
        "predict",
        seven.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("config.json: not found"), "{stderr}");

    let out = infer(&["eval", "--images", dir.path().to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no images found"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn eval_on_a_labelled_folder_writes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("digits");
    for (file, digit) in [
        ("zero.png", 0),
        ("one.png", 1),
        ("seven.png", 7),
        ("seven-chalk.jpg", 7),
    ] {
        let sub = data.join(digit.to_string());
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::copy(digits().join(file), sub.join(file)).unwrap();
    }
    // A deliberately mislabelled digit, so the report has something to show.
    std::fs::create_dir_all(data.join("4")).unwrap();
    std::fs::copy(
        digits().join("one.png"),
        data.join("4/one-labelled-four.png"),
    )
    .unwrap();
    let report = dir.path().join("report");
    let out = infer(&[
        "eval",
        "--images",
        data.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("accuracy: 80.00% (4 of 5)"), "{stdout}");
    assert!(stdout.contains("true\\pred"), "{stdout}");
    let confusion = image::open(report.join("confusion.png")).unwrap();
    assert_eq!((confusion.width(), confusion.height()), (512, 512));
    let wrong = image::open(report.join("misclassified.png")).unwrap();
    assert_eq!((wrong.width(), wrong.height()), (20 * 60, 74));
}
