//! The optimiser and its hyper-parameters, nested in the training configuration the way Burn
//! nests its own optimiser configs, so that `config.json` records every value that shaped a run.

use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// Which optimiser: what `--optimizer` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerKind {
    /// Adam (β = 0.9, 0.999).
    Adam,
    /// AdamW: Adam with decoupled weight decay.
    Adamw,
    /// Stochastic gradient descent with momentum.
    Sgd,
}

/// The optimiser with its hyper-parameters (the learning rate is the training configuration's
/// `lr`, shared with the schedule). Saved as `{"kind": "adam", "beta_1": 0.9, ...}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OptimizerConfig {
    /// Adam: betas, epsilon, optional weight decay and gradient clipping.
    Adam(AdamConfig),
    /// AdamW: betas, epsilon, decoupled weight decay, gradient clipping.
    Adamw(AdamWConfig),
    /// SGD: momentum (with dampening and Nesterov), weight decay, gradient clipping.
    Sgd(SgdConfig),
}

impl OptimizerConfig {
    /// The defaults of `kind`: Burn's for Adam (β = 0.9, 0.999, ε = 1e-5) and AdamW (the same,
    /// weight decay 1e-4); SGD with momentum 0.9 and no dampening.
    pub fn new(kind: OptimizerKind) -> Self {
        match kind {
            OptimizerKind::Adam => Self::Adam(AdamConfig::new()),
            OptimizerKind::Adamw => Self::Adamw(AdamWConfig::new()),
            OptimizerKind::Sgd => Self::Sgd(SgdConfig::new().with_momentum(Some(
                MomentumConfig::new().with_momentum(0.9).with_dampening(0.0),
            ))),
        }
    }

    /// Which optimiser this is.
    pub fn kind(&self) -> OptimizerKind {
        match self {
            Self::Adam(_) => OptimizerKind::Adam,
            Self::Adamw(_) => OptimizerKind::Adamw,
            Self::Sgd(_) => OptimizerKind::Sgd,
        }
    }

    /// The optimiser, ready for Burn's `Learner`.
    pub fn init(&self) -> ModuleOptimizer {
        match self {
            Self::Adam(config) => config.init(),
            Self::Adamw(config) => config.init(),
            Self::Sgd(config) => config.init(),
        }
    }
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self::new(OptimizerKind::Adam)
    }
}

/// Burn's optimiser configs implement no `PartialEq`; two configs are equal when they save as
/// the same JSON, which is what a rerun from `config.json` reproduces.
impl PartialEq for OptimizerConfig {
    fn eq(&self, other: &Self) -> bool {
        let json = |c: &Self| serde_json::to_value(c).expect("plain numbers serialise");
        json(self) == json(other)
    }
}

/// Checks every hyper-parameter of `config` against its range, naming the first one out of it
/// (`optimizer.beta_1 must be in [0, 1), got 2`).
///
/// Burn's optimiser configs keep their fields private, so the values are read from the
/// configuration's JSON, by name: every number must be finite (a value too large for its
/// `f32` reads as infinity and saves as `null`), and these have ranges of their own:
/// - `beta_1` and `beta_2` in [0, 1) (1 never forgets, beyond it the moments grow);
/// - `epsilon` positive (it keeps the update's denominator from 0);
/// - weight decay (`weight_decay`, `penalty`) at least 0 (a negative one grows the weights);
/// - `momentum` in [0, 1), `dampening` in [0, 1];
/// - a gradient clipping bound (`Value`, `Norm`) positive.
pub fn validate(config: &OptimizerConfig) -> Result<(), String> {
    let value = serde_json::to_value(config).map_err(|e| e.to_string())?;
    check_fields(&value, "optimizer")
}

/// The keys whose `null` means "off" (an `Option` left out); anywhere else a `null` is a
/// number that was not finite.
const OPTIONAL: [&str; 4] = [
    "weight_decay",
    "momentum",
    "grad_clipping",
    "gradient_clipping",
];

