//! The shipped model through the library: loading errors, hand-drawn digits, preprocessing.

use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::tensor::Device;
use image::{DynamicImage, Rgb, RgbImage};
use infer::{InferError, Predictor, open_image, preprocess};

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/mnist-cnn")
}

fn digits() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

fn predictor() -> Predictor {
    Predictor::load(shipped(), &Device::flex()).unwrap()
}

/// A copy of the shipped model directory whose files the test may spoil.
fn model_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["config.json", "model.bpk"] {
        std::fs::copy(shipped().join(file), dir.path().join(file)).unwrap();
    }
    dir
}

#[test]
fn hand_drawn_digits_are_recognised() {
    let predictor = predictor();
    for (file, digit) in [
        ("zero.png", 0),
        ("one.png", 1),
        ("two.png", 2),
        ("three.png", 3),
        ("four.png", 4),
        ("seven.png", 7),
        ("seven-chalk.jpg", 7),
    ] {
        let image = open_image(&digits().join(file)).unwrap();
        let p = predictor.predict_image(&image).unwrap();
        assert_eq!(p.label, digit, "{file}: {:?}", p.top(3));
        let sum: f32 = p.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
        assert_eq!(p.top(3)[0].0, digit);
    }
}

#[test]
fn batch_and_single_predictions_agree() {
    let predictor = predictor();
    let images: Vec<[u8; 784]> = ["zero.png", "one.png", "seven.png"]
        .iter()
        .map(|f| preprocess(&open_image(&digits().join(f)).unwrap()).unwrap())
        .collect();
    let batch = predictor.predict_batch(&images);
    for (image, from_batch) in images.iter().zip(&batch) {
        let single = predictor.predict(image);
        assert_eq!(single.label, from_batch.label);
        for (a, b) in single.probabilities.iter().zip(from_batch.probabilities) {
            assert!((a - b).abs() < 1e-5);
        }
    }
    assert!(predictor.predict_batch(&[]).is_empty());
}

/// Dark-on-light RGB at 4x is framed back into the same MNIST-style digit.
#[test]
fn inverted_upscaled_rgb_copy_predicts_the_same_digit() {
    let predictor = predictor();
    let digit = preprocess(&open_image(&digits().join("two.png")).unwrap()).unwrap();
    let direct = predictor.predict(&digit);
    let copy = RgbImage::from_fn(112, 112, |x, y| {
        let v = 255 - digit[(y / 4 * 28 + x / 4) as usize];
        Rgb([v, v, v])
    });
    let via_image = predictor
        .predict_image(&DynamicImage::ImageRgb8(copy))
        .unwrap();
    assert_eq!(via_image.label, direct.label);
    assert_eq!(direct.label, 2);
}

#[test]
fn loading_errors_are_typed() {
    let device = Device::flex();
    let missing = tempfile::tempdir().unwrap();
    assert!(matches!(
        Predictor::load(missing.path(), &device),
        Err(InferError::MissingFile { .. })
    ));

    let other_shape = model_copy();
    let config = model::MnistCnnConfig::new().with_conv1_filters(16);
    config.save(other_shape.path().join("config.json")).unwrap();
    let err = Predictor::load(other_shape.path(), &device).unwrap_err();
    assert!(matches!(err, InferError::RecordMismatch { .. }), "{err}");

    let not_a_record = model_copy();
    std::fs::write(
        not_a_record.path().join("model.bpk"),
        b"these are not weights",
    )
    .unwrap();
    let err = Predictor::load(not_a_record.path(), &device).unwrap_err();
    assert!(matches!(err, InferError::NotARecord { .. }), "{err}");

    let bad_config = model_copy();
    std::fs::write(bad_config.path().join("config.json"), b"{ not json").unwrap();
    let err = Predictor::load(bad_config.path(), &device).unwrap_err();
    assert!(matches!(err, InferError::BadConfig { .. }), "{err}");

    let not_image = missing.path().join("notes.png");
    std::fs::write(&not_image, b"plain text").unwrap();
    assert!(matches!(
        open_image(&not_image),
        Err(InferError::Image { .. })
    ));
}
