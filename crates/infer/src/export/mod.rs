//! `infer export`: the trained network in the formats other stacks read, each file carrying the
//! input contract and the configuration ([`crate::metadata`]).
//!
//! * ONNX ([`onnx_bytes`]): for ONNX Runtime, a browser (onnxruntime-web), a phone, tract. Input
//!   `images` `[batch, 1, 28, 28]`, already normalised (mean and standard deviation in the
//!   metadata), output `logits` `[batch, 10]`; the batch axis is dynamic.
//! * safetensors ([`safetensors_bytes`]): the weights in PyTorch's layout and names, loadable into the
//!   ten-line PyTorch module of the README (and back here, see [`crate::load_model`]).

mod onnx;
mod weights;

use std::path::{Path, PathBuf};

pub use onnx::onnx_bytes;
pub use weights::{WeightDType, safetensors_bytes, safetensors_bytes_as};

/// File name `infer export` gives the ONNX model.
pub const ONNX_FILE: &str = "model.onnx";

/// Why a model could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Burn's ONNX exporter could not trace or lower the forward pass.
    #[error("cannot export the network to ONNX")]
    Onnx(#[source] burn_onnx::export::ExportError),
    /// The exporter's ONNX could not be read back to name its input and output and add the
    /// metadata (a bug of the exporter or of this crate, not of the user's input).
    #[error("cannot finish the exported ONNX graph: {0}")]
    OnnxGraph(String),
    /// The safetensors writer failed.
    #[error("cannot write the weights as safetensors")]
    Safetensors(#[source] burn::store::SafetensorsStoreError),
    /// An output file or directory could not be written.
    #[error("{path}: cannot write")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// Writes `bytes` to `dir/name`, creating `dir`; returns the file's path.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Write {
        path: dir.into(),
        source,
    })?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|source| ExportError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
