//! What the page says about each stage of the served network: its shape, the formula that gives
//! that shape, and the parameters of the layer that makes it (`GET /api/model`).
//!
//! Everything is computed from the model's configuration (shapes from [`Shapes`], parameter
//! counts from [`MnistCnnConfig::summary`]), so a model trained with other sizes, another kernel
//! or `same` padding shows its own numbers; the page hard-codes none of them.

use model::shape::{POOL_SIZE, Shapes, output_side};
use model::{IMAGE_SIZE, MnistCnnConfig, NUM_CLASSES, Padding, Summary};
use serde::{Deserialize, Serialize};

/// The stages, in order, as the page and `?stages=true` name them.
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

/// The answer of `GET /api/model`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The served model's configuration.
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
        let summary = config.summary();
        let k = config.kernel_size;
        let act = config.activation.to_string();
        let padding = match config.padding {
            Padding::Valid => 0,
            // 'same' pads (k-1)/2 on each side (odd k, checked by the configuration).
            Padding::Same => (k - 1) / 2,
        };
        let conv = |input: usize, filters: usize, in_channels: usize, out: [usize; 3], name| {
            let side = output_side(input, k, 1, 2 * padding);
            debug_assert_eq!(side, out[0], "the formula gives the module's shape");
            let pad = if padding > 0 {
                format!("+2*{padding}")
            } else {
                String::new()
            };
            let params = params_of(&summary, name);
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
                    thousands(params)
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
        let hidden_params = params_of(&summary, "fc1");
        let output_params = params_of(&summary, "fc2");
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
            conv(IMAGE_SIZE, config.conv1_filters, 1, shapes.conv1, "conv1"),
            pool(shapes.conv1[0], shapes.pool1, "pool1"),
            conv(
                shapes.pool1[0],
                config.conv2_filters,
                config.conv1_filters,
                shapes.conv2,
                "conv2",
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
                params: hidden_params,
                params_formula: format!(
                    "{h}*({}+1) = {}",
                    shapes.flatten,
                    thousands(hidden_params)
                ),
            },
            StageInfo {
                name: "outputs".into(),
                layer: format!("dense {NUM_CLASSES}, softmax: one probability per digit"),
                shape: vec![NUM_CLASSES],
                formula: format!("{h} -> {NUM_CLASSES} scores -> softmax"),
                params: output_params,
                params_formula: format!(
                    "{NUM_CLASSES}*({h}+1) = {}",
                    thousands(output_params)
                ),
            },
        ];
        Self {
            config: config.clone(),
            stages,
            total_params: summary.total_params(),
        }
    }
}

/// The parameters of the summary's layer `name` (`conv1 (Conv2d 3x3, valid)` is `conv1`).
fn params_of(summary: &Summary, name: &str) -> usize {
    summary
        .layers
        .iter()
        .filter(|l| l.layer.split_whitespace().next() == Some(name))
        .map(|l| l.params)
        .sum()
}

/// `18496` -> `18,496`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Activation, Pooling};

    fn stage<'a>(info: &'a ModelInfo, name: &str) -> &'a StageInfo {
        info.stages.iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn the_lectures_network_has_the_lectures_numbers() {
        let info = ModelInfo::of(&MnistCnnConfig::new());
        let names: Vec<&str> = info.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, STAGE_NAMES);
        let expected: [(&str, &[usize], &str, &str); 7] = [
            ("input", &[28, 28, 1], "28x28 gray levels, 1 channel", ""),
            (
                "conv1",
                &[26, 26, 32],
                "floor((28-3)/1)+1 = 26",
                "32*(3*3*1+1) = 320",
            ),
            ("pool1", &[13, 13, 32], "floor((26-2)/2)+1 = 13", ""),
            (
                "conv2",
                &[11, 11, 64],
                "floor((13-3)/1)+1 = 11",
                "64*(3*3*32+1) = 18,496",
            ),
            ("pool2", &[5, 5, 64], "floor((11-2)/2)+1 = 5", ""),
            (
                "hidden",
                &[512],
                "flatten 5*5*64 = 1600 -> 512 units",
                "512*(1600+1) = 819,712",
            ),
            (
                "outputs",
                &[10],
                "512 -> 10 scores -> softmax",
                "10*(512+1) = 5,130",
            ),
        ];
        for (name, shape, formula, params) in expected {
            let s = stage(&info, name);
            assert_eq!((s.shape.as_slice(), s.formula.as_str()), (shape, formula));
            assert_eq!(s.params_formula, params, "{name}");
        }
        assert_eq!(info.total_params, 843_658);
    }

    /// Other sizes: the numbers follow the configuration, and every layer's parameters (as its
    /// formula writes them) add up to the summary's total.
    #[test]
    fn another_network_shows_its_own_numbers() {
        let config = MnistCnnConfig::new()
            .with_padding(Padding::Same)
            .with_kernel_size(5)
            .with_conv1_filters(8)
            .with_conv2_filters(16)
            .with_hidden_units(100)
            .with_pooling(Pooling::Avg)
            .with_activation(Activation::LeakyRelu { slope: 0.1 });
        let info = ModelInfo::of(&config);
        assert_eq!(stage(&info, "conv1").shape, [28, 28, 8]);
        assert_eq!(stage(&info, "conv1").formula, "floor((28+2*2-5)/1)+1 = 28");
        assert_eq!(stage(&info, "pool1").formula, "floor((28-2)/2)+1 = 14");
        assert_eq!(stage(&info, "conv2").shape, [14, 14, 16]);
        assert_eq!(stage(&info, "pool2").shape, [7, 7, 16]);
        assert_eq!(
            stage(&info, "hidden").formula,
            "flatten 7*7*16 = 784 -> 100 units"
        );
        assert!(stage(&info, "pool1").layer.starts_with("avg-pool"));
        assert!(stage(&info, "conv2").layer.ends_with("leaky-relu(0.1)"));
        let total: usize = info.stages.iter().map(|s| s.params).sum();
        assert_eq!(total, info.total_params);
        assert_eq!(total, config.summary().total_params());
        for s in &info.stages {
            let Some((expr, result)) = s.params_formula.split_once(" = ") else {
                assert_eq!(s.params, 0, "{}", s.name);
                continue;
            };
            assert_eq!(result.replace(',', ""), s.params.to_string(), "{}", s.name);
            assert_eq!(evaluate(expr), s.params, "{}: {expr}", s.name);
        }
    }

    /// `a*(b*c*d+e)` and `a*(b+c)`: the two forms the parameter formulas take.
    fn evaluate(expr: &str) -> usize {
        let (factor, sum) = expr.split_once("*(").unwrap();
        let sum: usize = sum
            .trim_end_matches(')')
            .split('+')
            .map(|term| {
                term.split('*')
                    .map(|f| f.parse::<usize>().unwrap())
                    .product::<usize>()
            })
            .sum();
        factor.parse::<usize>().unwrap() * sum
    }

    #[test]
    fn thousands_separator() {
        assert_eq!(thousands(320), "320");
        assert_eq!(thousands(18_496), "18,496");
        assert_eq!(thousands(843_658), "843,658");
    }
}
