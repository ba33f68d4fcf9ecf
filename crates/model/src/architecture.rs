//! The network described stage by stage, for people: each stage's name, output shape, the
//! formula that gives the shape, and the parameters of the layer that makes it.
//!
//! Everything is computed from [`MnistCnnConfig`] (shapes from [`Shapes`], parameters from
//! [`MnistCnnConfig::param_counts`]), so a model trained with other sizes, another kernel or
//! `same` padding is described with its own numbers. The draw-a-digit page reads it twice: from
//! `serve`'s `GET /api/model`, and from the WebAssembly build (`crates/web`) when the page runs
//! in the browser alone.

use serde::{Deserialize, Serialize};

use crate::shape::{POOL_SIZE, Shapes, output_side};
use crate::summary::with_thousands;
use crate::{IMAGE_SIZE, MnistCnnConfig, NUM_CLASSES, Padding};

/// The stages, in order, as the page and the stage values name them.
pub const STAGE_NAMES: [&str; 7] = [
    "input", "conv1", "pool1", "conv2", "pool2", "hidden", "outputs",
];

/// One stage of the forward pass.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct StageInfo {
    /// One of [`STAGE_NAMES`].
    pub name: String,
    /// What produces it, e.g. `32 filters 3x3, stride 1, valid padding, relu`.
    pub layer: String,
    /// Shape without the batch: `[height, width, channels]` for maps, `[units]` for vectors.
    pub shape: Vec<usize>,
    /// How the shape follows from the previous stage, e.g. `floor((28-3)/1)+1 = 26`.
    pub formula: String,
    /// Trainable parameters of the layer that produces the stage (0 for input and pooling).
    pub params: usize,
    /// How they add up, e.g. `32*(3*3*1+1) = 320`; empty for layers without parameters.
    pub params_formula: String,
}

/// The whole network, stage by stage (`serve`'s `GET /api/model`, the browser build's
/// `describe`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The model's configuration.
    pub config: MnistCnnConfig,
    /// Input to outputs, named as [`STAGE_NAMES`].
    pub stages: Vec<StageInfo>,
    /// All trainable parameters.
    pub total_params: usize,
}

impl ModelInfo {
    /// The description of the network `config` builds.
    pub fn of(config: &MnistCnnConfig) -> Self {
        let shapes = Shapes::of(config);
        let params = config.param_counts();
        let k = config.kernel_size;
        let act = config.activation.to_string();
        let padding = match config.padding {
            Padding::Valid => 0,
            // 'same' pads (k-1)/2 on each side (odd k, checked by the configuration).
            Padding::Same => (k - 1) / 2,
        };
        let conv = |input: usize,
                    filters: usize,
                    in_channels: usize,
                    out: [usize; 3],
                    name: &str,
                    params: usize| {
            let side = output_side(input, k, 1, 2 * padding);
            debug_assert_eq!(side, out[0], "the formula gives the module's shape");
            let pad = if padding > 0 {
                format!("+2*{padding}")
            } else {
                String::new()
            };
            StageInfo {
                name: name.into(),
                layer: format!(
                    "{filters} filters {k}x{k} over {in_channels} channel{}, stride 1, {} padding, {act}",
                    if in_channels == 1 { "" } else { "s" },
                    config.padding
                ),
                shape: out.to_vec(),
                formula: format!("floor(({input}{pad}-{k})/1)+1 = {side}"),
                params,
                params_formula: format!(
                    "{filters}*({k}*{k}*{in_channels}+1) = {}",
                    with_thousands(params)
                ),
            }
        };
        let pool = |input: usize, out: [usize; 3], name: &str| {
            let side = output_side(input, POOL_SIZE, POOL_SIZE, 0);
            debug_assert_eq!(side, out[0], "the formula gives the module's shape");
            StageInfo {
                name: name.into(),
                layer: format!(
                    "{}-pool {POOL_SIZE}x{POOL_SIZE}, stride {POOL_SIZE}",
                    config.pooling
                ),
                shape: out.to_vec(),
                formula: format!("floor(({input}-{POOL_SIZE})/{POOL_SIZE})+1 = {side}"),
                params: 0,
                params_formula: String::new(),
            }
        };
        let [p2, _, c2] = shapes.pool2;
        let h = config.hidden_units;
        let stages = vec![
            StageInfo {
                name: "input".into(),
                layer: "your drawing, framed like MNIST: cropped to the ink, scaled to 20 px, centred by mass".into(),
                shape: vec![IMAGE_SIZE, IMAGE_SIZE, 1],
                formula: format!("{IMAGE_SIZE}x{IMAGE_SIZE} gray levels, 1 channel"),
                params: 0,
                params_formula: String::new(),
            },
            conv(IMAGE_SIZE, config.conv1_filters, 1, shapes.conv1, "conv1", params.conv1),
            pool(shapes.conv1[0], shapes.pool1, "pool1"),
            conv(
                shapes.pool1[0],
                config.conv2_filters,
                config.conv1_filters,
                shapes.conv2,
                "conv2",
                params.conv2,
            ),
            pool(shapes.conv2[0], shapes.pool2, "pool2"),
            StageInfo {
                name: "hidden".into(),
                layer: format!(
                    "flatten, dense {h}, {act} (dropout {} while training only)",
                    config.dropout
                ),
                shape: vec![h],
                formula: format!("flatten {p2}*{p2}*{c2} = {} -> {h} units", shapes.flatten),
                params: params.fc1,
                params_formula: format!(
                    "{h}*({}+1) = {}",
                    shapes.flatten,
                    with_thousands(params.fc1)
                ),
            },
            StageInfo {
                name: "outputs".into(),
                layer: format!("dense {NUM_CLASSES}, softmax: one probability per digit"),
                shape: vec![NUM_CLASSES],
                formula: format!("{h} -> {NUM_CLASSES} scores -> softmax"),
                params: params.fc2,
                params_formula: format!("{NUM_CLASSES}*({h}+1) = {}", with_thousands(params.fc2)),
            },
        ];
        Self {
            config: config.clone(),
            stages,
            total_params: params.total(),
        }
    }
}

#[cfg(test)]
mod tests;
