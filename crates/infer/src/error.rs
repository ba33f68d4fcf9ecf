//! Errors of the inference library; each names the file concerned.
//!
//! A variant caused by another error keeps it as its [`std::error::Error::source`] and does not
//! repeat it in its own message: print the whole chain (`{:#}` of an `anyhow::Error`) to get one
//! line such as `model.bpk: not a model record: Record I/O error: ...`.

use std::path::PathBuf;

/// Why a model could not be loaded or an image not predicted.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// A file of the model directory is missing.
    #[error(
        "{path}: not found (a model directory holds config.json and model.bpk, as written by `train`)"
    )]
    MissingFile {
        /// The file.
        path: PathBuf,
    },
    /// A file exists but could not be read.
    #[error("{path}: cannot read")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The model config is not the JSON of a `MnistCnnConfig`.
    #[error("{path}: not a model configuration")]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// Where the JSON is wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The model config parses but describes no buildable network.
    #[error("{path}: unusable model configuration")]
    InvalidConfig {
        /// The file.
        path: PathBuf,
        /// Which setting is wrong.
        #[source]
        source: model::InvalidConfig,
    },
    /// The record file is not a burnpack record.
    #[error("{path}: not a model record")]
    NotARecord {
        /// The file.
        path: PathBuf,
        /// What the burnpack reader said.
        #[source]
        source: burn::store::RecordError,
    },
    /// The record's tensors do not fit the network the config describes.
    #[error("{path}: record does not match {config}")]
    RecordMismatch {
        /// The record.
        path: PathBuf,
        /// The config it was checked against.
        config: PathBuf,
        /// Which tensors disagree.
        #[source]
        source: burn::store::RecordError,
    },
    /// Neither a model directory nor a shipped model: this build has no `shipped-model`.
    #[error(
        "no model: pass --model-dir DIR or set {env} (this build has no shipped model)",
        env = crate::ModelSource::ENV_VAR
    )]
    NoModel,
    /// An image file could not be decoded.
    #[cfg(feature = "image")]
    #[error("{path}: not a readable image")]
    Image {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        #[source]
        source: image::ImageError,
    },
    /// The image has no ink to recognise.
    #[cfg(feature = "image")]
    #[error("the image is blank: no ink found")]
    NoInk,
    /// An image file of a labelled folder has no ink to recognise.
    #[cfg(feature = "image")]
    #[error("{path}: the image is blank: no ink found")]
    BlankImage {
        /// The file.
        path: PathBuf,
    },
    /// A labelled-image folder is not a directory.
    #[cfg(feature = "image")]
    #[error("{path}: not a directory")]
    NotADirectory {
        /// The path given as the folder.
        path: PathBuf,
    },
    /// A labelled-image folder holds no usable image in its digit folders.
    #[cfg(feature = "image")]
    #[error(
        "{path}: no images found; expected the layout DIR/<digit>/<image>.png with digit folders 0 to 9"
    )]
    NoImages {
        /// The folder.
        path: PathBuf,
    },
    /// A directory for output files could not be created.
    #[cfg(feature = "image")]
    #[error("{path}: cannot create the directory")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// An image file could not be written.
    #[cfg(feature = "image")]
    #[error("{path}: cannot write the image")]
    WriteImage {
        /// The file.
        path: PathBuf,
        /// What the encoder or the OS said.
        #[source]
        source: image::ImageError,
    },
}
