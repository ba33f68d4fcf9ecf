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
