//! Errors of the inference library; each names the file concerned.

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
    /// The model config is not a valid `MnistCnnConfig`.
    #[error("{path}: not a model configuration: {message}")]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The record file is not a burnpack record.
    #[error("{path}: not a model record: {message}")]
    NotARecord {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The record's tensors do not fit the network the config describes.
    #[error("{path}: record does not match {config}: {message}")]
    RecordMismatch {
        /// The record.
        path: PathBuf,
        /// The config it was checked against.
        config: PathBuf,
        /// Which tensors disagree.
        message: String,
    },
    /// An image file could not be read or decoded.
    #[error("{path}: not a readable image: {message}")]
    Image {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The image has no ink to recognise.
    #[error("the image is blank: no ink found")]
    NoInk,
    /// A labelled-image folder problem.
    #[error("{path}: {message}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}
