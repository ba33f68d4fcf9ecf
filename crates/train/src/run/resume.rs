//! What `--resume` checks before it hands a run back to Burn, whose checkpoint loading panics
//! on a record that does not fit (`Learner::load_model` calls `load_record`) and on a file it
//! cannot read (`expect("Can load model checkpoint.")`):
//!
//! - the configuration is the one the run was trained with, apart from the settings a resumed
//!   run may change ([`RESUMABLE`]);
//! - the checkpoint's three records (model, optimiser, scheduler) read, and the model record
//!   fits the network, each failure an error naming its file
//!   ([`crate::learner::selection::verify_checkpoint`], beside the checkpoint loading).

use crate::config::TrainingConfig;

/// The settings a resumed run may change: how long it goes on, and with how many loader
/// threads. Everything else (the network, the optimiser, the batch size that sets the
/// schedule's length, the seed and validation split) shaped the weights being continued.
pub const RESUMABLE: [&str; 3] = ["epochs", "workers", "early_stopping"];

/// The first setting (in the order of `config.json`) where `given` differs from `saved`, other
/// than the [`RESUMABLE`] ones, as `(setting, saved value, given value)`.
pub fn first_change(
    saved: &TrainingConfig,
    given: &TrainingConfig,
) -> Option<(String, String, String)> {
    let fields = |c: &TrainingConfig| match serde_json::to_value(c) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (saved, given) = (fields(saved), fields(given));
    let null = serde_json::Value::Null;
    for (key, want) in &saved {
        if RESUMABLE.contains(&key.as_str()) {
            continue;
        }
        let have = given.get(key).unwrap_or(&null);
        if have == want {
            continue;
        }
        // The network's settings are nested: name the one that differs.
        if let (serde_json::Value::Object(w), serde_json::Value::Object(h)) = (want, have)
            && key == "model"
        {
            for (inner, w) in w {
                let h = h.get(inner).unwrap_or(&null);
                if h != w {
                    return Some((inner.clone(), w.to_string(), h.to_string()));
                }
            }
        }
        return Some((key.clone(), want.to_string(), have.to_string()));
    }
    None
}

/// The command-line flag that sets `setting`, for the error message.
pub fn flag_of(setting: &str) -> String {
    match setting {
        "activation" => "--activation / --leaky-slope".into(),
        "conv1_filters" | "conv2_filters" | "kernel_size" => {
            format!("{setting} (set by --config)")
        }
        other => format!("--{}", other.replace('_', "-")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::optimizer::{OptimizerConfig, OptimizerKind};
    use model::Activation;
    use model::MnistCnnConfig;

    fn base() -> TrainingConfig {
        TrainingConfig::new(MnistCnnConfig::new())
    }

    #[test]
    fn only_the_resumable_settings_may_change() {
        let saved = base();
        assert_eq!(first_change(&saved, &saved), None);
        let longer = saved
            .clone()
            .with_epochs(40)
            .with_workers(3)
            .with_early_stopping(Some(2));
        assert_eq!(first_change(&saved, &longer), None);

        let wider = TrainingConfig::new(MnistCnnConfig::new().with_hidden_units(256));
        assert_eq!(
            first_change(&saved, &wider),
            Some(("hidden_units".into(), "512".into(), "256".into()))
        );
        let leaky = TrainingConfig::new(
            MnistCnnConfig::new().with_activation(Activation::LeakyRelu { slope: 0.1 }),
        );
        let (setting, ..) = first_change(&saved, &leaky).unwrap();
        assert_eq!(flag_of(&setting), "--activation / --leaky-slope");
        for changed in [
            saved.clone().with_batch_size(32),
            saved.clone().with_lr(0.1),
            saved.clone().with_seed(1),
            saved.clone().with_valid_size(10),
            saved.clone().with_augment(true),
            saved
                .clone()
                .with_optimizer(OptimizerConfig::new(OptimizerKind::Sgd)),
        ] {
            assert!(first_change(&saved, &changed).is_some(), "{changed:?}");
        }
        assert_eq!(flag_of("batch_size"), "--batch-size");
    }
}
