//! The robustness report (`infer eval --robustness`): accuracy on a labelled set when every
//! image is perturbed by one family of [`data::perturb::Family`] at one strength, for each
//! family and each strength of its ladder. It answers "what does augmentation buy": a model
//! trained on shifted and rotated digits should lose less under those perturbations.
//!
//! Seeded and deterministic: the perturbed images depend only on the seed, the family, the
//! strength and the image's index.

use burn::tensor::Device;
use data::MnistSet;
use data::perturb::Family;
use model::{IMAGE_PIXELS, MnistCnn, Pixels, images_to_tensor};
use serde::{Deserialize, Serialize};

use crate::evaluate::{EVAL_BATCH, argmax_rows};
use crate::{InferError, evaluate};

/// File name of the report's JSON in `infer eval --report DIR`.
pub const JSON_FILE: &str = "robustness.json";

/// Accuracy at one strength of one family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustnessRow {
    /// The family's name ([`Family::name`]).
    pub family: String,
    /// What the strength is measured in ([`Family::unit`]).
    pub unit: String,
    /// The strength.
    pub strength: f32,
    /// Images predicted correctly.
    pub correct: u32,
    /// Images evaluated.
    pub total: u32,
    /// `correct / total`, in [0, 1].
    pub accuracy: f64,
}

/// The whole report: one row per (family, strength).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Robustness {
    /// Which model was measured (as `infer` names its source).
    pub model: String,
    /// Which images.
    pub set: String,
    /// The seed of the perturbations.
    pub seed: u64,
    /// Accuracy on the unperturbed images.
    pub clean_accuracy: f64,
    /// Every family's ladder, in [`Family::ALL`] order.
    pub rows: Vec<RobustnessRow>,
}

impl Robustness {
    /// The rows of the family named `family`, in strength order.
    pub fn family(&self, family: &str) -> Vec<&RobustnessRow> {
        self.rows.iter().filter(|r| r.family == family).collect()
    }

    /// The table `infer eval --robustness` prints: per family, a line of strengths and a line
    /// of accuracies (%) under them.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "robustness: accuracy (%) under each perturbation, seed {}, clean {:.2}%\n",
            self.seed,
            100.0 * self.clean_accuracy
        );
        let mut families: Vec<&str> = Vec::new();
        for row in &self.rows {
            if !families.contains(&row.family.as_str()) {
                families.push(&row.family);
            }
        }
        for family in families {
            let rows = self.family(family);
            let title = format!("{family} ({})", rows[0].unit);
            out += &format!("{title:<36}");
            for r in &rows {
                out += &format!("{:>7}", r.strength);
            }
            out += &format!("\n{:<36}", "");
            for r in &rows {
                out += &format!("{:>7.2}", 100.0 * r.accuracy);
            }
            out.push('\n');
        }
        out
    }
}

/// Measures `net` on `set` under every family and strength, the perturbations seeded by `seed`;
/// `model` and `set_name` only label the report. An error if a label of `set` is not a digit.
pub fn robustness(
    net: &MnistCnn,
    set: &MnistSet,
    device: &Device,
    seed: u64,
    model: &str,
    set_name: &str,
) -> Result<Robustness, InferError> {
    let clean = evaluate(net, set, device)?;
    let mut rows = Vec::new();
    for family in Family::ALL {
        for &strength in family.strengths() {
            let correct = count_correct(net, set, device, |image, index| {
                family.apply(image, strength, seed, index)
            });
            let total = set.len() as u32;
            rows.push(RobustnessRow {
                family: family.name().into(),
                unit: family.unit().into(),
                strength,
                correct,
                total,
                accuracy: f64::from(correct) / f64::from(total),
            });
        }
    }
    Ok(Robustness {
        model: model.into(),
        set: set_name.into(),
        seed,
        clean_accuracy: clean.accuracy(),
        rows,
    })
}

/// Images of `set` that `net` labels correctly once each is passed through `perturb` (given
/// the image and its index), in batches of [`EVAL_BATCH`].
fn count_correct(
    net: &MnistCnn,
    set: &MnistSet,
    device: &Device,
    perturb: impl Fn(&Pixels, usize) -> Pixels,
) -> u32 {
    let mut correct = 0;
    for start in (0..set.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(set.len());
        let batch: Vec<Pixels> = (start..end)
            .map(|i| perturb(pixels_of(set.image(i)), i))
            .collect();
        let predicted = argmax_rows(net.forward(images_to_tensor(&batch, device)));
        correct += predicted
            .iter()
            .zip(&set.labels()[start..end])
            .filter(|(p, l)| p == l)
            .count() as u32;
    }
    correct
}

/// One image of a set as [`Pixels`].
fn pixels_of(image: &[u8]) -> &Pixels {
    let ([pixels], []) = image.as_chunks::<IMAGE_PIXELS>() else {
        unreachable!("an MnistSet image holds IMAGE_PIXELS bytes");
    };
    pixels
}
