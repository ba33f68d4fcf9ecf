//! The shipped model through the library: loading errors, hand-drawn digits, preprocessing.

use std::error::Error;
use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::store::RecordError;
use burn::tensor::{Bytes, Device};
use image::{DynamicImage, Rgb, RgbImage};
use infer::predictor::{CONFIG_FILE, RECORD_FILE, SHIPPED_CONFIG, SHIPPED_RECORD};
use infer::{InferError, Predictor, open_image, preprocess};
use model::{IMAGE_SIZE, Pixels};

fn digits() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

fn predictor() -> Predictor {
    Predictor::shipped(&Device::flex()).expect("the built-in model loads")
}

/// A model directory holding the built-in model, whose files the test may spoil.
fn model_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join(CONFIG_FILE), SHIPPED_CONFIG).expect("config.json written");
    std::fs::write(dir.path().join(RECORD_FILE), SHIPPED_RECORD).expect("model.bpk written");
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
    let images: Vec<Pixels> = ["zero.png", "one.png", "seven.png"]
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
    let side = 4 * IMAGE_SIZE as u32;
    let copy = RgbImage::from_fn(side, side, |x, y| {
        let v = 255 - digit[(y / 4) as usize * IMAGE_SIZE + (x / 4) as usize];
        Rgb([v, v, v])
    });
    let via_image = predictor
        .predict_image(&DynamicImage::ImageRgb8(copy))
        .unwrap();
    assert_eq!(via_image.label, direct.label);
    assert_eq!(direct.label, 2);
}

/// Also: a predictor keeps working after its model directory is gone (a run may rewrite it).
#[test]
fn a_model_directory_and_the_built_in_model_agree() {
    let device = Device::flex();
    let dir = model_copy();
    let from_dir = Predictor::load(dir.path(), &device).unwrap();
    drop(dir);
    let built_in = predictor();
    assert_eq!(from_dir.config(), built_in.config());
    let digit = preprocess(&open_image(&digits().join("three.png")).unwrap()).unwrap();
    assert_eq!(from_dir.predict(&digit), built_in.predict(&digit));
}

/// Each loading error is its own variant, names the file, and keeps the underlying error.
#[test]
fn loading_errors_are_typed_and_keep_their_cause() {
    let device = Device::flex();
    let missing = tempfile::tempdir().unwrap();
    assert!(matches!(
        Predictor::load(missing.path(), &device),
        Err(InferError::MissingFile { .. })
    ));

    let other_shape = model_copy();
    let config = model::MnistCnnConfig::new().with_conv1_filters(16);
    config.save(other_shape.path().join(CONFIG_FILE)).unwrap();
    let err = Predictor::load(other_shape.path(), &device).unwrap_err();
    assert!(matches!(err, InferError::RecordMismatch { .. }), "{err}");
    assert!(err.source().unwrap().is::<RecordError>());

    let not_a_record = model_copy();
    std::fs::write(
        not_a_record.path().join(RECORD_FILE),
        b"these are not weights",
    )
    .unwrap();
    let err = Predictor::load(not_a_record.path(), &device).unwrap_err();
    assert!(matches!(err, InferError::NotARecord { .. }), "{err}");
    assert!(err.source().unwrap().is::<RecordError>());
    assert!(err.to_string().contains("model.bpk"), "{err}");

    let bad_config = model_copy();
    std::fs::write(bad_config.path().join(CONFIG_FILE), b"{ not json").unwrap();
    let err = Predictor::load(bad_config.path(), &device).unwrap_err();
    assert!(matches!(err, InferError::BadConfig { .. }), "{err}");
    assert!(err.source().unwrap().is::<serde_json::Error>());
    assert!(err.to_string().contains("config.json"), "{err}");

    let unusable = model_copy();
    let config = model::MnistCnnConfig::new().with_dropout(1.5);
    config.save(unusable.path().join(CONFIG_FILE)).unwrap();
    let err = Predictor::load(unusable.path(), &device).unwrap_err();
    assert!(matches!(err, InferError::InvalidConfig { .. }), "{err}");
    assert!(err.source().unwrap().is::<model::InvalidConfig>());

    // The in-memory constructor reports the same errors under the bare file names.
    let err = Predictor::from_bytes(
        SHIPPED_CONFIG.as_bytes(),
        Bytes::from_bytes_vec(b"these are not weights".to_vec()),
        &device,
    )
    .unwrap_err();
    assert!(matches!(&err, InferError::NotARecord { path, .. } if path == Path::new(RECORD_FILE)));

    let not_image = missing.path().join("notes.png");
    std::fs::write(&not_image, b"plain text").unwrap();
    let err = open_image(&not_image).unwrap_err();
    assert!(matches!(err, InferError::Image { .. }), "{err}");
    assert!(err.source().unwrap().is::<image::ImageError>());
    let err = open_image(&missing.path().join("absent.png")).unwrap_err();
    assert!(matches!(err, InferError::Read { .. }), "{err}");
}

/// "Why this digit" on the example digits: hiding ink must cost the chosen digit more than
/// hiding the empty border, the largest drop must lie on the ink, and the batched occluded
/// copies must score as they do one by one.
#[test]
fn occluding_the_ink_matters_more_than_the_border() {
    use model::occlusion::{PATCH, POSITIONS, STRIDE, occluded_copies};
    let predictor = predictor();
    for file in [
        "zero.png",
        "one.png",
        "two.png",
        "three.png",
        "four.png",
        "seven.png",
    ] {
        let pixels = preprocess(&open_image(&digits().join(file)).unwrap()).unwrap();
        let map = predictor.explain(&pixels);
        assert_eq!(map.label, predictor.predict(&pixels).label, "{file}");
        let ink_in = |position: usize| {
            let (top, left) = (position / POSITIONS * STRIDE, position % POSITIONS * STRIDE);
            (top..top + PATCH)
                .flat_map(|r| (left..left + PATCH).map(move |c| r * IMAGE_SIZE + c))
                .map(|i| u32::from(pixels[i]))
                .sum::<u32>()
        };
        let (mut ink, mut border) = (Vec::new(), Vec::new());
        for (position, &drop) in map.drops.iter().enumerate() {
            match ink_in(position) {
                0 => border.push(drop.abs()),
                // At least a quarter of the patch's pixels' worth of full ink.
                ink_sum if ink_sum >= 4 * 255 => ink.push(drop.abs()),
                _ => {}
            }
        }
        assert!(!ink.is_empty() && !border.is_empty(), "{file}");
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        let (ink_mean, border_mean) = (mean(&ink), mean(&border));
        // A confident network moves its probability little (two.png: 1.7e-4 on average), so
        // the comparison is relative; hiding background that is already background changes
        // nothing at all.
        assert!(
            ink_mean > 0.0 && ink_mean > 10.0 * border_mean,
            "{file}: ink {ink_mean} vs border {border_mean}"
        );
        println!("{file}: mean |drop| on ink {ink_mean:.2e}, on the border {border_mean:.2e}");
        let (top, _) = map
            .drops
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
        assert!(ink_in(top) > 0, "{file}: largest drop at an empty patch");
        let copy = occluded_copies(&pixels)[1 + top];
        let alone = predictor.predict(&copy).probabilities[map.label as usize];
        assert!(
            (map.probability - map.drops[top] - alone).abs() < 1e-4,
            "{file}: batched {} vs alone {alone}",
            map.probability - map.drops[top]
        );
    }
}
