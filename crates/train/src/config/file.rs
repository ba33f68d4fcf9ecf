//! Reading a configuration file (`--config`, a run's `config.json`): bounded, and what it may
//! say checked before Burn's `#[derive(Config)]` serde reads it:
//! that derive ignores keys it does not know, so a misspelt `"epoch": 3` or `"learning_rate"`
//! would silently train with the defaults. The file's keys, nested ones included, are compared
//! with those of a serialised configuration; an unknown key is refused with the nearest known
//! one. Also reads the configurations written before the optimiser was nested, whose
//! `"optimizer"` is a plain string (`"adam"`): that string means the optimiser with its
//! defaults.

use serde_json::{Map, Value};

use crate::config::TrainingConfig;
use crate::config::multi_device::MultiDeviceConfig;
use crate::config::optimizer::{OptimizerConfig, OptimizerKind};
use crate::error::ConfigError;
use crate::limits::MAX_CONFIG_BYTES;

impl TrainingConfig {
    /// Reads a configuration file (`--config`, a run's `config.json`), refusing one larger than
    /// [`MAX_CONFIG_BYTES`] before reading it. The result is not validated yet.
    pub fn read(path: &std::path::Path) -> Result<Self, ConfigError> {
        use std::io::Read;
        let read = |source| ConfigError::Read {
            path: path.into(),
            source,
        };
        let too_large = || ConfigError::TooLarge {
            path: path.into(),
            limit: MAX_CONFIG_BYTES,
        };
        let file = data::regular::open_regular(path).map_err(read)?;
        if file.metadata().map_err(read)?.len() > MAX_CONFIG_BYTES {
            return Err(too_large());
        }
        // Checked again while reading: a pipe reports no length.
        let mut bytes = Vec::new();
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read)?;
        if bytes.len() as u64 > MAX_CONFIG_BYTES {
            return Err(too_large());
        }
        let parse = |reason: String| ConfigError::Parse {
            path: path.into(),
            reason,
        };
        // serde's messages can hold a value of the file (`invalid type: string "..."`).
        let serde = |e: serde_json::Error| parse(model::quote_at(&e.to_string(), 300).into_owned());
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(serde)?;
        // Its messages quote the file's keys themselves.
        check(&mut value).map_err(parse)?;
        serde_json::from_value(value).map_err(serde)
    }
}

/// Names people write for a key of the configuration (PyTorch's, Keras's), with the key they
/// mean: suggested before the nearest spelling.
const ALIASES: [(&str, &str); 8] = [
    ("learning_rate", "lr"),
    ("learningrate", "lr"),
    ("num_epochs", "epochs"),
    ("n_epochs", "epochs"),
    ("num_workers", "workers"),
    ("lr_scheduler", "lr_schedule"),
    ("scheduler", "lr_schedule"),
    ("patience", "early_stopping"),
];

/// Rewrites the old string form of `"optimizer"` into the nested one, then refuses any key
/// that no configuration has. `Err` is the message (the caller names the file).
pub fn check(value: &mut Value) -> Result<(), String> {
    let Value::Object(file) = value else {
        return Err("not a JSON object".into());
    };
    if let Some(Value::String(name)) = file.get("optimizer") {
        let kind = match name.to_ascii_lowercase().as_str() {
            "adam" => OptimizerKind::Adam,
            "adamw" => OptimizerKind::Adamw,
            "sgd" => OptimizerKind::Sgd,
            _ => {
                return Err(format!(
                    "optimizer: unknown optimiser \"{}\" (write {{\"kind\": \"adam\"}}, \"adamw\" or \"sgd\", with its settings beside the kind)",
                    model::quote(name)
                ));
            }
        };
        let nested = serde_json::to_value(OptimizerConfig::new(kind)).map_err(|e| e.to_string())?;
        file.insert("optimizer".into(), nested);
    }
    unknown_keys(file, &reference(file), "")
}

/// A serialised configuration with every optional block present, so that its keys are all the
/// keys a file may have; the optimiser's of the kind the file names.
fn reference(file: &Map<String, Value>) -> Map<String, Value> {
    let mut reference =
        match serde_json::to_value(TrainingConfig::new(model::MnistCnnConfig::new())) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
    let multi = MultiDeviceConfig {
        devices: Vec::new(),
        per_device_batch_size: 0,
        global_batch_size: 0,
        loss_scale: 0.0,
        effective_lr: 0.0,
    };
    if let Ok(multi) = serde_json::to_value(multi) {
        reference.insert("multi_device".into(), multi);
    }
    let kind = file
        .get("optimizer")
        .and_then(|o| o.get("kind"))
        .and_then(Value::as_str)
        .unwrap_or("adam");
    let optimizer = optimizer_reference(kind);
    reference.insert("optimizer".into(), optimizer);
    reference
}

