//! The network's intermediate results for one image as gray levels a page can paint: every
//! stage from the 28x28 input to the 10 outputs, in the order of [`STAGE_NAMES`]. `serve`
//! answers them to `?stages=true`; the WebAssembly build (`crates/web`) computes the same in the
//! browser, from the same code.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::architecture::STAGE_NAMES;
use crate::{IMAGE_SIZE, NUM_CLASSES, Pixels, Stages};

/// One stage's values.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct StageValues {
    /// One of [`STAGE_NAMES`].
    pub name: String,
    /// `[height, width, channels]` for maps, `[units]` for vectors.
    pub shape: Vec<usize>,
    /// Gray levels 0..255: one `row * width + col` list per channel of a map stage, each scaled
    /// to its own maximum; a single list for a vector (the hidden units scaled to the largest;
    /// the outputs are the probabilities times 255). The input is the preprocessed image as it
    /// is, white ink on black.
    pub values: Vec<Vec<u8>>,
}

/// Every stage of one image: `stages` is the network's forward pass over a batch of one,
/// `pixels` its input and `probabilities` the softmax of its logits.
pub fn stage_values(
    stages: &Stages,
    pixels: &Pixels,
    probabilities: &[f32; NUM_CLASSES],
) -> Vec<StageValues> {
    let map_stage = |t: &Tensor<4>| {
        let [_, channels, height, width] = t.dims();
        ([height, width, channels].to_vec(), gray_maps(t.clone()).1)
    };
    let hidden = floats(stages.hidden.clone());
    let outputs = probabilities
        .iter()
        .map(|p| (255.0 * p.clamp(0.0, 1.0)).round() as u8)
        .collect();
    let values = [
        (vec![IMAGE_SIZE, IMAGE_SIZE, 1], vec![pixels.to_vec()]),
        map_stage(&stages.conv1),
        map_stage(&stages.pool1),
        map_stage(&stages.conv2),
        map_stage(&stages.pool2),
        (vec![hidden.len()], vec![scaled(&hidden)]),
        (vec![NUM_CLASSES], vec![outputs]),
    ];
    STAGE_NAMES
        .iter()
        .zip(values)
        .map(|(name, (shape, values))| StageValues {
            name: (*name).into(),
            shape,
            values,
        })
        .collect()
}

/// `[1, channels, side, side]` -> the side and one gray list per channel, each scaled to its
/// own maximum.
pub fn gray_maps(t: Tensor<4>) -> (usize, Vec<Vec<u8>>) {
    let [_, channels, side, _] = t.dims();
    let maps = floats(t)
        .chunks_exact(side * side)
        .take(channels)
        .map(scaled)
        .collect();
    (side, maps)
}

/// The values of a float tensor, in order.
pub fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec()
        .expect("converted to f32 just above")
}

/// 0 (or negative: leaky ReLU) -> 0, the largest value -> 255.
fn scaled(values: &[f32]) -> Vec<u8> {
    let hi = values.iter().copied().fold(0.0f32, f32::max).max(1e-6);
    values
        .iter()
        .map(|v| (255.0 * v.max(0.0) / hi).round() as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_scaled_to_the_largest_and_negatives_are_black() {
        assert_eq!(scaled(&[0.0, 1.0, 2.0, -3.0]), [0, 128, 255, 0]);
        assert_eq!(scaled(&[0.0, 0.0]), [0, 0], "an all-zero map stays black");
    }
}
