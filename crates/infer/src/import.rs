//! Weights made elsewhere: safetensors and PyTorch `state_dict` files in PyTorch's layout.
//!
//! Burn's stores apply whatever matches and report the rest; this module checks the file's
//! tensors against the network first (names, float32 — or float16 in safetensors, converted to
//! float32 on load — shapes in PyTorch's layout), so that a wrong file is refused with one error
//! naming the tensor instead of a half-loaded network.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use burn::store::burn_pack::Tensor as TensorEntry;
use burn::store::{
    ApplyError, FloatCastAdapter, ModuleAdapter, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter,
    PytorchStore, SafetensorsStore, SafetensorsStoreError,
};
use burn::tensor::{DType, Device};
use model::{MnistCnn, MnistCnnConfig};
use safetensors::SafeTensors;

use crate::InferError;
use crate::bounded_file::{MAX_CONFIG_BYTES, MAX_MODEL_BYTES, beside, check_size, read_bounded};
use crate::metadata::MODEL_CONFIG_KEY;
use crate::predictor::{CONFIG_FILE, parse_config};

/// Where the configuration of an imported file came from (said in shape errors: a wrong
/// configuration is the usual cause).
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigOrigin {
    /// The file's own `model_config` metadata.
    Metadata,
    /// A `config.json` beside the file.
    ConfigFile(PathBuf),
    /// The file carries none: the configuration the caller expects.
    Assumed,
}

impl fmt::Display for ConfigOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Metadata => write!(f, "the {MODEL_CONFIG_KEY} in the file's metadata"),
            Self::ConfigFile(path) => f.write_str(&model::quote_path(path)),
            Self::Assumed => f.write_str(
                "the default configuration (no config.json beside the file, none in its metadata)",
            ),
        }
    }
}

/// Loads a safetensors file in PyTorch's layout.
pub(crate) fn safetensors(
    path: &Path,
    fallback: &MnistCnnConfig,
    device: &Device,
) -> Result<(MnistCnn, MnistCnnConfig), InferError> {
    let bytes = read_bounded(path, MAX_MODEL_BYTES)?;
    // Checks the header and that the data is all there (a truncated file fails here).
    let (_, header) =
        SafeTensors::read_metadata(&bytes).map_err(|e| InferError::NotSafetensors {
            path: path.into(),
            source: SafetensorsStoreError::Safetensors(e),
        })?;
    let embedded = header
        .metadata()
        .as_ref()
        .and_then(|entries| entries.get(MODEL_CONFIG_KEY));
    let (config, origin) = config_of(embedded.map(String::as_str), path, fallback)?;
    let net = from_safetensors_bytes(bytes, path, &config, &origin, device)?;
    Ok((net, config))
}

/// Loads safetensors bytes in PyTorch's layout (a file's, or those the ONNX reader assembles)
/// into the network of `config`, after checking that they hold exactly its tensors.
pub(crate) fn from_safetensors_bytes(
    bytes: Vec<u8>,
    path: &Path,
    config: &MnistCnnConfig,
    origin: &ConfigOrigin,
    device: &Device,
) -> Result<MnistCnn, InferError> {
    // float16 weights (`infer export --dtype f16`, PyTorch's `model.half()`) become float32:
    // Burn would otherwise keep a half-precision parameter as it is.
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .with_from_adapter(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32)))
        .allow_partial(true)
        .validate(false);
    let unreadable = |source| InferError::NotSafetensors {
        path: path.into(),
        source,
    };
    let found = store.get_all_tensors().map_err(unreadable)?;
    let half = [DType::F32, DType::F16];
    check_tensors(path, &expected_tensors(config), found, origin, &half)?;
    apply(store, path, config, device, unreadable)
}

/// The entries of a PyTorch checkpoint dictionary that hold the model's `state_dict` when it
/// is not the file's root (`torch.save({"state_dict": sd, "epoch": n}, path)`, or
/// `model_state_dict` as PyTorch's own tutorials name it), tried in this order.
pub const STATE_DICT_KEYS: [&str; 2] = ["state_dict", "model_state_dict"];

