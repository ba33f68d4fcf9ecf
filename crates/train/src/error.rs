//! Every error this crate returns, in one place: the configuration, the run directory and its
//! artifacts, the starting weights, the devices, the curves, and the run that wraps them all.
//! Each names the file, flag or device it is about, and keeps its source.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use burn::train::TrainingError;

use crate::devices::names::Backend;
use crate::limits::{MAX_DEVICES, MAX_NAME_SUFFIX};

/// A configuration that cannot be trained.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A training parameter is out of range.
    #[error("invalid training configuration: {0}")]
    Invalid(String),
    /// The model part is invalid.
    #[error(transparent)]
    Model(#[from] model::InvalidConfig),
    /// The configuration file cannot be read.
    #[error("cannot read {path}", path = model::quote_path(.path))]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is larger than [`crate::limits::MAX_CONFIG_BYTES`].
    #[error("{path} is larger than {limit} bytes: not a training configuration", path = model::quote_path(.path))]
    TooLarge {
        /// The file.
        path: std::path::PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The configuration file is not a training configuration.
    #[error("{path} is not a training configuration: {reason}", path = model::quote_path(.path))]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// Burn's message.
        reason: String,
    },
}

/// Problems with the run directory and the files in it.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The configuration cannot be trained; nothing was written.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A fresh run would overwrite an earlier one.
    #[error(
        "{0} already holds a run; pass --resume to continue it, or choose another --artifact-dir"
    )]
    NotEmpty(PathBuf),
    /// `--resume` on a directory without a run.
    #[error(
        "{0} has no checkpoint to resume from (it needs config.json and checkpoint/model-N.bpk)"
    )]
    NoCheckpoint(PathBuf),
    /// The checkpoint of the epoch selected for export is gone.
    #[error(
        "{path}: the checkpoint of epoch {epoch}, selected for the lowest validation loss, is missing", path = model::quote_path(.path))]
    MissingCheckpoint {
        /// The selected epoch.
        epoch: usize,
        /// Where its model checkpoint should be.
        path: PathBuf,
    },
    /// Filesystem error.
    #[error("{path}", path = model::quote_path(.path))]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A line of `history.jsonl` that is not an epoch record.
    #[error("{path}, line {line}: not an epoch record", path = model::quote_path(.path))]
    History {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A file too large to be what it claims, refused before it is read.
    #[error("{path} is larger than {limit} bytes: not a run's history", path = model::quote_path(.path))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// `--resume` with a setting that differs from the one the run was trained with.
    #[error(
        "cannot resume {dir}: {flag} is {given}, but the run was trained with {saved} (its config.json); only --epochs, --workers and --early-stopping may change on --resume", dir = model::quote_path(.dir), given = model::quote(.given), saved = model::quote(.saved))]
    ResumeChanged {
        /// The run directory.
        dir: PathBuf,
        /// The flag (or setting) that differs.
        flag: String,
        /// The value in the run's `config.json`.
        saved: String,
        /// The value asked for.
        given: String,
    },
    /// No free timestamped name for a fresh run directory.
    #[error("{0}: no free run directory name (tried up to suffix -{MAX_NAME_SUFFIX})")]
    NoFreeName(PathBuf),
    /// A record (model, optimiser or scheduler state) could not be written, read or applied.
    #[error(
        "{path}: unreadable or incompatible record (corrupt, truncated, or of another network)", path = model::quote_path(.path))]
    Record {
        /// The file.
        path: PathBuf,
        /// Burn's error.
        #[source]
        source: burn::store::RecordError,
    },
}

/// Maps an I/O error on `path` to [`ArtifactError::Io`].
pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ArtifactError + '_ {
    move |source| ArtifactError::Io {
        path: path.into(),
        source,
    }
}

/// Why the starting weights cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The file is missing, unreadable, or its tensors do not fit the network.
    #[error("cannot start from the weights of --init-from")]
    Load(#[source] infer::InferError),
    /// The file describes another network than the one being trained.
    #[error("{path}: weights of another network than the training configuration's ({differences})", path = model::quote_path(.path))]
    Architecture {
        /// The file.
        path: PathBuf,
        /// The settings that differ.
        differences: String,
    },
}

