//! The layout of a run directory, and the check that makes one ready to train into:
//!
//! ```text
//! runs/<timestamp>/
//!   config.json        the training configuration (written first; `--config` reads it back)
//!   history.jsonl      one line per epoch: train/valid loss and accuracy, learning rate
//!   curves.png         the history drawn: loss, accuracy, learning rate per epoch
//!   metrics.json       test accuracy, per-class accuracy, epochs, wall time, backend, Burn version
//!   checkpoint/        model-N.bpk, optim-N.bpk, scheduler-N.bpk (the last two epochs + the best)
//!   model/             what inference needs: model.bpk, config.json (the model's), metrics.json
//!   train/, valid/     Burn's per-epoch metric logs
//! ```
//!
//! Training takes a [`PreparedRun`], which only [`RunDir::prepare`] makes: a caller cannot
//! train into a directory that was not checked, nor with a configuration that was not
//! validated, nor with another configuration than the one `config.json` holds.

use std::path::{Path, PathBuf};

use burn::config::Config;

use crate::config::{ConfigError, TrainingConfig};

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
        "{path}: the checkpoint of epoch {epoch}, selected for the lowest validation loss, is missing"
    )]
    MissingCheckpoint {
        /// The selected epoch.
        epoch: usize,
        /// Where its model checkpoint should be.
        path: PathBuf,
    },
    /// Filesystem error.
    #[error("{path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A line of `history.jsonl` that is not an epoch record.
    #[error("{path}, line {line}: not an epoch record")]
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
    #[error("{path} is larger than {limit} bytes: not a run's history")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A model record could not be written, read or applied.
    #[error("{path}: model record")]
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

/// A run directory, not yet checked: [`RunDir::prepare`] makes it a [`PreparedRun`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDir(PathBuf);

impl RunDir {
    /// The run in `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    /// A new directory under `root`, named by the current UTC time, never an existing one.
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

    /// `curves.png` (loss, accuracy and learning rate per epoch, redrawn after each epoch).
    pub fn curves(&self) -> PathBuf {
        self.0.join("curves.png")
    }

    /// `metrics.json`.
    pub fn metrics(&self) -> PathBuf {
        self.0.join("metrics.json")
    }

    /// `model/`, the directory inference loads.
    pub fn model_dir(&self) -> PathBuf {
        self.0.join("model")
    }

    /// `checkpoint/`, where Burn's checkpointers write.
    pub fn checkpoint_dir(&self) -> PathBuf {
        self.0.join("checkpoint")
    }

    /// The checkpointed model of `epoch`.
    pub fn checkpoint_model(&self, epoch: usize) -> PathBuf {
        self.checkpoint_dir().join(format!("model-{epoch}.bpk"))
    }

    /// Validates `config` and readies the directory before any data is loaded, so that a bad
    /// configuration or directory fails fast and writes nothing: a fresh run creates the
    /// directory (which must be empty or absent) and writes `config.json`; `resume` checks that
    /// there is a checkpoint to continue from.
    pub fn prepare(
        self,
        config: &TrainingConfig,
        resume: bool,
    ) -> Result<PreparedRun, ArtifactError> {
        config.validate()?;
        let resume_from = if resume {
            Some(self.last_checkpoint()?)
        } else {
            let occupied = std::fs::read_dir(&self.0)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false);
            if occupied {
                return Err(ArtifactError::NotEmpty(self.0));
            }
            std::fs::create_dir_all(&self.0).map_err(io(&self.0))?;
            config.save(self.config()).map_err(io(&self.config()))?;
            None
        };
        Ok(PreparedRun {
            dir: self,
            config: config.clone(),
            resume_from,
        })
    }

    /// The highest epoch with a complete checkpoint (model, optimiser and scheduler).
    pub fn last_checkpoint(&self) -> Result<usize, ArtifactError> {
        let dir = self.checkpoint_dir();
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
}

/// A run directory ready to train into, with the validated configuration it was prepared for.
/// Training consumes it: one preparation, one training.
#[derive(Debug)]
pub struct PreparedRun {
    dir: RunDir,
    config: TrainingConfig,
    resume_from: Option<usize>,
}

impl PreparedRun {
    /// The directory.
    pub fn dir(&self) -> &RunDir {
        &self.dir
    }

    /// The configuration, validated (for a fresh run, the one in `config.json`).
    pub fn config(&self) -> &TrainingConfig {
        &self.config
    }

    /// The checkpointed epoch a resumed run continues after; `None` for a fresh run.
    pub fn resume_from(&self) -> Option<usize> {
        self.resume_from
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
    use model::MnistCnnConfig;

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

    #[test]
    fn prepare_writes_the_validated_config_or_nothing() {
        let root = tempfile::tempdir().unwrap();
        let config = TrainingConfig::new(MnistCnnConfig::new()).with_epochs(2);

        let bad = RunDir::new(root.path().join("bad"));
        let err = bad.prepare(&config.clone().with_epochs(0), false);
        assert!(matches!(err, Err(ArtifactError::Config(_))), "{err:?}");
        assert!(!root.path().join("bad").exists());

        let run = RunDir::new(root.path().join("run"))
            .prepare(&config, false)
            .unwrap();
        assert_eq!(run.config(), &config);
        assert_eq!(run.resume_from(), None);
        assert_eq!(TrainingConfig::load(run.dir().config()).unwrap(), config);

        let again = RunDir::new(root.path().join("run")).prepare(&config, false);
        assert!(
            matches!(again, Err(ArtifactError::NotEmpty(_))),
            "{again:?}"
        );
        let resume = RunDir::new(root.path().join("run")).prepare(&config, true);
        assert!(
            matches!(resume, Err(ArtifactError::NoCheckpoint(_))),
            "{resume:?}"
        );
    }
}
