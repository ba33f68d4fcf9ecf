//! Accuracy, per-class accuracy and the confusion matrix of a network over a labelled set.

use burn::tensor::Device;
use data::MnistSet;
use model::{IMAGE_PIXELS, MnistCnn, NUM_CLASSES, images_to_tensor};
use serde::Serialize;

use crate::InferError;

/// Images per forward pass: large enough to amortise per-call overhead, small enough to keep
/// the activations of the biggest layer (1000 x 32 x 26 x 26 floats, 86 MB) modest.
pub const EVAL_BATCH: usize = 1000;

/// Counts of (true label, predicted label) pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    /// `matrix[truth][predicted]`.
    pub matrix: [[u32; NUM_CLASSES]; NUM_CLASSES],
}

impl Confusion {
    /// The matrix of `predicted` against the true `labels` (same order); a label or prediction
    /// that is not a digit 0-9 is an error, never an index past the matrix.
    pub fn from_predictions(labels: &[u8], predicted: &[u8]) -> Result<Self, InferError> {
        let mut confusion = Self::default();
        for (&truth, &p) in labels.iter().zip(predicted) {
            confusion.add(truth, p)?;
        }
        Ok(confusion)
    }

    /// Records one prediction; refuses a class that is not a digit 0-9.
    pub fn add(&mut self, truth: u8, predicted: u8) -> Result<(), InferError> {
        let cell = self
            .matrix
            .get_mut(truth as usize)
            .ok_or(InferError::ClassOutOfRange { class: truth })?
            .get_mut(predicted as usize)
            .ok_or(InferError::ClassOutOfRange { class: predicted })?;
        *cell += 1;
        Ok(())
    }

    /// Number of predictions recorded.
    pub fn total(&self) -> u32 {
        self.matrix.iter().flatten().sum()
    }

    /// Correct predictions.
    pub fn correct(&self) -> u32 {
        (0..NUM_CLASSES).map(|d| self.matrix[d][d]).sum()
    }

    /// Fraction correct, in [0, 1]; NaN when empty.
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total() as f64
    }

    /// Fraction of each true digit predicted correctly; NaN for a digit never seen.
    pub fn per_class_accuracy(&self) -> [f64; NUM_CLASSES] {
        std::array::from_fn(|d| {
            self.matrix[d][d] as f64 / self.matrix[d].iter().sum::<u32>() as f64
        })
    }

    /// The matrix as aligned text, rows = truth, columns = prediction.
    pub fn to_text(&self) -> String {
        let mut out = String::from("true\\pred");
        for p in 0..NUM_CLASSES {
            out += &format!("{p:>6}");
        }
        out.push('\n');
        for (t, row) in self.matrix.iter().enumerate() {
            out += &format!("{t:>9}");
            for n in row {
                out += &format!("{n:>6}");
            }
            out.push('\n');
        }
        out
    }
}

/// Predicted digit of each image of `set`, in order.
pub fn predict_set(net: &MnistCnn, set: &MnistSet, device: &Device) -> Vec<u8> {
    let mut predictions = Vec::with_capacity(set.len());
    for start in (0..set.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(set.len());
        let pixels: Vec<u8> = (start..end)
            .flat_map(|i| set.image(i).iter().copied())
            .collect();
        let logits = net.forward(images_to_tensor(
            pixels.as_chunks::<IMAGE_PIXELS>().0,
            device,
        ));
        predictions.extend(argmax_rows(logits));
    }
    predictions
}

/// Index of the largest value in each row.
pub fn argmax_rows(logits: burn::tensor::Tensor<2>) -> Vec<u8> {
    logits
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .expect("argmax gives integers")
        .into_iter()
        .map(|c| c as u8)
        .collect()
}

/// The confusion matrix of `net` over `set`; an error if a label of `set` is not a digit 0-9.
pub fn evaluate(net: &MnistCnn, set: &MnistSet, device: &Device) -> Result<Confusion, InferError> {
    Confusion::from_predictions(set.labels(), &predict_set(net, set, device))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_arithmetic() {
        let mut c = Confusion::default();
        for (truth, predicted) in [(1, 1), (1, 7), (7, 7), (0, 0)] {
            c.add(truth, predicted).unwrap();
        }
        assert_eq!((c.total(), c.correct()), (4, 3));
        assert_eq!(c.accuracy(), 0.75);
        let per = c.per_class_accuracy();
        assert_eq!((per[0], per[1], per[7]), (1.0, 0.5, 1.0));
        assert!(per[2].is_nan());
        assert!(
            c.to_text()
                .lines()
                .nth(2)
                .unwrap()
                .trim()
                .starts_with("1     0     1")
        );
    }

    #[test]
    fn classes_past_nine_are_errors_not_indices() {
        let mut c = Confusion::default();
        assert!(matches!(
            c.add(10, 1),
            Err(InferError::ClassOutOfRange { class: 10 })
        ));
        assert!(matches!(
            c.add(1, 255),
            Err(InferError::ClassOutOfRange { class: 255 })
        ));
        assert_eq!(c.total(), 0);
        assert!(Confusion::from_predictions(&[1, 2, 12], &[1, 2, 3]).is_err());
        assert_eq!(
            Confusion::from_predictions(&[1, 2], &[1, 3])
                .unwrap()
                .total(),
            2
        );
    }
}
