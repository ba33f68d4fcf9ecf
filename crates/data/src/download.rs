//! The verified download into the cache directory (cargo feature `download`; inference builds
//! leave it out, and with it the HTTP, progress-bar and hashing crates).
//!
//! A download goes to a temporary file in the cache directory and is renamed into place only
//! after the SHA-256 of its decompressed content matches the published one, so an interrupted
//! or corrupted download is never mistaken for the data set.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::DataError;
use crate::idx::{Idx, read_idx};
use crate::source::{Location, MnistFile};

/// Public mirrors of the gzipped files, tried in order (the original site often refuses
/// automated downloads, so it comes last).
pub const DEFAULT_MIRRORS: [&str; 3] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
];

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
        // Read like any IDX file: the header bounds what is inflated, so a bomb from a mirror
        // costs no more than the digits it claims to hold.
        let found = content_sha256(&read_idx(tmp.path(), file.kind)?);
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

/// Hex SHA-256 of an IDX file's decompressed content (header and data), as published.
pub fn content_sha256(idx: &Idx) -> String {
    hex(&Sha256::new()
        .chain_update(&idx.header)
        .chain_update(&idx.data)
        .finalize())
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