fn check_fields(value: &serde_json::Value, path: &str) -> Result<(), String> {
    use serde_json::Value;
    let Value::Object(fields) = value else {
        return Ok(());
    };
    let adamw = fields.get("kind").and_then(Value::as_str) == Some("adamw");
    for (key, value) in fields {
        let name = format!("{path}.{key}");
        let number = match value {
            Value::Object(_) => {
                check_fields(value, &name)?;
                continue;
            }
            Value::Null
                if OPTIONAL.contains(&key.as_str()) && !(adamw && key == "weight_decay") =>
            {
                continue;
            }
            Value::Null => {
                return Err(format!(
                    "{name} must be a finite number, got null (too large, or not a number)"
                ));
            }
            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            _ => continue,
        };
        let (ok, range) = match key.as_str() {
            "beta_1" | "beta_2" | "momentum" => ((0.0..1.0).contains(&number), "in [0, 1)"),
            "epsilon" | "Value" | "Norm" => (number > 0.0, "> 0"),
            "weight_decay" | "penalty" => (number >= 0.0, ">= 0"),
            "dampening" => ((0.0..=1.0).contains(&number), "in [0, 1]"),
            _ => (true, "finite"),
        };
        if !(ok && number.is_finite()) {
            return Err(format!("{name} must be {range}, got {number}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hyper_parameter_is_saved_and_read_back() {
        for kind in OptimizerKind::value_variants() {
            let config = OptimizerConfig::new(*kind);
            let json = serde_json::to_string(&config).unwrap();
            let back: OptimizerConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back, config, "{json}");
            assert_eq!(back.kind(), *kind);
        }
        let json = |kind| serde_json::to_value(OptimizerConfig::new(kind)).unwrap();
        let adam = json(OptimizerKind::Adam);
        assert_eq!(adam["kind"], "adam");
        assert!(
            (adam["beta_1"].as_f64().unwrap() - 0.9).abs() < 1e-6,
            "{adam}"
        );
        assert!((adam["beta_2"].as_f64().unwrap() - 0.999).abs() < 1e-6);
        assert!(adam["epsilon"].as_f64().unwrap() > 0.0);
        let adamw = json(OptimizerKind::Adamw);
        assert!(
            (adamw["weight_decay"].as_f64().unwrap() - 1e-4).abs() < 1e-9,
            "{adamw}"
        );
        let sgd = json(OptimizerKind::Sgd);
        assert_eq!(sgd["momentum"]["momentum"], 0.9, "{sgd}");
        assert_eq!(sgd["momentum"]["dampening"], 0.0);
    }

    #[test]
    fn every_hyper_parameter_has_a_range() {
        use burn::optim::decay::WeightDecayConfig;
        use burn::optim::grad_clipping::GradientClippingConfig;
        use burn::optim::momentum::MomentumConfig;
        for kind in OptimizerKind::value_variants() {
            assert_eq!(validate(&OptimizerConfig::new(*kind)), Ok(()), "{kind:?}");
        }
        let adam = || AdamConfig::new();
        let sgd = || SgdConfig::new();
        for (config, field) in [
            (
                OptimizerConfig::Adam(adam().with_beta_1(2.0)),
                "optimizer.beta_1 must be in [0, 1), got 2",
            ),
            (
                OptimizerConfig::Adam(adam().with_beta_1(1.0)),
                "optimizer.beta_1",
            ),
            (
                OptimizerConfig::Adam(adam().with_beta_2(-0.1)),
                "optimizer.beta_2",
            ),
            (
                OptimizerConfig::Adam(adam().with_epsilon(-1.0)),
                "optimizer.epsilon must be > 0, got -1",
            ),
            (
                OptimizerConfig::Adam(adam().with_epsilon(0.0)),
                "optimizer.epsilon",
            ),
            (
                OptimizerConfig::Adam(adam().with_epsilon(f32::INFINITY)),
                "optimizer.epsilon must be a finite number",
            ),
            (
                OptimizerConfig::Adam(adam().with_weight_decay(Some(WeightDecayConfig::new(-1.0)))),
                "optimizer.weight_decay.penalty",
            ),
            (
                OptimizerConfig::Adam(
                    adam().with_grad_clipping(Some(GradientClippingConfig::Norm(0.0))),
                ),
                "optimizer.grad_clipping.Norm",
            ),
            (
                OptimizerConfig::Adamw(AdamWConfig::new().with_weight_decay(-1.0)),
                "optimizer.weight_decay must be >= 0",
            ),
            (
                OptimizerConfig::Adamw(AdamWConfig::new().with_weight_decay(f32::NAN)),
                "optimizer.weight_decay must be a finite number",
            ),
            (
                OptimizerConfig::Adamw(AdamWConfig::new().with_beta_2(1.5)),
                "optimizer.beta_2",
            ),
            (
                OptimizerConfig::Sgd(
                    sgd().with_momentum(Some(MomentumConfig::new().with_momentum(1.0))),
                ),
                "optimizer.momentum.momentum",
            ),
            (
                OptimizerConfig::Sgd(
                    sgd().with_momentum(Some(MomentumConfig::new().with_dampening(2.0))),
                ),
                "optimizer.momentum.dampening",
            ),
            (
                OptimizerConfig::Sgd(
                    sgd().with_gradient_clipping(Some(GradientClippingConfig::Value(-1.0))),
                ),
                "optimizer.gradient_clipping.Value",
            ),
        ] {
            let err = validate(&config).unwrap_err();
            assert!(err.starts_with(field), "{field}: {err}");
        }
    }

    #[test]
    fn different_hyper_parameters_are_different_configs() {
        let a = OptimizerConfig::Adam(AdamConfig::new());
        let b = OptimizerConfig::Adam(AdamConfig::new().with_beta_2(0.99));
        assert_ne!(a, b);
        assert_ne!(
            OptimizerConfig::new(OptimizerKind::Adam),
            OptimizerConfig::new(OptimizerKind::Adamw)
        );
    }
}
