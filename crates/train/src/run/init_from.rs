//! `--init-from`: a run that starts from trained weights instead of a random initialisation —
//! a model of this project, or weights trained elsewhere (safetensors or a PyTorch
//! `state_dict` in PyTorch's layout), read by the loader inference uses ([`infer::load_model`]).

use std::path::Path;

use burn::tensor::Device;
use model::{MnistCnn, MnistCnnConfig};

use crate::error::InitError;

/// The network of `config` with the weights at `path`, on `device`.
///
/// A file that carries its configuration (a model directory, safetensors exported here) must
/// describe the same network as `config`, dropout aside (a training setting, not a weight); a
/// file without one is read as `config`'s network, and its tensors' shapes are checked.
pub fn load_initial(
    path: &Path,
    config: &MnistCnnConfig,
    device: &Device,
) -> Result<MnistCnn, InitError> {
    load_initial_noted(path, config, device).map(|(net, _)| net)
}

/// `load_initial`, with the notes about the file a program prints (see
/// [`infer::LoadedModel::notes`]).
pub fn load_initial_noted(
    path: &Path,
    config: &MnistCnnConfig,
    device: &Device,
) -> Result<(MnistCnn, Vec<String>), InitError> {
    let loaded = infer::load_model_noted(path, config, device).map_err(InitError::Load)?;
    let differences = differences(&loaded.config, config);
    if !differences.is_empty() {
        return Err(InitError::Architecture {
            path: path.into(),
            differences: differences.join(", "),
        });
    }
    Ok((loaded.net, loaded.notes))
}

/// `"field: X in the file, Y here"` for each setting that differs, dropout aside.
fn differences(found: &MnistCnnConfig, wanted: &MnistCnnConfig) -> Vec<String> {
    let fields = |config: &MnistCnnConfig| match serde_json::to_value(config) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (found, wanted) = (fields(found), fields(wanted));
    wanted
        .iter()
        .filter(|(key, _)| key.as_str() != "dropout")
        .filter_map(|(key, want)| {
            let have = found.get(key)?;
            (have != want).then(|| format!("{key}: {have} in the file, {want} in training"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Activation;

    #[test]
    fn only_the_architecture_counts() {
        let base = MnistCnnConfig::new();
        assert!(differences(&base.clone().with_dropout(0.1), &base).is_empty());
        let other = base
            .clone()
            .with_hidden_units(256)
            .with_activation(Activation::LeakyRelu { slope: 0.1 });
        let found = differences(&other, &base);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found.contains(&"hidden_units: 256 in the file, 512 in training".to_string()),
            "{found:?}"
        );
    }
}
