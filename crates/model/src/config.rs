//! The network's hyper-parameters. Defaults are the lecture's network; every field can be
//! changed from the training CLI and is saved as JSON next to a trained record, so that an
//! inference program can rebuild the exact module the weights belong to.

use std::fmt;

use burn::config::Config;
use serde::{Deserialize, Serialize};

/// Configuration of [`crate::MnistCnn`]; `init` builds the module on a device.
#[derive(Config, Debug, PartialEq)]
pub struct MnistCnnConfig {
    /// Filters of the first convolution (the lecture: 32).
    #[config(default = 32)]
    pub conv1_filters: usize,
    /// Filters of the second convolution (the lecture: 64).
    #[config(default = 64)]
    pub conv2_filters: usize,
    /// Side of the square convolution kernels (the lecture: 3).
    #[config(default = 3)]
    pub kernel_size: usize,
    /// Units of the hidden dense layer (the lecture: 512).
    #[config(default = 512)]
    pub hidden_units: usize,
    /// Dropout probability before the last dense layer; active only while training.
    #[config(default = 0.5)]
    pub dropout: f64,
    /// Non-linearity after each convolution and after the hidden dense layer.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Down-sampling after each convolution (always 2x2, stride 2).
    #[config(default = "Pooling::Max")]
    pub pooling: Pooling,
    /// Border handling of the convolutions.
    #[config(default = "Padding::Valid")]
    pub padding: Padding,
}

/// The activation function. The lecture recommends leaky ReLU against "dying" ReLUs: units whose
/// input stays negative get zero gradient under ReLU and never recover; a small negative slope
/// keeps a gradient flowing.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `x` for `x > 0`, `slope * x` otherwise.
    LeakyRelu {
        /// Slope for negative inputs (commonly 0.01).
        slope: f64,
    },
}

/// Which activation, without its parameter: what the `--activation` flag names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum ActivationKind {
    /// [`Activation::Relu`].
    Relu,
    /// [`Activation::LeakyRelu`].
    LeakyRelu,
}

/// The pooling operation applied after each convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// Keep the largest value of each 2x2 window.
    Max,
    /// Keep the mean of each 2x2 window.
    Avg,
}

/// How the convolutions treat the border.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Padding {
    /// No padding: the output shrinks, `floor((W - F) / S) + 1`.
    Valid,
    /// Zero padding so that the output keeps the input's size (stride 1).
    Same,
}

/// A configuration that describes no buildable network (a zero size, a kernel larger than its
/// input, a dropout outside `[0, 1)`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid model configuration: {0}")]
pub struct InvalidConfig(pub String);

impl Activation {
    /// The default slope of [`Activation::LeakyRelu`], as in most frameworks.
    pub const DEFAULT_LEAKY_SLOPE: f64 = 0.01;

    /// The activation of `kind`; `slope` is used by leaky ReLU only.
    pub fn new(kind: ActivationKind, slope: f64) -> Self {
        match kind {
            ActivationKind::Relu => Self::Relu,
            ActivationKind::LeakyRelu => Self::LeakyRelu { slope },
        }
    }

    /// Which activation this is.
    pub fn kind(&self) -> ActivationKind {
        match self {
            Self::Relu => ActivationKind::Relu,
            Self::LeakyRelu { .. } => ActivationKind::LeakyRelu,
        }
    }
}

impl fmt::Display for ActivationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Relu => "relu",
            Self::LeakyRelu => "leaky-relu",
        })
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Relu => f.write_str("relu"),
            Self::LeakyRelu { slope } => write!(f, "leaky-relu({slope})"),
        }
    }
}

impl fmt::Display for Pooling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Max => "max",
            Self::Avg => "avg",
        })
    }
}

impl fmt::Display for Padding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Valid => "valid",
            Self::Same => "same",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_lectures_network() {
        let c = MnistCnnConfig::new();
        assert_eq!(
            (c.conv1_filters, c.conv2_filters, c.kernel_size),
            (32, 64, 3)
        );
        assert_eq!(c.hidden_units, 512);
        assert_eq!(c.dropout, 0.5);
        assert_eq!(c.activation, Activation::Relu);
        assert_eq!(c.pooling, Pooling::Max);
        assert_eq!(c.padding, Padding::Valid);
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let c = MnistCnnConfig::new()
            .with_activation(Activation::LeakyRelu { slope: 0.1 })
            .with_pooling(Pooling::Avg)
            .with_padding(Padding::Same)
            .with_hidden_units(128);
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"leaky-relu\""), "{json}");
        assert!(json.contains("\"avg\""), "{json}");
        let back: MnistCnnConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn activation_kind_and_slope_round_trip() {
        let leaky = Activation::new(ActivationKind::LeakyRelu, 0.2);
        assert_eq!(leaky, Activation::LeakyRelu { slope: 0.2 });
        assert_eq!(leaky.kind(), ActivationKind::LeakyRelu);
        assert_eq!(Activation::new(ActivationKind::Relu, 0.2), Activation::Relu);
        assert_eq!(leaky.to_string(), "leaky-relu(0.2)");
    }

    #[test]
    fn config_files_that_name_the_class_count_still_load() {
        // Records trained before the class count became the constant NUM_CLASSES say so.
        let json = r#"{"conv1_filters":32,"conv2_filters":64,"kernel_size":3,"hidden_units":512,
            "num_classes":10,"dropout":0.5,"activation":"relu","pooling":"max","padding":"valid"}"#;
        let c: MnistCnnConfig = serde_json::from_str(json).expect("old config");
        assert_eq!(c, MnistCnnConfig::new());
    }
}