/// Loads a PyTorch `state_dict` saved with `torch.save`: the file's root, or the entry of
/// [`STATE_DICT_KEYS`] that holds this network's tensors (the other entries are ignored, and
/// said in the returned note).
pub(crate) fn pytorch(
    path: &Path,
    fallback: &MnistCnnConfig,
    device: &Device,
) -> Result<(MnistCnn, MnistCnnConfig, Option<String>), InferError> {
    check_size(path, MAX_MODEL_BYTES)?;
    // Before the reader parses anything: the pickle is bounded (see `torch_zip`).
    crate::torch_zip::check(path)?;
    let (config, origin) = config_beside(path, fallback)?;
    let expected = expected_tensors(&config);
    let unreadable = |source| InferError::NotPytorch {
        path: path.into(),
        source,
    };
    // The reader applies PyTorch's layout itself (Linear weights transposed).
    let open = |key: Option<&str>| {
        let store = PytorchStore::from_file(path)
            .allow_partial(true)
            .validate(false);
        match key {
            Some(key) => store.with_top_level_key(key),
            None => store,
        }
    };
    let mut store = open(None);
    let mut note = None;
    let holds_this_network = |found: &BTreeMap<String, TensorEntry>| {
        expected.iter().any(|(name, _)| found.contains_key(name))
    };
    if !holds_this_network(store.get_all_tensors().map_err(unreadable)?) {
        for key in STATE_DICT_KEYS {
            let mut nested = open(Some(key));
            // A file without the key, or whose entry is not a dictionary, is the root's error.
            if nested.get_all_tensors().is_ok_and(&holds_this_network) {
                note = Some(nested_note(path, key));
                store = nested;
                break;
            }
        }
    }
    let found = store.get_all_tensors().map_err(unreadable)?;
    check_tensors(path, &expected, found, &origin, &[DType::F32])?;
    let net = apply(store, path, &config, device, unreadable)?;
    Ok((net, config, note))
}

/// `model.pt: weights read from its "state_dict" entry; ignored: epoch, optimizer`.
fn nested_note(path: &Path, key: &str) -> String {
    use burn::store::pytorch_reader::{PickleValue, PytorchReader};
    // The pickle was bounded before (`torch_zip::check`); reading it again for its keys is
    // cheap.
    let others = match PytorchReader::read_pickle_data(path, None) {
        Ok(PickleValue::Dict(entries)) => {
            let mut names: Vec<String> = entries
                .keys()
                .filter(|name| name.as_str() != key)
                .map(|name| model::quote(name).into_owned())
                .collect();
            names.sort();
            let shown = names.len().min(8);
            let more = names.len() - shown;
            let mut list = names[..shown].join(", ");
            if more > 0 {
                list += &format!(" and {more} more");
            }
            list
        }
        _ => String::new(),
    };
    let ignored = if others.is_empty() {
        String::new()
    } else {
        format!("; the other entries are ignored: {others}")
    };
    format!(
        "{}: weights read from its \"{key}\" entry{ignored}",
        model::quote_path(path)
    )
}

/// The configuration of an exported file (safetensors, ONNX): the `model_config` JSON in its
/// metadata (`embedded`) if it has one, else [`config_beside`] it.
pub(crate) fn config_of(
    embedded: Option<&str>,
    path: &Path,
    fallback: &MnistCnnConfig,
) -> Result<(MnistCnnConfig, ConfigOrigin), InferError> {
    match embedded {
        Some(json) => Ok((metadata_config(json, path)?, ConfigOrigin::Metadata)),
        None => config_beside(path, fallback),
    }
}

/// The configuration in a file's metadata, checked.
fn metadata_config(json: &str, path: &Path) -> Result<MnistCnnConfig, InferError> {
    // The same parse and check as a config.json; only the unparsable case is named after its
    // origin, the metadata.
    crate::predictor::parse_config(json.as_bytes(), path).map_err(|err| match err {
        InferError::BadConfig { path, source } => InferError::MetadataConfig { path, source },
        other => other,
    })
}

/// The `config.json` beside `path` if there is one, else `fallback`.
pub(crate) fn config_beside(
    path: &Path,
    fallback: &MnistCnnConfig,
) -> Result<(MnistCnnConfig, ConfigOrigin), InferError> {
    let config_path = beside(path, CONFIG_FILE);
    if !config_path.is_file() {
        return Ok((fallback.clone(), ConfigOrigin::Assumed));
    }
    let json = read_bounded(&config_path, MAX_CONFIG_BYTES)?;
    let config = parse_config(&json, &config_path)?;
    Ok((config, ConfigOrigin::ConfigFile(config_path)))
}

