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

/// `infer export --dtype f16` of the shipped model: the float16 copy scores the test set within
/// 0.05 percentage points of the float32 model (the README's Interop section quotes both).
#[test]
#[ignore = "needs real MNIST in MNIST_DIR"]
fn f16_safetensors_keep_the_test_accuracy() {
    use infer::export::{WeightDType, safetensors_bytes_as};
    let predictor = Predictor::shipped(&Device::flex()).unwrap();
    let device = predictor.device();
    let set = test_set();
    let full = evaluate(predictor.net(), &set, device).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut sizes = Vec::new();
    for (dtype, name) in [(WeightDType::F32, "f32"), (WeightDType::F16, "f16")] {
        let bytes = safetensors_bytes_as(predictor.net(), predictor.config(), dtype).unwrap();
        sizes.push(bytes.len());
        std::fs::create_dir(dir.path().join(name)).unwrap();
        std::fs::write(dir.path().join(name).join("model.safetensors"), bytes).unwrap();
    }
    let half = Predictor::load(dir.path().join("f16"), device).unwrap();
    let rounded = evaluate(half.net(), &set, device).unwrap();
    let points = 100.0 * (rounded.accuracy() - full.accuracy());
    println!(
        "f32: {:.2}% ({} bytes), f16: {:.2}% ({} bytes), difference {points:+.2} points",
        100.0 * full.accuracy(),
        sizes[0],
        100.0 * rounded.accuracy(),
        sizes[1]
    );
    assert!(points.abs() <= 0.05, "{points} points apart");
    assert!(sizes[1] * 2 < sizes[0] + 8192, "{sizes:?}");
}

/// `infer eval --robustness` on the real test set: each family's identity scores the clean
/// accuracy, and accuracy falls along each ladder (the README's table).
#[test]
#[ignore = "needs real MNIST in MNIST_DIR"]
fn robustness_table_on_the_test_set() {
    use data::perturb::Family;
    let predictor = Predictor::shipped(&Device::flex()).unwrap();
    let set = test_set();
    let report = infer::robustness(
        predictor.net(),
        &set,
        predictor.device(),
        0,
        "shipped",
        "MNIST test set",
    )
    .unwrap();
    println!("{}", report.to_text());
    let at = |family: Family, strength: f32| {
        report
            .rows
            .iter()
            .find(|r| r.family == family.name() && r.strength == strength)
            .unwrap()
            .accuracy
    };
    for family in Family::ALL {
        assert_eq!(at(family, family.identity()), report.clean_accuracy);
    }
    for (family, mild, strong) in [
        (Family::Shift, 1.0, 4.0),
        (Family::Rotation, 5.0, 30.0),
        (Family::Scale, 0.9, 0.7),
        (Family::Shear, 10.0, 40.0),
        (Family::Noise, 0.1, 0.5),
        (Family::Thickness, 1.0, 2.0),
    ] {
        assert!(
            at(family, strong) < at(family, mild),
            "{family:?}: {strong} is not worse than {mild}"
        );
    }
}
