//! The layout of a run directory:
//!
//! ```text
//! runs/<timestamp>/
//!   config.json        the training configuration (written first; `--config` reads it back)
//!   history.jsonl      one line per epoch: train/valid loss and accuracy, learning rate
//!   metrics.json       test accuracy, per-class accuracy, epochs, wall time, backend, Burn version
//!   checkpoint/        model-N.bpk, optim-N.bpk, scheduler-N.bpk (the last two epochs + the best)
//!   model/             what inference needs: model.bpk, config.json (the model's), metrics.json
//!   train/, valid/     Burn's per-epoch metric logs
//! ```

use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::module::Module;
use model::{MnistCnn, MnistCnnConfig};

use crate::config::TrainingConfig;
use crate::run::RunMetrics;

/// Problems with the run directory.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
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
    /// Filesystem error.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A record could not be written.
    #[error("{path}: cannot write record: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// The error.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ArtifactError + '_ {
    move |source| ArtifactError::Io {
        path: path.into(),
        source,
    }
}

/// A run directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDir(PathBuf);

impl RunDir {
    /// The run in `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    /// A new directory under `runs/`, named by the current UTC time, never an existing one.
    pub fn fresh(root: &Path) -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let stamp = utc_stamp(secs);
        let mut candidate = root.join(&stamp);
        let mut n = 1;
        while candidate.exists() {
            n += 1;
            candidate = root.join(format!("{stamp}-{n}"));
        }
        Self(candidate)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `config.json` (the training configuration).
    pub fn config(&self) -> PathBuf {
        self.0.join("config.json")
    }

    /// `history.jsonl`.
    pub fn history(&self) -> PathBuf {
        self.0.join("history.jsonl")
    }

    /// `metrics.json`.
    pub fn metrics(&self) -> PathBuf {
        self.0.join("metrics.json")
    }

    /// `model/`, the directory inference loads.
    pub fn model_dir(&self) -> PathBuf {
        self.0.join("model")
    }

    /// The checkpointed model of `epoch`.
    pub fn checkpoint_model(&self, epoch: usize) -> PathBuf {
        self.0.join("checkpoint").join(format!("model-{epoch}.bpk"))
    }

    /// Creates the directory and writes `config.json` — or, when resuming, checks there is a
    /// run to resume. Done before any data is loaded, so a bad directory fails fast.
    pub fn prepare(&self, config: &TrainingConfig, resume: bool) -> Result<(), ArtifactError> {
        if resume {
            self.last_checkpoint()?;
            return Ok(());
        }
        let occupied = std::fs::read_dir(&self.0)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        if occupied {
            return Err(ArtifactError::NotEmpty(self.0.clone()));
        }
        std::fs::create_dir_all(&self.0).map_err(io(&self.0))?;
        config.save(self.config()).map_err(io(&self.config()))
    }

    /// The highest epoch with a complete checkpoint (model, optimiser and scheduler).
    pub fn last_checkpoint(&self) -> Result<usize, ArtifactError> {
        let dir = self.0.join("checkpoint");
        let none = || ArtifactError::NoCheckpoint(self.0.clone());
        if !self.config().is_file() {
            return Err(none());
        }
        let entries = std::fs::read_dir(&dir).map_err(|_| none())?;
        entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|name| {
                name.strip_prefix("model-")?
                    .strip_suffix(".bpk")?
                    .parse()
                    .ok()
            })
            .filter(|epoch: &usize| {
                ["optim", "scheduler"]
                    .iter()
                    .all(|kind| dir.join(format!("{kind}-{epoch}.bpk")).is_file())
            })
            .max()
            .ok_or_else(none)
    }

    /// Writes `model/` (record, model config, metrics) and the run's `metrics.json`.
    pub fn export(
        &self,
        net: MnistCnn,
        model: &MnistCnnConfig,
        metrics: &RunMetrics,
    ) -> Result<(), ArtifactError> {
        let dir = self.model_dir();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let record = dir.join("model.bpk");
        net.into_record()
            .save(&record)
            .map_err(|e| ArtifactError::Record {
                path: record.clone(),
                message: e.to_string(),
            })?;
        let config = dir.join("config.json");
        model.save(&config).map_err(io(&config))?;
        let json = serde_json::to_string_pretty(metrics).expect("plain numbers serialise");
        for path in [self.metrics(), dir.join("metrics.json")] {
            std::fs::write(&path, &json).map_err(io(&path))?;
        }
        Ok(())
    }
}

/// `YYYY-MM-DDTHH-MM-SS` in UTC (no dependency for one timestamp).
fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}-{m:02}-{s:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(utc_stamp(0), "1970-01-01T00-00-00");
        assert_eq!(utc_stamp(1_795_840_000), "2026-11-28T04-26-40");
        assert_eq!(utc_stamp(951_782_400), "2000-02-29T00-00-00");
    }

    #[test]
    fn fresh_never_reuses_a_directory() {
        let root = tempfile::tempdir().unwrap();
        let a = RunDir::fresh(root.path());
        std::fs::create_dir_all(a.path()).unwrap();
        let b = RunDir::fresh(root.path());
        assert_ne!(a, b);
    }
}
