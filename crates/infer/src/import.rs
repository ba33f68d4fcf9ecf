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
    ApplyError, BurnToPyTorchAdapter, FloatCastAdapter, ModuleAdapter, ModuleSnapshot, ModuleStore,
    PyTorchToBurnAdapter, PytorchStore, SafetensorsStore, SafetensorsStoreError,
};
use burn::tensor::{DType, Device};
use model::{MnistCnn, MnistCnnConfig};
use safetensors::SafeTensors;

use crate::InferError;
use crate::metadata::MODEL_CONFIG_KEY;
use crate::model_file::{MAX_CONFIG_BYTES, MAX_MODEL_BYTES, beside, check_size, read_bounded};
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
            Self::ConfigFile(path) => write!(f, "{}", path.display()),
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
    let (config, origin) = match embedded {
        Some(json) => (metadata_config(json, path)?, ConfigOrigin::Metadata),
        None => config_beside(path, fallback)?,
    };
    // float16 weights (`infer export --dtype f16`, PyTorch's `model.half()`) become float32:
    // Burn would otherwise keep a half-precision parameter as it is.
    let store = SafetensorsStore::from_bytes(Some(bytes))
        .with_from_adapter(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32)))
        .allow_partial(true)
        .validate(false);
    let half = [DType::F32, DType::F16];
    let net = apply(store, path, &config, &origin, &half, device, |source| {
        InferError::NotSafetensors {
            path: path.into(),
            source,
        }
    })?;
    Ok((net, config))
}

/// Loads a PyTorch `state_dict` saved with `torch.save`.
pub(crate) fn pytorch(
    path: &Path,
    fallback: &MnistCnnConfig,
    device: &Device,
) -> Result<(MnistCnn, MnistCnnConfig), InferError> {
    check_size(path, MAX_MODEL_BYTES)?;
    let (config, origin) = config_beside(path, fallback)?;
    // The reader applies PyTorch's layout itself (Linear weights transposed).
    let store = PytorchStore::from_file(path)
        .allow_partial(true)
        .validate(false);
    let dtypes = [DType::F32];
    let net = apply(store, path, &config, &origin, &dtypes, device, |source| {
        InferError::NotPytorch {
            path: path.into(),
            source,
        }
    })?;
    Ok((net, config))
}

/// The configuration in a safetensors file's metadata, checked.
fn metadata_config(json: &str, path: &Path) -> Result<MnistCnnConfig, InferError> {
    // The same parse and check as a config.json; only the unparsable case is named after its
    // origin, the metadata.
    crate::predictor::parse_config(json.as_bytes(), path).map_err(|err| match err {
        InferError::BadConfig { path, source } => InferError::MetadataConfig { path, source },
        other => other,
    })
}

/// The `config.json` beside `path` if there is one, else `fallback`.
fn config_beside(
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

/// Builds the network of `config` and loads `store` into it, after checking that the file
/// holds exactly its tensors, each in one of the `dtypes` the store converts to float32.
fn apply<S: ModuleStore>(
    mut store: S,
    path: &Path,
    config: &MnistCnnConfig,
    origin: &ConfigOrigin,
    dtypes: &[DType],
    device: &Device,
    unreadable: impl Fn(S::Error) -> InferError,
) -> Result<MnistCnn, InferError> {
    let mut net = config.init(device);
    // What the network holds, named and shaped as PyTorch names and shapes them.
    let expected = net.collect(None, Some(Box::new(BurnToPyTorchAdapter)), false);
    let found = store.get_all_tensors().map_err(&unreadable)?;
    check_tensors(path, &expected, found, origin, dtypes)?;
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
    crate::finite::check_finite(&net, path)?;
    Ok(net)
}

/// The first difference between the tensors the network `expected` and those `found` in the
/// file (names, shapes, a dtype among `dtypes`), as an error.
fn check_tensors(
    path: &Path,
    expected: &[TensorEntry],
    found: &BTreeMap<String, TensorEntry>,
    origin: &ConfigOrigin,
    dtypes: &[DType],
) -> Result<(), InferError> {
    if !expected.iter().any(|e| found.contains_key(&e.name)) {
        let names: Vec<&str> = found.keys().map(String::as_str).take(4).collect();
        return Err(InferError::ForeignModel {
            path: path.into(),
            found: if names.is_empty() {
                "no tensors".into()
            } else {
                names.join(", ")
            },
        });
    }
    for want in expected {
        let tensor = want.name.clone();
        let Some(have) = found.get(&want.name) else {
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
        if have.shape != want.shape {
            return Err(InferError::TensorShape {
                path: path.into(),
                tensor,
                found: have.shape.iter().copied().collect(),
                expected: want.shape.iter().copied().collect(),
                config: origin.to_string(),
            });
        }
    }
    if let Some(extra) = found
        .keys()
        .find(|name| !expected.iter().any(|e| &e.name == *name))
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
