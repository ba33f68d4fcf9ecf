//! The network's intermediate results for one drawing, as gray levels the page paints:
//! `?maps=true` (the two convolutions' feature maps) and `?stages=true` (every stage, from the
//! 28x28 input to the 10 outputs: [`model::stage_values`], which the browser build computes
//! too).

use infer::Predictor;
use model::stage_values::gray_maps;
use model::{NUM_CLASSES, Pixels, StageValues, images_to_tensor};
use serde::{Deserialize, Serialize};

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
        let (conv1_side, conv1) = gray_maps(self.stages.conv1.clone());
        let (conv2_side, conv2) = gray_maps(self.stages.conv2.clone());
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
        model::stage_values(&self.stages, pixels, probabilities)
    }
}
