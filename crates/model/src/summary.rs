//! A Keras-style summary of the network: every layer's output shape and parameter count,
//! computed from the configuration alone (no module, no device needed).

use std::fmt;

use crate::MnistCnnConfig;
use crate::shape::Shapes;

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSummary {
    /// Layer name and kind, e.g. `conv1 (Conv2d 3x3)`.
    pub layer: String,
    /// Output shape without the batch dimension, e.g. `[26, 26, 32]` (height, width, channels)
    /// or `[512]`.
    pub output_shape: Vec<usize>,
    /// Trainable parameters of the layer (weights + biases).
    pub params: usize,
}

/// The whole table; `Display` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Rows from input to logits.
    pub layers: Vec<LayerSummary>,
}

impl Summary {
    /// Total trainable parameters (843,658 for the default network).
    pub fn total_params(&self) -> usize {
        self.layers.iter().map(|l| l.params).sum()
    }
}

/// Trainable parameters (weights and biases) of each layer that has any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamCounts {
    /// `conv1_filters * (k*k*1 + 1)`.
    pub conv1: usize,
    /// `conv2_filters * (k*k*conv1_filters + 1)`.
    pub conv2: usize,
    /// `hidden_units * (flatten + 1)`.
    pub fc1: usize,
    /// `NUM_CLASSES * (hidden_units + 1)`.
    pub fc2: usize,
}

impl ParamCounts {
    /// All of them.
    pub fn total(&self) -> usize {
        self.conv1 + self.conv2 + self.fc1 + self.fc2
    }
}

impl MnistCnnConfig {
    /// The parameters of each layer: the one place they are computed (the summary and the
    /// stage description read them).
    pub fn param_counts(&self) -> ParamCounts {
        let k = self.kernel_size;
        // conv: filters * (k*k*in_channels weights + 1 bias); dense: out * (in + 1)
        ParamCounts {
            conv1: self.conv1_filters * (k * k + 1),
            conv2: self.conv2_filters * (k * k * self.conv1_filters + 1),
            fc1: self.hidden_units * (Shapes::of(self).flatten + 1),
            fc2: crate::NUM_CLASSES * (self.hidden_units + 1),
        }
    }

    /// The layer-by-layer summary of the network this configuration builds.
    pub fn summary(&self) -> Summary {
        let s = Shapes::of(self);
        let k = self.kernel_size;
        let act = self.activation.kind().to_string();
        let pool = format!("{}-pool 2x2/2", self.pooling);
        let row = |layer: String, output_shape: &[usize], params: usize| LayerSummary {
            layer,
            output_shape: output_shape.to_vec(),
            params,
        };
        let ParamCounts {
            conv1: conv1_params,
            conv2: conv2_params,
            fc1: fc1_params,
            fc2: fc2_params,
        } = self.param_counts();
        Summary {
            layers: vec![
                row(
                    "input".into(),
                    &[crate::IMAGE_SIZE, crate::IMAGE_SIZE, 1],
                    0,
                ),
                row(
                    format!("conv1 (Conv2d {k}x{k}, {})", self.padding),
                    &s.conv1,
                    conv1_params,
                ),
                row(act.clone(), &s.conv1, 0),
                row(pool.clone(), &s.pool1, 0),
                row(
                    format!("conv2 (Conv2d {k}x{k}, {})", self.padding),
                    &s.conv2,
                    conv2_params,
                ),
                row(act.clone(), &s.conv2, 0),
                row(pool, &s.pool2, 0),
                row("flatten".into(), &[s.flatten], 0),
                row("fc1 (Linear)".into(), &[self.hidden_units], fc1_params),
                row(act.clone(), &[self.hidden_units], 0),
                row(
                    format!("dropout ({})", self.dropout),
                    &[self.hidden_units],
                    0,
                ),
                row("fc2 (Linear)".into(), &[crate::NUM_CLASSES], fc2_params),
                row("softmax".into(), &[crate::NUM_CLASSES], 0),
            ],
        }
    }
}

/// `1234567` -> `1,234,567`.
pub(crate) fn with_thousands(n: usize) -> String {
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

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shape = |dims: &[usize]| {
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("x")
        };
        let rule = "-".repeat(58);
        writeln!(f, "{:<30} {:<14} {:>12}", "Layer", "Output shape", "Params")?;
        writeln!(f, "{}", "=".repeat(58))?;
        for l in &self.layers {
            writeln!(
                f,
                "{:<30} {:<14} {:>12}",
                l.layer,
                shape(&l.output_shape),
                with_thousands(l.params)
            )?;
        }
        writeln!(f, "{rule}")?;
        write!(f, "Total params: {}", with_thousands(self.total_params()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separator() {
        assert_eq!(with_thousands(0), "0");
        assert_eq!(with_thousands(320), "320");
        assert_eq!(with_thousands(18_496), "18,496");
        assert_eq!(with_thousands(843_658), "843,658");
        assert_eq!(with_thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn default_summary_has_the_lectures_numbers() {
        let summary = MnistCnnConfig::new().summary();
        assert_eq!(summary.total_params(), 843_658);
        let params: Vec<usize> = summary.layers.iter().map(|l| l.params).collect();
        assert_eq!(
            params,
            [0, 320, 0, 0, 18_496, 0, 0, 0, 819_712, 0, 0, 5_130, 0]
        );
        let text = summary.to_string();
        for expected in [
            "26x26x32", "13x13x32", "11x11x64", "5x5x64", "1600", "512", "10", "843,658",
        ] {
            assert!(text.contains(expected), "missing {expected} in\n{text}");
        }
        assert!(text.ends_with("Total params: 843,658"), "{text}");
    }
}
