//! The `feature-maps` program: runs from any directory on the built-in model, and a PNG it
//! cannot write is reported as that file's error.

use std::path::Path;
use std::process::Command;

#[test]
fn unwritable_png_is_an_error_naming_that_file() {
    let cwd = tempfile::tempdir().unwrap();
    let out = cwd.path().join("maps");
    // A directory where conv1.png should go: filters.png is written, conv1.png cannot be.
    std::fs::create_dir_all(out.join("conv1.png")).unwrap();
    let seven = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits/seven.png");
    let result = Command::new(env!("CARGO_BIN_EXE_feature-maps"))
        .arg(&seven)
        .arg("--out")
        .arg(&out)
        .current_dir(cwd.path())
        .env_remove("MNIST_CNN_MODEL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success(), "{stdout}");
    assert!(
        stdout.starts_with("model: built-in artifacts/mnist-cnn\n"),
        "{stdout}"
    );
    assert!(out.join("filters.png").is_file(), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let expected = format!(
        "error: {}: cannot write the image",
        out.join("conv1.png").display()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
}
