//! Which files hold a model (reading them with a size bound: `bounded_file.rs`).
//!
//! A model is a directory or one file: Burn's own record (`model.bpk`, with the `config.json`
//! that `train` writes beside it), a safetensors file in PyTorch's layout (`infer export` writes
//! one; PyTorch's `safetensors.torch.save_file(model.state_dict(), ...)` too), or a PyTorch
//! `state_dict` saved with `torch.save`. The format is told by the file name, never guessed from
//! the content, so a wrong file gets the error of the format it claims to be.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use model::{MnistCnn, MnistCnnConfig};

use crate::InferError;
pub use crate::bounded_file::MAX_MODEL_BYTES;
use crate::bounded_file::{MAX_CONFIG_BYTES, beside, existing, read_bounded};
use crate::predictor::{CONFIG_FILE, RECORD_FILE};

/// File name of a safetensors model in a model directory.
pub const SAFETENSORS_FILE: &str = "model.safetensors";
/// File name of a PyTorch `state_dict` in a model directory.
pub const PYTORCH_FILE: &str = "model.pt";
/// File name of an ONNX model in a model directory (`infer export` writes one).
pub const ONNX_FILE: &str = "model.onnx";
/// The files of one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelFile {
    /// A burnpack record and its `config.json`, as `train` writes them.
    Burnpack {
        /// The model configuration.
        config: PathBuf,
        /// The record.
        record: PathBuf,
    },
    /// Safetensors in PyTorch's layout and names (`conv1.weight`, `fc1.weight [512, 1600]`, ...).
    Safetensors(PathBuf),
    /// A PyTorch `state_dict` saved with `torch.save` (`.pt` / `.pth`).
    Pytorch(PathBuf),
    /// An ONNX model of this network (`infer export`'s, or `torch.onnx.export`'s); read with the
    /// `export` feature.
    Onnx(PathBuf),
}

impl ModelFile {
    /// The model at `path`: a directory (`config.json` + `model.bpk`, else `model.safetensors`,
    /// else `model.pt`, else `model.onnx`) or a file named `*.bpk`, `*.safetensors`, `*.pt`,
    /// `*.pth` or `*.onnx`.
    pub fn find(path: &Path) -> Result<Self, InferError> {
        if path.is_dir() {
            let record = path.join(RECORD_FILE);
            if !record.exists() {
                let safetensors = path.join(SAFETENSORS_FILE);
                if safetensors.exists() {
                    return Ok(Self::Safetensors(safetensors));
                }
                let pytorch = path.join(PYTORCH_FILE);
                if pytorch.exists() {
                    return Ok(Self::Pytorch(pytorch));
                }
                let onnx = path.join(ONNX_FILE);
                if onnx.exists() {
                    return Ok(Self::Onnx(onnx));
                }
            }
            // Burn's layout, also when the directory is empty: its error names config.json.
            return Ok(Self::Burnpack {
                config: path.join(CONFIG_FILE),
                record,
            });
        }
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("bpk") => Ok(Self::Burnpack {
                config: beside(path, CONFIG_FILE),
                record: path.into(),
            }),
            Some("safetensors") => Ok(Self::Safetensors(path.into())),
            Some("pt" | "pth") => Ok(Self::Pytorch(path.into())),
            Some("onnx") => Ok(Self::Onnx(path.into())),
            _ if !path.exists() => Err(InferError::MissingFile { path: path.into() }),
            _ => Err(InferError::UnknownFormat { path: path.into() }),
        }
    }
}

/// Loads the model at `path` (see [`ModelFile::find`]) onto `device`, with its configuration.
///
/// A burnpack record needs its `config.json`. A safetensors file uses the configuration in its
/// metadata (`infer export` puts it there), else a `config.json` beside it, else `fallback`; a
/// PyTorch file the `config.json` beside it, else `fallback`. The tensors must be exactly those
/// of that network, in float32: anything else is an error naming the tensor. See
/// [`load_model_noted`] for what was read besides the weights.
pub fn load_model(
    path: &Path,
    fallback: &MnistCnnConfig,
    device: &Device,
) -> Result<(MnistCnn, MnistCnnConfig), InferError> {
    load_model_noted(path, fallback, device).map(|loaded| (loaded.net, loaded.config))
}

