//! The network's hyper-parameters. Defaults are the lecture's network; every field can be
//! changed from the training CLI and is saved as JSON next to a trained record, so that an
//! inference program can rebuild the exact module the weights belong to.

use std::fmt;

use burn::config::Config;
use serde::{Deserialize, Deserializer, Serialize};

use crate::{IMAGE_SIZE, NUM_CLASSES};

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

/// How a saved configuration (a `config.json`, the `model_config` of a safetensors file) is
/// read: the fields of [`MnistCnnConfig`] plus the class count that older files state. The class
/// count is not a setting (the network always has [`NUM_CLASSES`] outputs), but a file that
/// states another count describes weights this code cannot run, so it is refused rather than
/// ignored.
#[derive(Deserialize)]
struct SavedConfig {
    #[serde(flatten)]
    config: MnistCnnConfig,
    num_classes: Option<u64>,
}

impl MnistCnnConfig {
    /// The most filters a convolution may have (32x the lecture's 32). Filters multiply the
    /// activations of every image of a batch; more than this is a mistyped number, not a design.
    pub const MAX_FILTERS: usize = 1024;
    /// The most units the hidden dense layer may have (32x the lecture's 512).
    pub const MAX_HIDDEN_UNITS: usize = 16_384;
    /// The largest kernel side: the image's. A kernel larger than the 28x28 input sees only
    /// padding, and its weights alone grow with the square of the side (a kernel of 1,000,001
    /// asked for terabytes).
    pub const MAX_KERNEL_SIZE: usize = IMAGE_SIZE;
    /// The most trainable parameters a configuration may describe: 64 Mi float32 weights, 256
    /// MiB, the size of the largest model file `infer` reads. Each field can be within its bound
    /// and the product still huge (1,024 filters with 'same' padding feed 50,176 features to
    /// each hidden unit), so the total is bounded too.
    pub const MAX_PARAMETERS: u64 = 64 << 20;

    /// Checks the sizes against the upper bounds above, with arithmetic that cannot overflow,
    /// before anything is allocated. [`MnistCnnConfig::validate`] checks the lower bounds and
    /// the shapes; a configuration read from a user or a file must pass both (as
    /// [`MnistCnnConfig::deserialize_saved`] does) before [`MnistCnnConfig::init`].
    pub fn check_sizes(&self) -> Result<(), InvalidConfig> {
        let fail = |reason: String| Err(InvalidConfig(reason));
        for (name, value, max) in [
            ("conv1_filters", self.conv1_filters, Self::MAX_FILTERS),
            ("conv2_filters", self.conv2_filters, Self::MAX_FILTERS),
            ("hidden_units", self.hidden_units, Self::MAX_HIDDEN_UNITS),
        ] {
            if value > max {
                return fail(format!("{name} is {value}, more than the {max} allowed"));
            }
        }
        let k = self.kernel_size;
        if k > Self::MAX_KERNEL_SIZE {
            return fail(format!(
                "kernel_size {k} is larger than the {IMAGE_SIZE}x{IMAGE_SIZE} image"
            ));
        }
        let params = self.parameter_count();
        if params > Self::MAX_PARAMETERS {
            return fail(format!(
                "the network would have {params} parameters, more than the {} allowed",
                Self::MAX_PARAMETERS
            ));
        }
        Ok(())
    }

    /// Trainable parameters, saturating (a shape that does not fit counts as none: `validate`
    /// reports it). Only for the bound in [`MnistCnnConfig::check_sizes`]; the summary counts the
    /// layers of a valid configuration.
    fn parameter_count(&self) -> u64 {
        let [f1, f2, k, hidden] = [
            self.conv1_filters,
            self.conv2_filters,
            self.kernel_size,
            self.hidden_units,
        ]
        .map(|v| v as u64);
        let mut side = IMAGE_SIZE as u64;
        for _ in 0..2 {
            if self.padding == Padding::Valid {
                side = (side + 1).saturating_sub(k);
            }
            side /= crate::shape::POOL_SIZE as u64;
        }
        let flatten = side.saturating_mul(side).saturating_mul(f2);
        let kk = k.saturating_mul(k);
        let conv1 = f1.saturating_mul(kk.saturating_add(1));
        let conv2 = f2.saturating_mul(kk.saturating_mul(f1).saturating_add(1));
        let fc1 = hidden.saturating_mul(flatten.saturating_add(1));
        let fc2 = (NUM_CLASSES as u64).saturating_mul(hidden.saturating_add(1));
        conv1
            .saturating_add(conv2)
            .saturating_add(fc1)
            .saturating_add(fc2)
    }

    /// Reads a saved configuration and checks it before anything is built: the outer `Result`
    /// is the deserializer's (not this struct's JSON), the inner one says why a well-formed
    /// configuration describes no network this code can build: a `num_classes` other than
    /// [`NUM_CLASSES`] (older files state it; `10` still loads), a size over the bounds of
    /// [`MnistCnnConfig::check_sizes`], or a shape [`MnistCnnConfig::validate`] refuses.
    ///
    /// ```
    /// # use model::MnistCnnConfig;
    /// let json = serde_json::to_string(&MnistCnnConfig::new().with_hidden_units(128))?;
    /// let mut de = serde_json::Deserializer::from_str(&json);
    /// let config = MnistCnnConfig::deserialize_saved(&mut de)?.expect("valid");
    /// assert_eq!(config.hidden_units, 128);
    ///
    /// let twelve = json.replacen('{', r#"{"num_classes":12,"#, 1);
    /// let mut de = serde_json::Deserializer::from_str(&twelve);
    /// assert!(MnistCnnConfig::deserialize_saved(&mut de)?.is_err());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn deserialize_saved<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Result<Self, InvalidConfig>, D::Error> {
        let saved = SavedConfig::deserialize(deserializer)?;
        Ok(saved.check())
    }
}

impl SavedConfig {
    fn check(self) -> Result<MnistCnnConfig, InvalidConfig> {
        if let Some(n) = self.num_classes
            && n != NUM_CLASSES as u64
        {
            return Err(InvalidConfig(format!(
                "num_classes is {n}; this network has {NUM_CLASSES} classes (the digits 0-9)"
            )));
        }
        self.config.check_sizes()?;
        self.config.validate()?;
        Ok(self.config)
    }
}

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

    /// Whether the activation is non-decreasing (ReLU, leaky ReLU with a slope >= 0), so that
    /// it commutes with a max: pooling first is then the lecture's activate-then-pool.
    pub fn monotone(self) -> bool {
        match self {
            Self::Relu => true,
            Self::LeakyRelu { slope } => slope >= 0.0,
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
