//! Chooses the model compiled into the page: the directory in `MNIST_CNN_WEB_MODEL` (as
//! `build-site.sh MODEL_DIR` sets it), else the shipped `artifacts/mnist-cnn`. Its two files are
//! checked here, so that a wrong directory fails the build with its name rather than a missing
//! `include_bytes!` path.

use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-env-changed=MNIST_CNN_WEB_MODEL");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dir = match std::env::var_os("MNIST_CNN_WEB_MODEL") {
        Some(dir) if !dir.is_empty() => manifest.join(dir),
        _ => manifest.join("../../artifacts/mnist-cnn"),
    };
    let dir = match dir.canonicalize() {
        Ok(dir) => dir,
        Err(err) => fail(&format!("model directory {}: {err}", dir.display())),
    };
    for file in ["config.json", "model.bpk"] {
        let path = dir.join(file);
        if !path.is_file() {
            fail(&format!(
                "{} has no {file}: give a model directory as `train` writes it (config.json + model.bpk)",
                dir.display()
            ));
        }
        println!("cargo::rerun-if-changed={}", path.display());
    }
    let Some(text) = dir.to_str() else {
        fail(&format!("{}: not a UTF-8 path", dir.display()))
    };
    println!("cargo::rustc-env=MNIST_CNN_WEB_MODEL_DIR={text}");
}

fn fail(message: &str) -> ! {
    println!("cargo::error={message}");
    std::process::exit(1)
}
