//! The `infer` binary: per-file errors in a batch, clear errors, eval on a labelled folder, and
//! which model it runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn digits() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

/// `infer ARGS` with `MNIST_CNN_MODEL` set to `model_env` (removed when `None`), run from an
/// empty directory: nothing may depend on the source tree.
fn infer_with_model_env(args: &[&str], model_env: Option<&Path>) -> Output {
    let cwd = tempfile::tempdir().expect("a temporary directory");
    let mut command = Command::new(env!("CARGO_BIN_EXE_infer"));
    command
        .args(args)
        .current_dir(cwd.path())
        .env_remove("MNIST_DIR")
        .env_remove("MNIST_CNN_MODEL")
        // These tests are about the CLI, not the GPU: with `--features wgpu` the default device
        // would be the GPU, whose driver may print its own diagnostics to stderr.
        .env("BURN_DEVICE", "flex");
    if let Some(dir) = model_env {
        command.env("MNIST_CNN_MODEL", dir);
    }
    command.output().expect("the infer binary runs")
}

fn infer(args: &[&str]) -> Output {
    infer_with_model_env(args, None)
}

/// The first line of stderr names the model; the others are errors.
fn error_lines(stderr: &str) -> Vec<&str> {
    let mut lines = stderr.lines();
    assert_eq!(
        lines.next(),
        Some("model: built-in artifacts/mnist-cnn"),
        "{stderr}"
    );
    lines.collect()
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
    assert_eq!(error_lines(&stderr).len(), 1, "{stderr}");
    assert!(stderr.contains("bad.png: not a readable image"), "{stderr}");
    assert_eq!(stderr.matches("bad.png").count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"));

    let json = infer(&["predict", "--json", seven.to_str().unwrap()]);
    assert!(json.status.success());
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["label"], 7);
    assert_eq!(
        value["probabilities"].as_array().unwrap().len(),
        model::NUM_CLASSES
    );
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
    assert_eq!(error_lines(&stderr).len(), 1, "{stderr}");
}

#[test]
fn model_comes_from_the_flag_then_the_environment_then_the_build() {
    let empty = tempfile::tempdir().unwrap();
    let seven = digits().join("seven.png");
    let seven = seven.to_str().unwrap();

    // MNIST_CNN_MODEL is used when there is no --model-dir...
    let out = infer_with_model_env(&["predict", seven], Some(empty.path()));
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("from MNIST_CNN_MODEL"), "{stderr}");
    assert!(stderr.contains("config.json: not found"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // ... --model-dir wins over it ...
    let other = tempfile::tempdir().unwrap();
    let out = infer_with_model_env(
        &[
            "--model-dir",
            other.path().to_str().unwrap(),
            "predict",
            seven,
        ],
        Some(empty.path()),
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("{} from --model-dir", other.path().display())),
        "{stderr}"
    );

    // ... and an empty MNIST_CNN_MODEL counts as unset: the built-in model answers.
    let out = infer_with_model_env(&["predict", seven], Some(Path::new("")));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(error_lines(&stderr).is_empty(), "{stderr}");
    assert!(text(&out.stdout).contains("seven.png: 7 (7 "));
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

#[test]
fn eval_robustness_prints_a_table_and_writes_json_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("digits");
    for (file, digit) in [("zero.png", 0), ("one.png", 1), ("seven.png", 7)] {
        let sub = data.join(digit.to_string());
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::copy(digits().join(file), sub.join(file)).unwrap();
    }
    let report = dir.path().join("report");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "eval",
            "--images",
            data.to_str().unwrap(),
            "--robustness",
            "--report",
            report.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        infer(&args)
    };
    let out = run(&["--seed", "5"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("robustness: accuracy (%)"), "{stdout}");
    assert!(stdout.contains("seed 5"), "{stdout}");
    for family in [
        "shift (px)",
        "rotation",
        "scale",
        "shear",
        "noise",
        "thickness",
    ] {
        assert!(stdout.contains(family), "{family}: {stdout}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("robustness.json")).unwrap())
            .unwrap();
    assert_eq!(json["seed"], 5);
    assert_eq!(json["model"], "built-in artifacts/mnist-cnn");
    assert_eq!(json["rows"].as_array().unwrap().len(), 35);
    let plot = image::open(report.join("robustness.png")).unwrap();
    assert_eq!((plot.width(), plot.height()), (1500, 900));

    // Beside another report: the same picture with two models.
    let first = dir.path().join("first.json");
    std::fs::copy(report.join("robustness.json"), &first).unwrap();
    let out = run(&["--seed", "5", "--compare", first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Another process, the same seed: the same table.
    assert_eq!(text(&out.stdout), stdout);
}

#[test]
fn robustness_flags_are_checked() {
    // --seed and --compare need --robustness; a --compare file that is not a report is one
    // line of error, before any work.
    let out = infer(&["eval", "--seed", "3"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--robustness"),
        "{}",
        text(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.json");
    std::fs::write(&bogus, "{\"rows\": 3}").unwrap();
    let out = infer(&[
        "eval",
        "--images",
        dir.path().join("no-such-folder").to_str().unwrap(),
        "--robustness",
        "--report",
        dir.path().to_str().unwrap(),
        "--compare",
        bogus.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("not a robustness report"), "{stderr}");
}

#[test]
fn predict_explain_writes_the_heat_map_of_one_image() {
    let dir = tempfile::tempdir().unwrap();
    let seven = digits().join("seven.png");
    // `infer predict --explain OUT IMAGES...`
    let explain = |out: &Path, images: &[&Path]| {
        let mut args = vec!["predict", "--explain", out.to_str().unwrap()];
        args.extend(images.iter().map(|image| image.to_str().unwrap()));
        infer(&args)
    };
    let out_png = dir.path().join("why.png");
    let out = explain(&out_png, &[&seven]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(error_lines(&stderr).is_empty(), "{stderr}");
    assert!(stdout.contains("seven.png: 7 ("), "{stdout}");
    assert!(stdout.contains("169 occluded copies"), "{stdout}");
    let picture = image::open(&out_png).expect("a PNG").to_rgb8();
    assert_eq!(picture.dimensions(), (280, 280));
    // Somewhere the seven's ink mattered: a pixel tinted red.
    assert!(
        picture.pixels().any(|p| p.0[0] > 200 && p.0[1] < 60),
        "no red pixel"
    );

    // One heat map per call: two images, a name that is not a PNG's, or a folder that does not
    // exist, are one-line errors.
    let two = explain(&out_png, &[&seven, &seven]);
    let stderr = text(&two.stderr);
    assert!(!two.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("give one image (got 2)"), "{stderr}");

    let jpeg = dir.path().join("why.jpg");
    let out = explain(&jpeg, &[&seven]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("name the file *.png"), "{stderr}");
    assert!(!jpeg.exists());

    let nowhere = dir.path().join("missing").join("why.png");
    let out = explain(&nowhere, &[&seven]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(error_lines(&stderr).len(), 1, "{stderr}");
    assert!(stderr.contains("why.png"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
