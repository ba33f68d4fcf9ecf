#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! The robustness report on the shipped model, offline: the hand-drawn digits of
//! examples/digits, each also nudged by a pixel either way (63 digits the model reads). The
//! report is deterministic, each family's identity strength scores exactly the clean accuracy,
//! and the strongest perturbations cost the model accuracy.

use std::path::Path;

use burn::tensor::Device;
use data::MnistSet;
use data::perturb::Family;
use infer::{Predictor, Robustness, robustness};
use model::Pixels;

/// The hand-drawn digits, each at the 9 whole-pixel offsets of at most one pixel.
fn hand_drawn() -> MnistSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for (file, label) in [
        ("zero.png", 0),
        ("one.png", 1),
        ("two.png", 2),
        ("three.png", 3),
        ("four.png", 4),
        ("seven.png", 7),
        ("seven-chalk.jpg", 7),
    ] {
        let digit: Pixels =
            infer::preprocess(&infer::open_image(&dir.join(file)).unwrap()).unwrap();
        for dy in [-1.0, 0.0, 1.0] {
            for dx in [-1.0, 0.0, 1.0] {
                images.extend(data::augment::transform(&digit, 0.0, dx, dy));
                labels.push(label);
            }
        }
    }
    MnistSet::from_parts(images, labels)
}

fn report(seed: u64) -> Robustness {
    let predictor = Predictor::shipped(&Device::flex()).unwrap();
    robustness(
        predictor.net(),
        &hand_drawn(),
        predictor.device(),
        seed,
        "shipped",
        "hand-drawn",
    )
    .unwrap()
}

#[test]
fn the_report_is_deterministic_and_complete() {
    let a = report(3);
    println!("{}", a.to_text());
    assert_eq!(a, report(3), "the same seed gives the same table");
    let ladder: usize = Family::ALL.iter().map(|f| f.strengths().len()).sum();
    assert_eq!(a.rows.len(), ladder);
    assert!(a.rows.iter().all(|r| r.total == 63));
    // The table lists every family with its strengths and accuracies.
    let text = a.to_text();
    for family in Family::ALL {
        assert!(text.contains(&format!("{} (", family.name())), "{text}");
    }
    // JSON round trip (what `--compare` reads back): the counts exactly, the fractions to
    // serde_json's float parsing.
    let json = serde_json::to_string(&a).unwrap();
    let back: Robustness = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (&back.model, back.seed, back.rows.len()),
        (&a.model, a.seed, a.rows.len())
    );
    for (x, y) in back.rows.iter().zip(&a.rows) {
        assert_eq!(
            (&x.family, x.strength, x.correct, x.total),
            (&y.family, y.strength, y.correct, y.total)
        );
        assert!((x.accuracy - y.accuracy).abs() < 1e-12);
    }
}

#[test]
fn strength_zero_is_the_clean_accuracy_and_strong_perturbations_hurt() {
    let r = report(0);
    println!("{}", r.to_text());
    assert!(r.clean_accuracy > 0.95, "{}", r.clean_accuracy);
    let at = |family: Family, strength: f32| {
        r.rows
            .iter()
            .find(|row| row.family == family.name() && row.strength == strength)
            .unwrap()
            .accuracy
    };
    for family in Family::ALL {
        assert_eq!(
            at(family, family.identity()),
            r.clean_accuracy,
            "{family:?}"
        );
    }
    // The far ends of the ladders: each costs accuracy, most of them a lot.
    let strongest = [
        (Family::Shift, 4.0),
        (Family::Rotation, 30.0),
        (Family::Scale, 0.7),
        (Family::Shear, 40.0),
        (Family::Noise, 0.5),
        (Family::Thickness, -2.0),
    ];
    let mut lost = 0.0;
    for (family, strength) in strongest {
        let accuracy = at(family, strength);
        assert!(
            accuracy <= r.clean_accuracy,
            "{family:?} {strength}: {accuracy}"
        );
        lost += r.clean_accuracy - accuracy;
    }
    assert!(lost / 6.0 > 0.1, "mean loss {}", lost / 6.0);
    // Rotating further hurts more.
    assert!(at(Family::Rotation, 30.0) < at(Family::Rotation, 5.0));
}