/// Every key an optimiser of `kind` may have, its optional blocks filled in.
fn optimizer_reference(kind: &str) -> Value {
    use burn::optim::decay::WeightDecayConfig;
    use burn::optim::grad_clipping::GradientClippingConfig;
    use burn::optim::momentum::MomentumConfig;
    use burn::optim::{AdamConfig, AdamWConfig, SgdConfig};
    let clip = || Some(GradientClippingConfig::Norm(1.0));
    let config = match kind {
        "adamw" => OptimizerConfig::Adamw(AdamWConfig::new().with_grad_clipping(clip())),
        "sgd" => OptimizerConfig::Sgd(
            SgdConfig::new()
                .with_weight_decay(Some(WeightDecayConfig::new(0.0)))
                .with_momentum(Some(MomentumConfig::new()))
                .with_gradient_clipping(clip()),
        ),
        _ => OptimizerConfig::Adam(
            AdamConfig::new()
                .with_weight_decay(Some(WeightDecayConfig::new(0.0)))
                .with_grad_clipping(clip()),
        ),
    };
    serde_json::to_value(config).unwrap_or(Value::Null)
}

/// The first key of `file` (depth first, in the file's order) that `reference` does not have.
/// Nested objects are compared where the reference has an object too; an enum's variant
/// (`{"Norm": 1.0}`, `{"LeakyRelu": ...}`) is left to serde, which refuses unknown variants.
fn unknown_keys(
    file: &Map<String, Value>,
    reference: &Map<String, Value>,
    prefix: &str,
) -> Result<(), String> {
    for (key, value) in file {
        let Some(known) = reference.get(key) else {
            let nearest = nearest(key, reference.keys().map(String::as_str));
            let hint = nearest.map_or(String::new(), |n| {
                format!(" (did you mean \"{prefix}{n}\"?)")
            });
            return Err(format!(
                "unknown key \"{prefix}{}\"{hint}",
                model::quote(key)
            ));
        };
        if let (Value::Object(inner), Value::Object(known_inner)) = (value, known)
            && !is_enum_variant(known_inner)
        {
            unknown_keys(inner, known_inner, &format!("{prefix}{key}."))?;
        }
    }
    Ok(())
}

/// An externally tagged enum serialises as an object of one key starting with a capital.
fn is_enum_variant(object: &Map<String, Value>) -> bool {
    object.len() == 1
        && object
            .keys()
            .next()
            .is_some_and(|k| k.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// The known key `key` most likely meant: an alias, else the closest spelling (at most half
/// the key's length away).
fn nearest<'a>(key: &str, known: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    let lower = key.to_ascii_lowercase();
    if let Some((_, meant)) = ALIASES.iter().find(|(alias, _)| *alias == lower)
        && let Some(found) = known.clone().find(|k| k == meant)
    {
        return Some(found);
    }
    known
        .map(|k| (strsim::damerau_levenshtein(&lower, k), k))
        .filter(|(distance, _)| *distance <= key.chars().count().div_ceil(2).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_str(json: &str) -> Result<Value, String> {
        let mut value: Value = serde_json::from_str(json).unwrap();
        check(&mut value).map(|()| value)
    }

    #[test]
    fn misspelt_keys_are_refused_with_the_nearest_known_one() {
        let err = check_str(r#"{"model": {}, "epoch": 3}"#).unwrap_err();
        assert_eq!(err, r#"unknown key "epoch" (did you mean "epochs"?)"#);
        let err = check_str(r#"{"model": {}, "learning_rate": 0.1}"#).unwrap_err();
        assert!(err.contains(r#"did you mean "lr"?"#), "{err}");
        let err = check_str(r#"{"model": {"hiden_units": 3}}"#).unwrap_err();
        assert!(
            err.contains(r#"unknown key "model.hiden_units" (did you mean "model.hidden_units"?)"#),
            "{err}"
        );
        let err = check_str(
            r#"{"model": {}, "optimizer": {"kind": "sgd", "momentum": {"momentun": 0.5}}}"#,
        )
        .unwrap_err();
        assert!(err.contains("optimizer.momentum.momentun"), "{err}");
        let err =
            check_str(r#"{"model": {}, "optimizer": {"kind": "adam", "beta1": 0.5}}"#).unwrap_err();
        assert!(err.contains(r#"did you mean "optimizer.beta_1"?"#), "{err}");
        let err = check_str(r#"{"model": {}, "zzzzzzzz": 1}"#).unwrap_err();
        assert_eq!(err, r#"unknown key "zzzzzzzz""#);
    }

    #[test]
    fn every_key_a_saved_configuration_has_is_known() {
        let full = TrainingConfig::new(model::MnistCnnConfig::new())
            .with_early_stopping(Some(2))
            .with_init_from(Some("w.pt".into()));
        let json = serde_json::to_string(&full).unwrap();
        assert!(check_str(&json).is_ok(), "{json}");
        for kind in ["adam", "adamw", "sgd"] {
            let mut value = serde_json::to_value(&full).unwrap();
            value["optimizer"] = optimizer_reference(kind);
            assert_eq!(value["optimizer"]["kind"], kind);
            assert!(check(&mut value).is_ok(), "{value}");
        }
    }

    #[test]
    fn the_old_optimizer_string_means_its_defaults() {
        let value = check_str(r#"{"model": {}, "optimizer": "adam"}"#).unwrap();
        assert_eq!(
            value["optimizer"],
            serde_json::to_value(OptimizerConfig::new(OptimizerKind::Adam)).unwrap()
        );
        let value = check_str(r#"{"model": {}, "optimizer": "SGD"}"#).unwrap();
        assert_eq!(value["optimizer"]["kind"], "sgd");
        let err = check_str(r#"{"model": {}, "optimizer": "rmsprop"}"#).unwrap_err();
        assert!(err.contains(r#"{"kind": "adam"}"#), "{err}");
    }
}