/// A model loaded by [`load_model_noted`].
#[derive(Debug)]
pub struct LoadedModel {
    /// The network, with the file's weights.
    pub net: MnistCnn,
    /// Its configuration.
    pub config: MnistCnnConfig,
    /// What a user should be told about the file although it loaded, one line each: e.g. that
    /// a PyTorch checkpoint's weights came from its `state_dict` entry and its other entries
    /// (`epoch`, `optimizer`) were ignored.
    pub notes: Vec<String>,
}

/// [`load_model`], with the notes about the file that a program prints.
pub fn load_model_noted(
    path: &Path,
    fallback: &MnistCnnConfig,
    device: &Device,
) -> Result<LoadedModel, InferError> {
    let (net, config, note) = match ModelFile::find(path)? {
        ModelFile::Burnpack { config, record } => {
            let json = read_bounded(&existing(config.clone())?, MAX_CONFIG_BYTES)?;
            let bytes = read_bounded(&existing(record.clone())?, MAX_MODEL_BYTES)?;
            let (net, config) = crate::predictor::from_burnpack(
                &json,
                burn::tensor::Bytes::from_bytes_vec(bytes),
                &config,
                &record,
                device,
            )?;
            (net, config, None)
        }
        ModelFile::Safetensors(file) => {
            let (net, config) = crate::import::safetensors(&existing(file)?, fallback, device)?;
            (net, config, None)
        }
        ModelFile::Pytorch(file) => crate::import::pytorch(&existing(file)?, fallback, device)?,
        #[cfg(feature = "export")]
        ModelFile::Onnx(file) => {
            let (net, config) = crate::onnx_import::onnx(&existing(file)?, fallback, device)?;
            (net, config, None)
        }
        #[cfg(not(feature = "export"))]
        ModelFile::Onnx(file) => return Err(InferError::OnnxNotBuilt { path: file }),
    };
    Ok(LoadedModel {
        net,
        config,
        notes: note.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_by_their_names() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(matches!(
            ModelFile::find(d).unwrap(),
            ModelFile::Burnpack { .. }
        ));
        std::fs::write(d.join(PYTORCH_FILE), b"").unwrap();
        assert_eq!(
            ModelFile::find(d).unwrap(),
            ModelFile::Pytorch(d.join(PYTORCH_FILE))
        );
        std::fs::write(d.join(SAFETENSORS_FILE), b"").unwrap();
        assert_eq!(
            ModelFile::find(d).unwrap(),
            ModelFile::Safetensors(d.join(SAFETENSORS_FILE))
        );
        std::fs::write(d.join(RECORD_FILE), b"").unwrap();
        assert!(matches!(
            ModelFile::find(d).unwrap(),
            ModelFile::Burnpack { .. }
        ));

        let record = d.join("best.bpk");
        assert_eq!(
            ModelFile::find(&record).unwrap(),
            ModelFile::Burnpack {
                config: d.join(CONFIG_FILE),
                record: record.clone()
            }
        );
        assert!(matches!(
            ModelFile::find(&d.join("w.PTH")).unwrap(),
            ModelFile::Pytorch(_)
        ));
        assert!(matches!(
            ModelFile::find(&d.join("absent.h5")),
            Err(InferError::MissingFile { .. })
        ));
        std::fs::write(d.join("model.onnx"), b"").unwrap();
        assert_eq!(
            ModelFile::find(&d.join("model.onnx")).unwrap(),
            ModelFile::Onnx(d.join("model.onnx"))
        );
        std::fs::write(d.join("model.h5"), b"").unwrap();
        assert!(matches!(
            ModelFile::find(&d.join("model.h5")),
            Err(InferError::UnknownFormat { .. })
        ));
    }
}
