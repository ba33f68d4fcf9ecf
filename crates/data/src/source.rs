//! Where the MNIST files come from: an explicit directory, `MNIST_DIR`, or a cache directory
//! (filled from public mirrors on first use when the `download` feature is on: see
//! [`crate::download`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::DataError;
use crate::idx::IdxKind;

/// One of the four MNIST files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MnistFile {
    /// File name without `.gz`, e.g. `train-images-idx3-ubyte`.
    pub stem: &'static str,
    /// SHA-256 of the decompressed file, hex.
    pub sha256: &'static str,
    /// Images or labels: a download is read (bounded by its header) before it is hashed.
    pub kind: IdxKind,
}

/// The training images (60,000).
pub const TRAIN_IMAGES: MnistFile = MnistFile {
    stem: "train-images-idx3-ubyte",
    sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    kind: IdxKind::Images,
};
/// The training labels.
pub const TRAIN_LABELS: MnistFile = MnistFile {
    stem: "train-labels-idx1-ubyte",
    sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    kind: IdxKind::Labels,
};
/// The test images (10,000).
pub const TEST_IMAGES: MnistFile = MnistFile {
    stem: "t10k-images-idx3-ubyte",
    sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    kind: IdxKind::Images,
};
/// The test labels.
pub const TEST_LABELS: MnistFile = MnistFile {
    stem: "t10k-labels-idx1-ubyte",
    sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    kind: IdxKind::Labels,
};
/// All four, in the order they are fetched.
pub const MNIST_FILES: [MnistFile; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];

/// The environment variable that points at a directory of MNIST files.
pub const MNIST_DIR_VAR: &str = "MNIST_DIR";

/// Where the files were (or will be) read from, in order of precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `--data-dir`: used as is, no checksum (it may hold another IDX data set).
    DataDir(PathBuf),
    /// The `MNIST_DIR` environment variable: used as is.
    EnvVar(PathBuf),
    /// The cache directory, filled from the mirrors when files are missing.
    Cache(PathBuf),
}

impl Location {
    /// Chooses the directory: `data_dir`, else `mnist_dir` (the value of `MNIST_DIR`), else the
    /// cache directory derived from `XDG_CACHE_HOME` / `HOME`.
    pub fn choose(
        data_dir: Option<&Path>,
        mnist_dir: Option<OsString>,
        xdg_cache_home: Option<OsString>,
        home: Option<OsString>,
    ) -> Result<Self, DataError> {
        if let Some(dir) = data_dir {
            return Ok(Self::DataDir(dir.into()));
        }
        if let Some(dir) = mnist_dir.filter(|d| !d.is_empty()) {
            return Ok(Self::EnvVar(dir.into()));
        }
        let cache = xdg_cache_home
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                home.filter(|d| !d.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache"))
            })
            .ok_or(DataError::NoCacheDir)?;
        Ok(Self::Cache(cache.join("mnist-cnn").join("mnist")))
    }

    /// [`Location::choose`] with the process's environment.
    pub fn from_env(data_dir: Option<&Path>) -> Result<Self, DataError> {
        Self::choose(
            data_dir,
            std::env::var_os(MNIST_DIR_VAR),
            std::env::var_os("XDG_CACHE_HOME"),
            std::env::var_os("HOME"),
        )
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        match self {
            Self::DataDir(d) | Self::EnvVar(d) | Self::Cache(d) => d,
        }
    }

    /// The path of `file` in this location: `<stem>.gz` if present, else the raw `<stem>`.
    /// `Err` when neither exists.
    pub fn find(&self, file: &MnistFile) -> Result<PathBuf, DataError> {
        let gz = self.dir().join(format!("{}.gz", file.stem));
        let raw = self.dir().join(file.stem);
        if gz.is_file() {
            Ok(gz)
        } else if raw.is_file() {
            Ok(raw)
        } else {
            Err(match self {
                Self::DataDir(dir) => DataError::NotInDir {
                    dir: dir.clone(),
                    origin: "--data-dir",
                    file: file.stem,
                },
                Self::EnvVar(dir) => DataError::NotInDir {
                    dir: dir.clone(),
                    origin: MNIST_DIR_VAR,
                    file: file.stem,
                },
                Self::Cache(_) => DataError::Missing { path: gz },
            })
        }
    }
}
