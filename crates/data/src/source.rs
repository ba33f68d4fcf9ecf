//! Where the MNIST files come from: an explicit directory, `MNIST_DIR`, or a cache directory
//! that is filled from public mirrors on first use.
//!
//! A download goes to a temporary file in the cache directory and is renamed into place only
//! after the SHA-256 of its decompressed content matches the published one, so an interrupted
//! or corrupted download is never mistaken for the data set.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::DataError;
use crate::idx::read_maybe_gzip;

/// One of the four MNIST files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MnistFile {
    /// File name without `.gz`, e.g. `train-images-idx3-ubyte`.
    pub stem: &'static str,
    /// SHA-256 of the decompressed file, hex.
    pub sha256: &'static str,
}

/// The training images (60,000).
pub const TRAIN_IMAGES: MnistFile = MnistFile {
    stem: "train-images-idx3-ubyte",
    sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
};
/// The training labels.
pub const TRAIN_LABELS: MnistFile = MnistFile {
    stem: "train-labels-idx1-ubyte",
    sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
};
/// The test images (10,000).
pub const TEST_IMAGES: MnistFile = MnistFile {
    stem: "t10k-images-idx3-ubyte",
    sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
};
/// The test labels.
pub const TEST_LABELS: MnistFile = MnistFile {
    stem: "t10k-labels-idx1-ubyte",
    sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
};
/// All four, in the order they are fetched.
pub const MNIST_FILES: [MnistFile; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];

/// Public mirrors of the gzipped files, tried in order (the original site often refuses
/// automated downloads, so it comes last).
pub const DEFAULT_MIRRORS: [&str; 3] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
];

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

/// Fills a cache directory from mirrors.
#[derive(Debug, Clone)]
pub struct Downloader {
    /// Base URLs, each ending in `/`, tried in order.
    pub mirrors: Vec<String>,
    /// Show a progress bar on stderr (hidden automatically when stderr is not a terminal).
    pub progress: bool,
}

impl Default for Downloader {
    fn default() -> Self {
        Self {
            mirrors: DEFAULT_MIRRORS.iter().map(|m| m.to_string()).collect(),
            progress: true,
        }
    }
}

impl Downloader {
    /// Makes sure `file` is in `dir`, downloading and verifying it if needed. Returns its path.
    pub fn ensure(&self, dir: &Path, file: &MnistFile) -> Result<PathBuf, DataError> {
        let location = Location::Cache(dir.into());
        if let Ok(path) = location.find(file) {
            return Ok(path);
        }
        std::fs::create_dir_all(dir).map_err(|source| DataError::Io {
            path: dir.into(),
            source,
        })?;
        let target = dir.join(format!("{}.gz", file.stem));
        let mut attempts = Vec::new();
        for mirror in &self.mirrors {
            let url = format!("{mirror}{}.gz", file.stem);
            match self.fetch_verified(&url, dir, &target, file) {
                Ok(()) => return Ok(target),
                Err(err) => attempts.push(err),
            }
        }
        // A checksum mismatch says more than "could not connect": report it as itself.
        if let Some(pos) = attempts
            .iter()
            .position(|e| matches!(e, DataError::ChecksumMismatch { .. }))
        {
            return Err(attempts.swap_remove(pos));
        }
        Err(DataError::Unavailable {
            file: file.stem,
            dir: dir.into(),
            attempts: attempts
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        })
    }

    fn fetch_verified(
        &self,
        url: &str,
        dir: &Path,
        target: &Path,
        file: &MnistFile,
    ) -> Result<(), DataError> {
        let io_err = |source| DataError::Io {
            path: dir.into(),
            source,
        };
        // Dropped (and so deleted) on every early return: no partial file is ever left behind.
        let mut tmp = tempfile::Builder::new()
            .prefix(".download-")
            .tempfile_in(dir)
            .map_err(io_err)?;
        self.download(url, tmp.as_file_mut())?;
        let found = sha256_hex(&read_maybe_gzip(tmp.path())?);
        if found != file.sha256 {
            return Err(DataError::ChecksumMismatch {
                url: url.into(),
                found,
                expected: file.sha256.into(),
            });
        }
        tmp.persist(target).map_err(|e| io_err(e.error))?;
        Ok(())
    }

    fn download(&self, url: &str, out: &mut std::fs::File) -> Result<(), DataError> {
        let http_err = |e: ureq::Error| DataError::Io {
            path: url.into(),
            source: std::io::Error::other(e.to_string()),
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        let mut response = agent.get(url).call().map_err(http_err)?;
        let length = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let bar = if self.progress {
            indicatif::ProgressBar::with_draw_target(
                length,
                indicatif::ProgressDrawTarget::stderr(),
            )
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
        let mut reader = response.body_mut().with_config().limit(64 << 20).reader();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf).map_err(|source| DataError::Io {
                path: url.into(),
                source,
            })?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(|source| DataError::Io {
                path: url.into(),
                source,
            })?;
            bar.inc(n as u64);
        }
        bar.finish_and_clear();
        Ok(())
    }
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
