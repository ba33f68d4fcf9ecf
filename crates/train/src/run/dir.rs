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
//!
//! Two runs never share a directory: a fresh run makes its directory with `create_dir`, which
//! fails when the name exists (a timestamped name then takes the next suffix, `-2`, `-3`...),
//! and claims it by creating `config.json` without replacing one, so that two runs pointed at
//! the same empty `--artifact-dir` at once cannot both start. Every JSON file is written
//! atomically (see [`crate::atomic_write`]).

use std::path::{Path, PathBuf};

use crate::atomic_write::{self, Replace};
use crate::config::TrainingConfig;
use crate::error::{ArtifactError, ConfigError, io};
use crate::limits::MAX_NAME_SUFFIX;

/// A run directory, not yet checked: [`RunDir::prepare`] makes it a [`PreparedRun`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
    /// A timestamped name that [`RunDir::prepare`] may suffix (`-2`, `-3`...) when it is taken.
    timestamped: bool,
}

impl RunDir {
    /// The run in `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            timestamped: false,
        }
    }

    /// A new directory under `root`, named by the current UTC time; if that name is taken when
    /// [`RunDir::prepare`] creates it, the next free `-2`, `-3`... suffix.
    pub fn fresh(root: &Path) -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            path: root.join(utc_stamp(secs)),
            timestamped: true,
        }
    }

    /// The directory (for a timestamped one, final only once [`RunDir::prepare`] created it).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `config.json` (the training configuration).
    pub fn config(&self) -> PathBuf {
        self.path.join("config.json")
    }

    /// `history.jsonl`.
    pub fn history(&self) -> PathBuf {
        self.path.join("history.jsonl")
    }

    /// `curves.png` (loss, accuracy and learning rate per epoch, redrawn after each epoch).
    pub fn curves(&self) -> PathBuf {
        self.path.join("curves.png")
    }

    /// `metrics.json`.
    pub fn metrics(&self) -> PathBuf {
        self.path.join("metrics.json")
    }

    /// `model/`, the directory inference loads.
    pub fn model_dir(&self) -> PathBuf {
        self.path.join("model")
    }

    /// `checkpoint/`, where Burn's checkpointers write.
    pub fn checkpoint_dir(&self) -> PathBuf {
        self.path.join("checkpoint")
    }

    /// The checkpointed model of `epoch`.
    pub fn checkpoint_model(&self, epoch: usize) -> PathBuf {
        self.checkpoint_file("model", epoch)
    }

    /// The checkpoint file of `kind` (`model`, `optim`, `scheduler`) for `epoch`, as Burn's
    /// checkpointers name it.
    pub fn checkpoint_file(&self, kind: &str, epoch: usize) -> PathBuf {
        self.checkpoint_dir().join(format!("{kind}-{epoch}.bpk"))
    }

    /// Validates `config` and readies the directory before any data is loaded, so that a bad
    /// configuration or directory fails fast and writes nothing.
    ///
    /// A fresh run creates the directory (or takes an empty one) and claims it by writing
    /// `config.json`. `resume` checks that there is a checkpoint to continue from and that
    /// `config` differs from the run's `config.json` only in the settings a resumed run may
    /// change (`RESUMABLE in run/resume.rs`; `config.json` is then updated), and removes the
    /// scratch files a killed run left behind.
    pub fn prepare(
        self,
        config: &TrainingConfig,
        resume: bool,
    ) -> Result<PreparedRun, ArtifactError> {
        config.validate()?;
        if resume {
            return self.prepare_resume(config);
        }
        let dir = self.create()?;
        let claim = atomic_write::write_json(&dir.config(), config, Replace::No);
        match claim {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(ArtifactError::NotEmpty(dir.path));
            }
            Err(e) => return Err(io(&dir.config())(e)),
        }
        Ok(PreparedRun {
            dir,
            config: config.clone(),
            resume_from: None,
        })
    }

    /// Creates the directory with `create_dir` (its parents with `create_dir_all`). An existing
    /// directory is accepted only if empty; a timestamped name moves on to the next suffix.
    fn create(self) -> Result<RunDir, ArtifactError> {
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Named by the run's path: that is what the user gave.
            std::fs::create_dir_all(parent).map_err(io(&self.path))?;
        }
        let suffixes = if self.timestamped { MAX_NAME_SUFFIX } else { 1 };
        for n in 1..=suffixes {
            let path = if n == 1 {
                self.path.clone()
            } else {
                let mut name = self.path.as_os_str().to_os_string();
                name.push(format!("-{n}"));
                PathBuf::from(name)
            };
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(RunDir::new(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if self.timestamped {
                        continue;
                    }
                    let empty = std::fs::read_dir(&path)
                        .map_err(io(&path))?
                        .next()
                        .is_none();
                    return if empty {
                        Ok(RunDir::new(path))
                    } else {
                        Err(ArtifactError::NotEmpty(path))
                    };
                }
                Err(e) => return Err(io(&path)(e)),
            }
        }
        Err(ArtifactError::NoFreeName(self.path))
    }

    fn prepare_resume(self, config: &TrainingConfig) -> Result<PreparedRun, ArtifactError> {
        let last = self.last_checkpoint()?;
        if config.epochs < last {
            return Err(ConfigError::Invalid(format!(
                "--epochs {} is fewer than the {last} epochs {} already checkpointed",
                config.epochs,
                self.path.display()
            ))
            .into());
        }
        let saved = TrainingConfig::read(&self.config())?;
        // Read now, before any data is loaded: a history that is not a regular file (a FIFO
        // would block), too large or unreadable stops the resume here.
        crate::logging::history::read_history(&self.history())?;
        if let Some((setting, saved, given)) = crate::run::resume::first_change(&saved, config) {
            return Err(ArtifactError::ResumeChanged {
                dir: self.path,
                flag: crate::run::resume::flag_of(&setting),
                saved,
                given,
            });
        }
        for dir in [self.path.clone(), self.checkpoint_dir(), self.model_dir()] {
            atomic_write::remove_scratch_files(&dir).map_err(io(&dir))?;
        }
        if &saved != config {
            atomic_write::write_json(&self.config(), config, Replace::Yes)
                .map_err(io(&self.config()))?;
        }
        Ok(PreparedRun {
            dir: RunDir::new(self.path),
            config: config.clone(),
            resume_from: Some(last),
        })
    }

    /// The highest epoch with a complete checkpoint (model, optimiser and scheduler).
    pub fn last_checkpoint(&self) -> Result<usize, ArtifactError> {
        let dir = self.checkpoint_dir();
        let none = || ArtifactError::NoCheckpoint(self.path.clone());
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
                // `is_file`: a FIFO or a directory under a checkpoint's name is no checkpoint
                // (Burn's reader would block on the FIFO).
                ["model", "optim", "scheduler"]
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

/// `YYYY-MM-DDTHH-MM-SS` in UTC: sortable, and without the colons some file systems refuse.
fn utc_stamp(secs: u64) -> String {
    // Any u64 of seconds since 1970 that `time` cannot represent (after the year 9999) is
    // shown as the last second it can: no run directory is named from such a clock.
    let time = i64::try_from(secs)
        .ok()
        .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc());
    format!(
        "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
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
        assert_eq!(utc_stamp(u64::MAX), "9999-12-31T23-59-59");
    }

    /// Runs started in the same second get directories of their own: the timestamp, then
    /// `-2`, `-3`, whether the earlier ones are still empty or not.
    #[test]
    fn runs_started_in_the_same_second_never_share_a_directory() {
        let root = tempfile::tempdir().unwrap();
        let config = TrainingConfig::new(MnistCnnConfig::new());
        let stamped = RunDir::fresh(root.path());
        let mut dirs = Vec::new();
        for _ in 0..3 {
            // The same timestamped name each time, as for three runs in one second.
            let run = stamped.clone().prepare(&config, false).unwrap();
            dirs.push(run.dir().path().to_path_buf());
        }
        let base = stamped.path().to_str().unwrap().to_string();
        assert_eq!(
            dirs,
            [base.clone(), format!("{base}-2"), format!("{base}-3")].map(PathBuf::from)
        );
        // An empty directory of that name made by someone else is skipped too.
        std::fs::create_dir(format!("{base}-4")).unwrap();
        let run = stamped.prepare(&config, false).unwrap();
        assert_eq!(run.dir().path(), Path::new(&format!("{base}-5")));
        for dir in &dirs {
            assert!(dir.join("config.json").is_file());
        }
    }

    /// A resume never asks for fewer epochs than are checkpointed, nor for another network.
    #[test]
    fn a_resume_keeps_the_saved_settings_and_epochs() {
        let root = tempfile::tempdir().unwrap();
        let config = TrainingConfig::new(MnistCnnConfig::new()).with_epochs(5);
        let run = RunDir::new(root.path().join("run"))
            .prepare(&config, false)
            .unwrap();
        let dir = run.dir().clone();
        std::fs::create_dir(dir.checkpoint_dir()).unwrap();
        for kind in ["model", "optim", "scheduler"] {
            std::fs::write(dir.checkpoint_file(kind, 3), "").unwrap();
        }
        let shorter = dir.clone().prepare(&config.clone().with_epochs(2), true);
        let message = format!("{}", shorter.unwrap_err());
        assert!(message.contains("fewer than the 3 epochs"), "{message}");
        let other = TrainingConfig::new(MnistCnnConfig::new().with_hidden_units(8)).with_epochs(5);
        let changed = dir.clone().prepare(&other, true).unwrap_err();
        assert!(
            matches!(&changed, ArtifactError::ResumeChanged { flag, saved, given, .. }
                if flag == "--hidden-units" && saved == "512" && given == "8"),
            "{changed:?}"
        );
        // Longer is allowed, and config.json says so afterwards.
        let longer = dir
            .clone()
            .prepare(&config.clone().with_epochs(9), true)
            .unwrap();
        assert_eq!(longer.resume_from(), Some(3));
        assert_eq!(TrainingConfig::read(&dir.config()).unwrap().epochs, 9);
    }

    /// Two runs given the same --artifact-dir: the second is refused, whether the first
    /// created the directory or found it empty.
    #[test]
    fn an_explicit_directory_is_claimed_once() {
        let root = tempfile::tempdir().unwrap();
        let config = TrainingConfig::new(MnistCnnConfig::new());
        let path = root.path().join("run");
        std::fs::create_dir(&path).unwrap();
        RunDir::new(&path).prepare(&config, false).unwrap();
        let again = RunDir::new(&path).prepare(&config, false);
        assert!(
            matches!(again, Err(ArtifactError::NotEmpty(_))),
            "{again:?}"
        );
        // Only the claim (config.json) is in the directory: no scratch file left.
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 1);
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
        assert_eq!(TrainingConfig::read(&run.dir().config()).unwrap(), config);

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