/// Builds the network of `config` and loads `store` into it. The caller has checked that the
/// file holds exactly its tensors ([`check_tensors`]), before this allocates the network.
fn apply<S: ModuleStore>(
    mut store: S,
    path: &Path,
    config: &MnistCnnConfig,
    device: &Device,
    unreadable: impl Fn(S::Error) -> InferError,
) -> Result<MnistCnn, InferError> {
    let mut net = config.init(device);
    let result = net.load_from(&mut store).map_err(&unreadable)?;
    if let Some(error) = result.errors.into_iter().next() {
        return Err(InferError::BadTensor {
            path: path.into(),
            tensor: tensor_of(&error).to_string(),
            source: Box::new(error),
        });
    }
    if let Some((tensor, _)) = result.missing.into_iter().next() {
        return Err(InferError::MissingTensor {
            path: path.into(),
            tensor,
        });
    }
    crate::finite::check_finite(&net, path, device)?;
    Ok(net)
}

/// The parameters of the network of `config` as `(name, shape)`, named and shaped as PyTorch
/// names and shapes them (`fc1.weight [512, 1600]`), computed from the configuration without
/// building the network: a file's tensors are compared with these before anything the size of
/// the network is allocated. (A test compares them with the built network's.)
pub fn expected_tensors(config: &MnistCnnConfig) -> Vec<(String, Vec<usize>)> {
    let shapes = model::shape::Shapes::of(config);
    let (k, f1, f2, h) = (
        config.kernel_size,
        config.conv1_filters,
        config.conv2_filters,
        config.hidden_units,
    );
    [
        ("conv1.weight", vec![f1, 1, k, k]),
        ("conv1.bias", vec![f1]),
        ("conv2.weight", vec![f2, f1, k, k]),
        ("conv2.bias", vec![f2]),
        ("fc1.weight", vec![h, shapes.flatten]),
        ("fc1.bias", vec![h]),
        ("fc2.weight", vec![model::NUM_CLASSES, h]),
        ("fc2.bias", vec![model::NUM_CLASSES]),
    ]
    .into_iter()
    .map(|(name, shape)| (name.to_string(), shape))
    .collect()
}

/// The first difference between the tensors the network `expected` and those `found` in the
/// file (names, shapes, a dtype among `dtypes`), as an error.
fn check_tensors(
    path: &Path,
    expected: &[(String, Vec<usize>)],
    found: &BTreeMap<String, TensorEntry>,
    origin: &ConfigOrigin,
    dtypes: &[DType],
) -> Result<(), InferError> {
    if !expected.iter().any(|(name, _)| found.contains_key(name)) {
        let names: Vec<String> = found
            .keys()
            .take(4)
            .map(|name| model::quote(name).into_owned())
            .collect();
        return Err(InferError::ForeignModel {
            path: path.into(),
            found: if names.is_empty() {
                "no tensors".into()
            } else {
                names.join(", ")
            },
        });
    }
    for (name, shape) in expected {
        let tensor = name.clone();
        let Some(have) = found.get(name) else {
            return Err(InferError::MissingTensor {
                path: path.into(),
                tensor,
            });
        };
        if !dtypes.contains(&have.dtype) {
            return Err(InferError::TensorDType {
                path: path.into(),
                tensor,
                dtype: dtype_name(have.dtype),
            });
        }
        if have.shape.as_slice() != shape.as_slice() {
            return Err(InferError::TensorShape {
                path: path.into(),
                tensor,
                found: have.shape.iter().copied().collect(),
                expected: shape.iter().copied().collect(),
                config: origin.to_string(),
            });
        }
    }
    if let Some(extra) = found
        .keys()
        .find(|name| !expected.iter().any(|(want, _)| want == *name))
    {
        return Err(InferError::UnexpectedTensor {
            path: path.into(),
            tensor: extra.clone(),
        });
    }
    Ok(())
}

/// The parameter an apply error is about.
fn tensor_of(error: &ApplyError) -> &str {
    match error {
        ApplyError::ShapeMismatch { path, .. }
        | ApplyError::DTypeMismatch { path, .. }
        | ApplyError::AdapterError { path, .. }
        | ApplyError::LoadError { path, .. } => path,
    }
}

/// `float64` rather than `F64`: the names PyTorch users know.
fn dtype_name(dtype: DType) -> String {
    match dtype {
        DType::F64 => "float64".into(),
        DType::F16 => "float16".into(),
        DType::BF16 => "bfloat16".into(),
        DType::I64 => "int64".into(),
        DType::I32 => "int32".into(),
        other => format!("{other:?}"),
    }
}
