//! The network's intermediate results for one drawing, as gray levels the page paints:
//! `?maps=true` (the two convolutions' feature maps) and `?stages=true` (every stage, from the
//! 28x28 input to the 10 outputs).

use burn::tensor::Tensor;
use infer::Predictor;
use model::{NUM_CLASSES, Pixels, images_to_tensor};
use serde::{Deserialize, Serialize};

use crate::architecture::STAGE_NAMES;

/// Feature maps as `[channel][row * side + col]` gray levels.
#[derive(Serialize, Deserialize, Debug)]
pub struct FeatureMapsJson {
    /// Side of each conv1 map (26).
    pub conv1_side: usize,
    /// conv1 maps (32 of them).
    pub conv1: Vec<Vec<u8>>,
    /// Side of each conv2 map (11).
    pub conv2_side: usize,
    /// conv2 maps (64).
    pub conv2: Vec<Vec<u8>>,
}

/// One stage's values (`?stages=true`), in the order of [`STAGE_NAMES`].
#[derive(Serialize, Deserialize, Debug)]
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

/// The intermediate results of `pixels` through the predictor's network.
pub struct Activations {
    stages: model::Stages,
}

impl Activations {
    /// Runs the network on one preprocessed image, keeping every stage.
    pub fn of(predictor: &Predictor, pixels: &Pixels) -> Self {
        let images = images_to_tensor(std::slice::from_ref(pixels), predictor.device());
        Self {
            stages: predictor.net().stages(images),
        }
    }

    /// The post-activation maps of both convolutions (`?maps=true`).
    pub fn feature_maps(&self) -> FeatureMapsJson {
        let (conv1_side, conv1) = maps(self.stages.conv1.clone());
        let (conv2_side, conv2) = maps(self.stages.conv2.clone());
        FeatureMapsJson {
            conv1_side,
            conv1,
            conv2_side,
            conv2,
        }
    }

    /// Every stage (`?stages=true`); `pixels` and `probabilities` are the input and the
    /// outputs the answer already holds.
    pub fn stages(&self, pixels: &Pixels, probabilities: &[f32; NUM_CLASSES]) -> Vec<StageValues> {
        let s = &self.stages;
        let map_stage = |t: &Tensor<4>| {
            let [_, channels, height, width] = t.dims();
            ([height, width, channels].to_vec(), maps(t.clone()).1)
        };
        let hidden = floats(s.hidden.clone());
        let outputs = probabilities
            .iter()
            .map(|p| (255.0 * p.clamp(0.0, 1.0)).round() as u8)
            .collect();
        let side = model::IMAGE_SIZE;
        let values = [
            (vec![side, side, 1], vec![pixels.to_vec()]),
            map_stage(&s.conv1),
            map_stage(&s.pool1),
            map_stage(&s.conv2),
            map_stage(&s.pool2),
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
}

/// `[1, channels, side, side]` -> the side and one gray list per channel.
fn maps(t: Tensor<4>) -> (usize, Vec<Vec<u8>>) {
    let [_, channels, side, _] = t.dims();
    let maps = floats(t)
        .chunks_exact(side * side)
        .take(channels)
        .map(scaled)
        .collect();
    (side, maps)
}

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
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
