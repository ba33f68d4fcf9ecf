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
        "{path}: not found (a model directory holds config.json and model.bpk, as written by `train`, or model.safetensors or model.pt)", path = model::quote_path(.path))]
    MissingFile {
        /// The file.
        path: PathBuf,
    },
    /// A file exists but could not be read.
    #[error("{path}: cannot read", path = model::quote_path(.path))]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The model config is not the JSON of a `MnistCnnConfig`.
    #[error("{path}: not a model configuration", path = model::quote_path(.path))]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// Where the JSON is wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The model config parses but describes no buildable network.
    #[error("{path}: unusable model configuration", path = model::quote_path(.path))]
    InvalidConfig {
        /// The file.
        path: PathBuf,
        /// Which setting is wrong.
        #[source]
        source: model::InvalidConfig,
    },
    /// The record file is not a burnpack record.
    #[error("{path}: not a model record", path = model::quote_path(.path))]
    NotARecord {
        /// The file.
        path: PathBuf,
        /// What the burnpack reader said.
        #[source]
        source: burn::store::RecordError,
    },
    /// The record's tensors do not fit the network the config describes.
    #[error("{path}: record does not match {config}", path = model::quote_path(.path), config = model::quote_path(.config))]
    RecordMismatch {
        /// The record.
        path: PathBuf,
        /// The config it was checked against.
        config: PathBuf,
        /// Which tensors disagree.
        #[source]
        source: burn::store::RecordError,
    },
    /// A model file larger than [`crate::bounded_file::MAX_MODEL_BYTES`] (or a `config.json`
    /// larger than 1 MiB): most likely the wrong file.
    #[error("{path}: {size} bytes, more than the {limit} a model file may have", path = model::quote_path(.path))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A file whose name says no model format this crate reads.
    #[error(
        "{path}: not a model file (expected a model directory, or a .bpk, .safetensors, .pt, .pth or .onnx file)", path = model::quote_path(.path))]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A `.safetensors` file that is not one (a bad or truncated header, missing data).
    #[error("{path}: not a readable safetensors file", path = model::quote_path(.path))]
    NotSafetensors {
        /// The file.
        path: PathBuf,
        /// What the safetensors reader said.
        #[source]
        source: burn::store::SafetensorsStoreError,
    },
    /// A `.onnx` file that is not a readable ONNX model (not protobuf, truncated, no graph).
    #[error("{path}: not a readable ONNX model ({reason})", path = model::quote_path(.path))]
    NotOnnx {
        /// The file.
        path: PathBuf,
        /// What the protobuf reader said, or what is missing.
        reason: String,
    },
    /// An ONNX graph with a node this network does not have, or whose attributes or weights its
    /// configuration does not give, named by the node (its name, else `#` and its position).
    #[error("{path}: node {node} ({op}): {problem}", path = model::quote_path(.path))]
    OnnxNode {
        /// The file.
        path: PathBuf,
        /// The node's name, quoted, or `#position`.
        node: String,
        /// Its operation (`Conv`, `Gemm`, ...).
        op: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An ONNX graph that is not this network as a whole (a layer too many or too few).
    #[error("{path}: {problem}", path = model::quote_path(.path))]
    OnnxGraph {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// An ONNX file, in a build without the ONNX reader.
    #[error(
        "{path}: this build reads no ONNX files: that needs the infer crate's `export` feature (the `infer` program has it; build train or serve with `--features onnx`)", path = model::quote_path(.path))]
    OnnxNotBuilt {
        /// The file.
        path: PathBuf,
    },
    /// A `.pt` / `.pth` file that is not a readable `torch.save` of a `state_dict`.
    #[error("{path}: not a readable PyTorch state_dict", path = model::quote_path(.path))]
    NotPytorch {
        /// The file.
        path: PathBuf,
        /// What the PyTorch reader said.
        #[source]
        source: burn::store::PytorchStoreError,
    },
    /// A `.pt` / `.pth` file past a bound checked before its pickle is parsed (see
    /// [`crate::torch_zip`]): a pickle bomb, or not this network's state_dict.
    #[error("{path}: {what} exceeds {limit} bytes, more than a state_dict of this network needs; refused before parsing it", path = model::quote_path(.path))]
    PytorchBound {
        /// The file.
        path: PathBuf,
        /// What is too large.
        what: &'static str,
        /// Its size: the file's, or the bytes inflated before the bound stopped the reading
        /// (one past the limit).
        size: u64,
        /// The bound.
        limit: u64,
    },
    /// The `model_config` in a safetensors file's metadata is not a model configuration.
    #[error("{path}: the model_config in its metadata is not a model configuration", path = model::quote_path(.path))]
    MetadataConfig {
        /// The file.
        path: PathBuf,
        /// Where the JSON is wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The file holds none of this network's tensors: the weights of another architecture.
    #[error(
        "{path}: not this network's weights (none of conv1/conv2/fc1/fc2 .weight/.bias); it holds {found}", path = model::quote_path(.path))]
    ForeignModel {
        /// The file.
        path: PathBuf,
        /// The first few tensor names in the file.
        found: String,
    },
    /// A parameter of the network has no tensor in the file.
    #[error("{path}: tensor {tensor} is missing", path = model::quote_path(.path), tensor = model::quote(.tensor))]
    MissingTensor {
        /// The file.
        path: PathBuf,
        /// The parameter, in PyTorch's naming (`fc1.weight`).
        tensor: String,
    },
    /// The file holds a tensor the network has no parameter for.
    #[error("{path}: unexpected tensor {tensor} (the network has no such parameter)", path = model::quote_path(.path), tensor = model::quote(.tensor))]
    UnexpectedTensor {
        /// The file.
        path: PathBuf,
        /// The tensor's name in the file.
        tensor: String,
    },
    /// A tensor is not float32 (the network computes in float32; a float64 file would make it
    /// compute in float64, or not at all on some backends).
    #[error("{path}: tensor {tensor} is {dtype}, expected float32 (in PyTorch: model.float())", path = model::quote_path(.path), tensor = model::quote(.tensor))]
    TensorDType {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Its element type.
        dtype: String,
    },
    /// A tensor's shape is not the parameter's (in PyTorch's layout).
    #[error(
        "{path}: tensor {tensor} has shape {found:?}, the network built from {config} needs {expected:?}", path = model::quote_path(.path), tensor = model::quote(.tensor))]
    TensorShape {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Its shape in the file.
        found: Box<[usize]>,
        /// The shape the network needs.
        expected: Box<[usize]>,
        /// Where the network's configuration came from.
        config: String,
    },
    /// A tensor passed the checks but could not be read or applied.
    #[error("{path}: tensor {tensor} cannot be loaded", path = model::quote_path(.path), tensor = model::quote(.tensor))]
    BadTensor {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// What Burn's store said (boxed: it holds two shapes, and every `Result` of this
        /// crate would carry its size).
        #[source]
        source: Box<burn::store::ApplyError>,
    },
    /// A weight of the model is NaN or infinite: every answer would be NaN.
    #[error("{path}: tensor {tensor} holds {value} (every weight must be finite)", path = model::quote_path(.path), tensor = model::quote(.tensor))]
    NonFiniteWeight {
        /// The record.
        path: PathBuf,
        /// The parameter, in Burn's naming (`fc1.weight`).
        tensor: String,
        /// The first non-finite value (`NaN`, `inf`, `-inf`).
        value: f32,
    },
    /// Finite weights whose outputs are not: too large to compute with in float32.
    #[error("{path}: the network's probabilities for a blank image are {value} (weights too large to compute with in float32)", path = model::quote_path(.path))]
    NonFiniteOutput {
        /// The model file.
        path: PathBuf,
        /// The first probability that is not finite.
        value: f32,
    },
    /// A label or a prediction outside the classes 0-9 given to the confusion matrix.
    #[error("class {class} is not a digit 0-{}", model::NUM_CLASSES - 1)]
    ClassOutOfRange {
        /// The label or prediction.
        class: u8,
    },
    /// Neither a model directory nor a shipped model: this build has no `shipped-model`.
    #[error(
        "no model: pass --model-dir DIR or set {env} (this build has no shipped model)",
        env = crate::ModelSource::ENV_VAR
    )]
    NoModel,
    /// An image file could not be decoded.
    #[cfg(feature = "image")]
    #[error("{path}: not a readable image", path = model::quote_path(.path))]
    Image {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        #[source]
        source: image::ImageError,
    },
    /// An image whose header declares more pixels per side than
    /// [`crate::image_decode::MAX_IMAGE_SIDE`]; refused before any pixel is decoded.
    #[cfg(feature = "image")]
    #[error(
        "{path}: the image declares {width}x{height} pixels, more than the {limit} a side may have", path = model::quote_path(.path))]
    ImageTooLarge {
        /// The file (or [`crate::image_decode::IMAGE_DATA_NAME`]).
        path: PathBuf,
        /// The declared width.
        width: u32,
        /// The declared height.
        height: u32,
        /// The limit per side.
        limit: u32,
    },
    /// An image whose decoded pixels (or ancillary data) would take more than
    /// [`crate::image_decode::MAX_DECODED_BYTES`].
    #[cfg(feature = "image")]
    #[error(
        "{path}: the {width}x{height} image needs {} bytes to decode, more than the {limit} allowed",
        bytes.map_or_else(|| "more".to_string(), |b| b.to_string()), path = model::quote_path(.path))]
    ImageMemory {
        /// The file (or [`crate::image_decode::IMAGE_DATA_NAME`]).
        path: PathBuf,
        /// The declared width.
        width: u32,
        /// The declared height.
        height: u32,
        /// The bytes needed, when known before decoding.
        bytes: Option<u64>,
        /// The limit.
        limit: u64,
    },
    /// An image file larger than [`crate::image_decode::MAX_IMAGE_FILE_BYTES`].
    #[cfg(feature = "image")]
    #[error("{path}: {size} bytes, more than the {limit} an image file may have", path = model::quote_path(.path))]
    ImageFileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The image has no ink to recognise.
    #[cfg(feature = "image")]
    #[error("the image is blank: no ink found")]
    NoInk,
    /// A decoded picture that cannot be framed (its size: see
    /// [`preprocess::MAX_PICTURE_PIXELS`]).
    #[cfg(feature = "image")]
    #[error(transparent)]
    Picture(preprocess::PreprocessError),
    /// An image file of a labelled folder has no ink to recognise.
    #[cfg(feature = "image")]
    #[error("{path}: the image is blank: no ink found", path = model::quote_path(.path))]
    BlankImage {
        /// The file.
        path: PathBuf,
    },
    /// A labelled-image folder is not a directory.
    #[cfg(feature = "image")]
    #[error("{path}: not a directory", path = model::quote_path(.path))]
    NotADirectory {
        /// The path given as the folder.
        path: PathBuf,
    },
    /// A labelled-image folder holds no usable image in its digit folders.
    #[cfg(feature = "image")]
    #[error(
        "{path}: no images found; expected the layout DIR/<digit>/<image>.png with digit folders 0 to 9", path = model::quote_path(.path))]
    NoImages {
        /// The folder.
        path: PathBuf,
    },
    /// A labelled-image folder whose image files were all found and all failed.
    #[cfg(feature = "image")]
    #[error(
        "{path}: {failed} image files found in the digit folders, and every one failed; the first", path = model::quote_path(.path))]
    AllImagesFailed {
        /// The folder.
        path: PathBuf,
        /// How many files were tried (all failed).
        failed: usize,
        /// Why the first one failed.
        #[source]
        first: Box<InferError>,
    },
    /// A directory for output files could not be created.
    #[cfg(feature = "image")]
    #[error("{path}: cannot create the directory", path = model::quote_path(.path))]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// An image file could not be written.
    #[cfg(feature = "image")]
    #[error("{path}: cannot write the image", path = model::quote_path(.path))]
    WriteImage {
        /// The file.
        path: PathBuf,
        /// What the encoder or the OS said.
        #[source]
        source: image::ImageError,
    },
    /// plotters could not draw the robustness plot (a bug of this crate, not a user error).
    #[cfg(feature = "image")]
    #[error("cannot draw the robustness plot: {0}")]
    Plot(String),
}
