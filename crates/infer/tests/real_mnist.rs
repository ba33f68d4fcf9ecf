//! The shipped model on the real MNIST test set (`MNIST_DIR`), and its exported safetensors file
//! (the ONNX file: `.ci/run`'s `onnx-runtime` stage). Ignored by default; `.ci/run` runs them.
//! They fail, never skip, without MNIST_DIR.

mod common;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use data::Mnist;
use image::{DynamicImage, GrayImage, Rgb, RgbImage};
use infer::{Predictor, evaluate, predict_set};
use model::IMAGE_SIZE;

/// The committed model's directory, for its metrics.json (the model itself is built in).
fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/mnist-cnn")
}

fn test_set() -> data::MnistSet {
    let dir = std::env::var_os("MNIST_DIR").expect("MNIST_DIR must point at the MNIST files");
    Mnist::load_test(Some(Path::new(&dir))).expect("MNIST_DIR holds the MNIST test set")
}

#[test]
#[ignore = "needs real MNIST in MNIST_DIR"]
fn shipped_model_reaches_99_5_percent() {
    let predictor = Predictor::shipped(&Device::flex()).unwrap();
    let confusion = evaluate(predictor.net(), &test_set(), predictor.device()).unwrap();
    println!("shipped model test accuracy: {:.4}", confusion.accuracy());
    assert_eq!(confusion.total(), 10_000);
    assert!(
        confusion.accuracy() >= 0.995,
        "accuracy {}",
        confusion.accuracy()
    );
    let stated: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shipped_dir().join("metrics.json")).unwrap())
            .unwrap();
    let stated = stated["test_accuracy"].as_f64().unwrap();
    assert!(
        (stated - confusion.accuracy()).abs() < 1e-9,
        "metrics.json says {stated}"
    );
}

#[test]
#[ignore = "needs real MNIST in MNIST_DIR"]
fn image_path_agrees_with_raw_pixels() {
    let predictor = Predictor::shipped(&Device::flex()).unwrap();
    let set = test_set();
    let raw = predict_set(predictor.net(), &set, predictor.device());
    let label_of = |image: DynamicImage| predictor.predict_image(&image).unwrap().label;
    let mut agree = 0;
    let mut inverted_agree = 0;
    for (i, &expected) in raw.iter().enumerate() {
        let pixels = set.image(i);
        let side = IMAGE_SIZE as u32;
        let gray = GrayImage::from_fn(side, side, |x, y| {
            image::Luma([pixels[(y * side + x) as usize]])
        });
        if label_of(DynamicImage::ImageLuma8(gray)) == expected {
            agree += 1;
        }
        if i < 1000 {
            // Dark ink on white, RGB, 4x larger.
            let big = RgbImage::from_fn(4 * side, 4 * side, |x, y| {
                let v = 255 - pixels[(y / 4 * side + x / 4) as usize];
                Rgb([v, v, v])
            });
            if label_of(DynamicImage::ImageRgb8(big)) == expected {
                inverted_agree += 1;
            }
        }
    }
    println!("image path agrees on {agree}/10000, inverted 4x RGB on {inverted_agree}/1000");
    assert!(agree >= 9_950, "only {agree} of 10000 agree");
    assert!(inverted_agree >= 990, "only {inverted_agree} of 1000 agree");
}

/// The exported safetensors file is the same model: it loads back to the record's predictions on
/// the 10,000 test images. (The exported ONNX file is scored on the same images in ONNX Runtime
/// by `.ci/run`'s `onnx-runtime` stage: `examples/onnx_fixtures.rs --mnist-dir` and
/// `tests/onnx_runtime.py`.)
#[test]
#[ignore = "needs real MNIST in MNIST_DIR"]
fn exported_safetensors_predicts_as_the_record() {
    let predictor = Predictor::shipped(&Device::flex()).unwrap();
    let device = predictor.device();
    let set = test_set();
    let record = predict_set(predictor.net(), &set, device);

    let dir = tempfile::tempdir().unwrap();
    let bytes = infer::export::safetensors_bytes(predictor.net(), predictor.config()).unwrap();
    let file = dir.path().join("model.safetensors");
    std::fs::write(&file, bytes).unwrap();
    let imported = Predictor::load(&file, device).unwrap();
    assert_eq!(predict_set(imported.net(), &set, device), record);
}
