//! What an exported model file says about itself: the same key/value pairs go into the ONNX
//! model's `metadata_props` and into the safetensors header's `__metadata__`.
//!
//! A file that only held weights would be useless without this project's source: the network
//! expects normalised pixels, and the architecture is not in the tensors. These entries carry the
//! input contract of [`model`] (shape, mean, standard deviation), the class labels and the
//! configuration, so that PyTorch, ONNX Runtime or this crate's importer can use the file alone.

use model::{IMAGE_SIZE, MEAN, MnistCnnConfig, NUM_CLASSES, STD};

/// The Burn release this crate is built against (checked against Cargo.lock by a test).
pub const BURN_VERSION: &str = "0.22.1";

/// Key of the model configuration (the JSON of [`MnistCnnConfig`]), which importing a
/// safetensors file reads back.
pub const MODEL_CONFIG_KEY: &str = "model_config";

/// Name of the ONNX graph's input.
pub const INPUT_NAME: &str = "images";

/// Name of the ONNX graph's output.
pub const OUTPUT_NAME: &str = "logits";

/// The description of a model of `config`, as `(key, value)` pairs, in a fixed order.
pub fn describe(config: &MnistCnnConfig) -> Vec<(&'static str, String)> {
    let labels: Vec<String> = (0..NUM_CLASSES).map(|digit| digit.to_string()).collect();
    vec![
        (MODEL_CONFIG_KEY, config_json(config)),
        (
            "input",
            format!(
                "{INPUT_NAME}: float32 [batch, 1, {IMAGE_SIZE}, {IMAGE_SIZE}] (NCHW), MNIST-style \
                 digits (white ink on a black background, centred), each pixel p in 0..=255 \
                 given as (p / 255 - input_mean) / input_std"
            ),
        ),
        (
            "input_shape",
            format!("[batch, 1, {IMAGE_SIZE}, {IMAGE_SIZE}]"),
        ),
        ("input_mean", MEAN.to_string()),
        ("input_std", STD.to_string()),
        (
            "output",
            format!(
                "{OUTPUT_NAME}: float32 [batch, {NUM_CLASSES}], one score per class; softmax \
                 gives the probabilities of class_labels"
            ),
        ),
        ("class_labels", json_strings(&labels)),
        ("burn_version", BURN_VERSION.to_string()),
    ]
}

/// `config` as compact JSON.
fn config_json(config: &MnistCnnConfig) -> String {
    // A struct of numbers and unit enums: serialising cannot fail.
    serde_json::to_string(config).unwrap_or_default()
}

/// `["a","b"]`.
fn json_strings(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_version_matches_the_lock_file() {
        let lock = include_str!("../../../Cargo.lock");
        let entry = format!("name = \"burn\"\nversion = \"{BURN_VERSION}\"");
        assert!(
            lock.contains(&entry),
            "Cargo.lock does not pin burn {BURN_VERSION}"
        );
    }

    #[test]
    fn the_description_holds_the_input_contract_and_the_config() {
        let config = MnistCnnConfig::new().with_hidden_units(128);
        let entries = describe(&config);
        let get = |key: &str| {
            entries
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("input_mean"), "0.1307");
        assert_eq!(get("input_std"), "0.3081");
        assert_eq!(
            get("class_labels"),
            r#"["0","1","2","3","4","5","6","7","8","9"]"#
        );
        let back: MnistCnnConfig = serde_json::from_str(&get(MODEL_CONFIG_KEY)).unwrap();
        assert_eq!(back, config);
    }
}
