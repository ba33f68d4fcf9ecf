//! The engine the browser runs, compiled natively, against the predictor `infer` and `serve`
//! use: the same example digits as RGBA (what a canvas hands over) give the same framed pixels,
//! the same label and the same logits. The browser build itself is compared with the native
//! predictor in crates/serve/e2e/web.mjs.

use std::path::Path;

use burn::tensor::Device;
use infer::Predictor;
use model::images_to_tensor;
use web::{Engine, WebError};

const DIGITS: [(&str, u8); 7] = [
    ("zero.png", 0),
    ("one.png", 1),
    ("two.png", 2),
    ("three.png", 3),
    ("four.png", 4),
    ("seven.png", 7),
    ("seven-chalk.jpg", 7),
];

#[test]
fn example_digits_give_the_native_predictors_pixels_labels_and_logits() {
    let engine = Engine::embedded().unwrap();
    let device = Device::flex();
    let predictor = Predictor::shipped(&device).unwrap();
    assert_eq!(engine.config(), predictor.config());
    let digits = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    for (file, digit) in DIGITS {
        let image = infer::open_image(&digits.join(file)).unwrap();
        let rgba = image.to_rgba8();
        let answer = engine
            .predict_rgba(rgba.as_raw(), rgba.width(), rgba.height())
            .unwrap();

        let pixels = infer::preprocess(&image).unwrap();
        assert_eq!(answer.pixels, pixels, "{file}: framed alike");
        assert_eq!(answer.stages[0].values[0], pixels.to_vec(), "{file}");
        let native = predictor.predict(&pixels);
        assert_eq!((answer.label, native.label), (digit, digit), "{file}");
        let logits = model::stage_values::floats(
            predictor
                .net()
                .forward(images_to_tensor(std::slice::from_ref(&pixels), &device)),
        );
        for (k, (a, b)) in answer.logits.iter().zip(&logits).enumerate() {
            assert!((a - b).abs() <= 1e-4, "{file}: logit {k}: {a} vs {b}");
        }
        for (a, b) in answer.probabilities.iter().zip(&native.probabilities) {
            assert!((a - b).abs() <= 1e-5, "{file}: {a} vs {b}");
        }
        // "Why this digit" is the native predictor's too.
        let why = engine
            .explain_rgba(rgba.as_raw(), rgba.width(), rgba.height())
            .unwrap();
        let native_why = predictor.explain(&pixels);
        assert_eq!(why.label, digit, "{file}");
        for (a, b) in why.heat.iter().zip(&native_why.heat) {
            assert!((a - b).abs() <= 1e-5, "{file}: heat {a} vs {b}");
        }
    }
}

#[test]
fn the_description_and_stages_are_the_models() {
    let engine = Engine::embedded().unwrap();
    let info = engine.describe();
    assert_eq!(info.total_params, 843_658);
    let image = infer::open_image(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits/three.png"),
    )
    .unwrap()
    .to_rgba8();
    let answer = engine
        .predict_rgba(image.as_raw(), image.width(), image.height())
        .unwrap();
    // Every stage the description lists comes back with its shape and one list per channel,
    // and none is black.
    assert_eq!(answer.stages.len(), info.stages.len());
    for (values, stage) in answer.stages.iter().zip(&info.stages) {
        assert_eq!((&values.name, &values.shape), (&stage.name, &stage.shape));
        let lists = if stage.shape.len() == 3 {
            stage.shape[2]
        } else {
            1
        };
        assert_eq!(values.values.len(), lists, "{}", stage.name);
        let area: usize = stage.shape.iter().take(2).product();
        assert!(
            values.values.iter().all(|v| v.len() == area),
            "{}",
            stage.name
        );
        assert!(
            values.values.iter().flatten().any(|&v| v > 0),
            "{}: all black",
            stage.name
        );
    }
}

#[test]
fn a_blank_or_misshapen_drawing_is_an_error_not_a_panic() {
    let engine = Engine::embedded().unwrap();
    let blank = vec![0u8; 280 * 280 * 4];
    assert!(matches!(
        engine.predict_rgba(&blank, 280, 280),
        Err(WebError::Picture(preprocess::PreprocessError::NoInk))
    ));
    assert!(matches!(
        engine.predict_rgba(&blank, 281, 280),
        Err(WebError::Picture(
            preprocess::PreprocessError::BufferSize { .. }
        ))
    ));
}

#[test]
fn a_wrong_model_is_a_typed_error() {
    let config = web::EMBEDDED_CONFIG.as_bytes();
    assert!(matches!(
        Engine::from_bytes(b"{", web::EMBEDDED_RECORD),
        Err(WebError::ConfigJson(_))
    ));
    assert!(matches!(
        Engine::from_bytes(config, b"not a record"),
        Err(WebError::Record(_))
    ));
    let other = String::from_utf8(config.to_vec())
        .unwrap()
        .replace("\"hidden_units\": 512", "\"hidden_units\": 500");
    assert_ne!(
        other.as_bytes(),
        config,
        "the configuration names hidden_units"
    );
    assert!(matches!(
        Engine::from_bytes(other.as_bytes(), web::EMBEDDED_RECORD),
        Err(WebError::Record(_))
    ));
}