/// Errors choosing a device.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// `--device gpu` without the `wgpu` feature.
    #[error("no GPU backend is compiled in; rebuild with `--features wgpu`, or use --device cpu")]
    NoGpuBackend,
    /// `--device cpu` without a CPU backend.
    #[error(
        "no CPU backend is compiled in; rebuild with `--features flex` or `--features ndarray`"
    )]
    NoCpuBackend,
    /// A backend that is not compiled into this binary.
    #[error("the {backend} backend is not compiled into this binary (compiled: {compiled})")]
    NotCompiled {
        /// The backend asked for.
        backend: Backend,
        /// The compiled backends, comma-separated.
        compiled: String,
    },
    /// `BURN_DEVICE` names no backend at all.
    #[error("BURN_DEVICE={0} names no backend (expected one of: flex, ndarray, wgpu)")]
    BadBurnDevice(String),
    /// `remote` names no device by itself.
    #[error("a remote device is named by its address: --devices remote:ws://HOST:PORT")]
    RemoteNeedsAddress,
    /// `--devices remote:...` without the `remote` feature.
    #[error("remote devices are not compiled into this binary; rebuild with `--features remote`")]
    RemoteNotCompiled,
    /// The remote device's server could not be reached or refused the session.
    #[cfg(feature = "remote")]
    #[error("cannot connect to the device served at {address} (is `serve-device` running there?)")]
    RemoteConnect {
        /// The `ws://HOST:PORT` address.
        address: String,
        /// Burn Remote's reason.
        #[source]
        source: burn::remote::ConnectError,
    },
    /// The GPU backend found no adapter (no driver, no GPU).
    #[cfg(feature = "wgpu")]
    #[error(
        "no GPU adapter found by wgpu; install a Vulkan, Metal or DX12 driver, or train on the CPU with --device cpu"
    )]
    NoAdapter(#[source] burn::backend::wgpu::wgpu::RequestAdapterError),
}

/// A `--devices` list that cannot be parsed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeviceListError {
    /// No entry at all, or an empty one (`cpu,,cpu`).
    #[error(
        "--devices has an empty entry; expected e.g. `cpu,cpu`, `gpu:0,gpu:1` or `remote:ws://host:3000,...`"
    )]
    EmptyEntry,
    /// More entries than [`crate::limits::MAX_DEVICES`].
    #[error("--devices lists {0} devices; at most {MAX_DEVICES} are accepted")]
    TooMany(usize),
    /// An entry of no known kind.
    #[error(
        "unknown device `{}` in --devices (expected cpu, flex, ndarray, gpu, gpu:N or remote:ws://HOST:PORT)",
        model::quote(.0)
    )]
    Unknown(String),
    /// `gpu:` followed by something other than an index.
    #[error("bad GPU index in `{}` (expected gpu:N with N a number, e.g. gpu:0)", model::quote(.0))]
    GpuIndex(String),
    /// A `remote:` entry whose address is not `ws://HOST:PORT`.
    #[error("bad remote address `{address}`: {reason} (expected remote:ws://HOST:PORT)", address = model::quote(.address))]
    RemoteAddress {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Why `curves.png` could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum CurvesError {
    /// The history could not be read.
    #[error(transparent)]
    History(#[from] ArtifactError),
    /// The history holds no epoch.
    #[error("{}: no epoch to draw", model::quote_path(.0))]
    Empty(PathBuf),
    /// `--out` names the history being drawn.
    #[error("{}: the output is the history itself (choose another --out)", model::quote_path(.0))]
    OutIsInput(PathBuf),
    /// A drawing took longer than its deadline (see `redraw_within`).
    #[error("drawing took longer than {0:?}; left unfinished")]
    Timeout(Duration),
    /// An earlier drawing is still running (see `redraw_within`).
    #[error("an earlier drawing still runs; skipped")]
    Busy,
    /// The embedded font was rejected (a broken build, not a user error).
    #[error("the embedded font fonts/DejaVuSans.ttf is not a valid font")]
    Font,
    /// plotters failed to draw.
    #[error("cannot draw the curves")]
    Draw(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The pixels could not be encoded as PNG.
    #[error("cannot encode the curves as PNG")]
    Encode(#[source] png::EncodingError),
}

/// Errors that end a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Data problem.
    #[error(transparent)]
    Data(#[from] data::DataError),
    /// Run directory problem.
    #[error(transparent)]
    Artifacts(#[from] ArtifactError),
    /// The loss diverged; nothing was exported.
    #[error(
        "training diverged: the loss became NaN or infinite at epoch {epoch}, step {step}; no model was written (try a smaller --lr)"
    )]
    NonFiniteLoss {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step in the epoch.
        step: usize,
    },
    /// Burn's training loop reported an error.
    #[error("training failed")]
    Training(#[source] Arc<TrainingError>),
    /// Training ended before it completed an epoch; nothing was exported.
    #[error("training stopped before completing an epoch; no model was written")]
    NoEpoch,
    /// The weights of `init_from` cannot start this run.
    #[error(transparent)]
    Init(#[from] InitError),
    /// The test set could not be evaluated (a label outside 0-9).
    #[error("cannot evaluate the test set")]
    Evaluate(#[source] Box<infer::InferError>),
    /// The weights read for `init_from` could not be moved into the training network.
    #[error("cannot apply the --init-from weights to the network")]
    InitialWeights(#[source] burn::store::RecordError),
}
