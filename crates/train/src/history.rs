//! The per-epoch history, `history.jsonl`: written by a Burn `MetricLogger`, so it sees every
//! metric update whatever renderer is in use, and read back on `--resume`.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, NumericEntry};
use serde::{Deserialize, Serialize};

use crate::run_dir::{ArtifactError, io};
use crate::tracked::{Tracked, TrackedIds};

/// One line of `history.jsonl`. A value that is not finite (a diverged loss) is written as
/// `"NaN"`, `"inf"` or `"-inf"` (see [`crate::float_json`]), so that the line reads back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    #[serde(with = "crate::float_json")]
    pub train_loss: f64,
    /// Training accuracy over the epoch, in percent.
    #[serde(with = "crate::float_json")]
    pub train_accuracy: f64,
    /// Mean validation loss at the end of the epoch (the model-selection criterion).
    #[serde(with = "crate::float_json")]
    pub valid_loss: f64,
    /// Validation accuracy at the end of the epoch, in percent.
    #[serde(with = "crate::float_json")]
    pub valid_accuracy: f64,
    /// Learning rate, the mean over the epoch's steps (Burn's metric, averaged like the others).
    #[serde(with = "crate::float_json")]
    pub lr: f64,
}

/// The epochs completed so far, shared between the logger and whoever reads them after training.
pub type Epochs = Arc<Mutex<Vec<EpochRecord>>>;

/// Adds an [`EpochRecord`] to `history.jsonl` at the end of every validation pass.
///
/// The file is rewritten whole and atomically (see [`write_history`]), never appended to: a kill
/// cannot leave half a line, and an epoch trained again after a resume replaces its earlier
/// line (and every later one) instead of being listed twice.
pub struct HistoryLogger {
    path: PathBuf,
    curves: PathBuf,
    epochs: Epochs,
    tracked: TrackedIds,
    latest: HashMap<(Split, Tracked), f64>,
}

impl HistoryLogger {
    /// Adds to the history in `path` (so a resumed run continues it), redraws `curves` from it
    /// (see [`crate::curves`]) and pushes each record to `epochs`.
    pub fn new(path: PathBuf, curves: PathBuf, tracked: TrackedIds, epochs: Epochs) -> Self {
        Self {
            path,
            curves,
            epochs,
            tracked,
            latest: HashMap::new(),
        }
    }

    fn value(&self, split: Split, metric: Tracked) -> f64 {
        self.latest
            .get(&(split, metric))
            .copied()
            .unwrap_or(f64::NAN)
    }
}

impl MetricLogger for HistoryLogger {
    fn log(&mut self, update: MetricsUpdate, _epoch: usize, split: &Split) {
        for numeric in update.entries_numeric {
            let Some(metric) = self.tracked.get(&numeric.entry.metric_id) else {
                continue;
            };
            let batch_value = numeric.numeric_entry.as_ref().map(NumericEntry::current);
            let value = match &numeric.numeric_entry {
                Some(NumericEntry::Final(v)) => Some(*v),
                // The rate of the latest step, not its running mean over the epoch.
                _ if metric == Tracked::LearningRate => batch_value,
                // The epoch's running mean so far, weighted by batch size: at the end of the
                // epoch, the mean Burn's checkpointing and early stopping aggregate.
                _ => numeric
                    .running_entry
                    .as_ref()
                    .map(NumericEntry::current)
                    .or(batch_value),
            };
            if let Some(value) = value {
                self.latest.insert((split.clone(), metric), value);
            }
        }
    }

    fn read_numeric(
        &mut self,
        _name: &str,
        _epoch: usize,
        _split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        // The file logger registered before this one answers these queries.
        Err("the history logger keeps epoch summaries only".into())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.tracked.define(&definition);
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        if summary.split != Split::Valid {
            return;
        }
        let record = EpochRecord {
            epoch: summary.epoch_number,
            train_loss: self.value(Split::Train, Tracked::Loss),
            train_accuracy: self.value(Split::Train, Tracked::Accuracy),
            valid_loss: self.value(Split::Valid, Tracked::Loss),
            valid_accuracy: self.value(Split::Valid, Tracked::Accuracy),
            lr: self.value(Split::Train, Tracked::LearningRate),
        };
        let written = read_history(&self.path).and_then(|mut history| {
            history.retain(|r| r.epoch < record.epoch);
            history.push(record.clone());
            write_history(&self.path, &history)
        });
        match written {
            // A picture is a convenience: failing to draw one must not end the training.
            Ok(()) => {
                // On a thread of its own with a deadline: no picture can keep the run from its
                // checkpoint.
                let deadline = crate::curves::DRAW_DEADLINE;
                if let Err(err) = crate::curves::redraw_within(&self.path, &self.curves, deadline) {
                    let err = anyhow::Error::from(err);
                    log::warn!("cannot draw {}: {err:#}", self.curves.display());
                }
            }
            Err(err) => {
                let err = anyhow::Error::from(err);
                log::warn!("cannot write {}: {err:#}", self.path.display());
            }
        }
        self.epochs.lock().expect("history epochs").push(record);
    }
}

/// The largest `history.jsonl` read back: an epoch is a ~150-byte line, so this is ~100,000
/// epochs; anything bigger is not a history and is refused before it is read.
pub const MAX_HISTORY_BYTES: u64 = 16 << 20;

/// Writes `history` to `path`, one JSON line per record, atomically (see [`crate::atomic`]).
pub fn write_history(path: &Path, history: &[EpochRecord]) -> Result<(), ArtifactError> {
    let mut text = String::new();
    for record in history {
        text += &serde_json::to_string(record).map_err(|e| io(path)(std::io::Error::other(e)))?;
        text.push('\n');
    }
    crate::atomic::write(path, text.as_bytes(), crate::atomic::Replace::Yes).map_err(io(path))
}

/// Cuts the history in `path` to the epochs up to `last` (the checkpoint a resumed run
/// continues from): the epochs after it are trained again and must not be listed twice.
/// Returns the records kept.
pub fn truncate_history(path: &Path, last: usize) -> Result<Vec<EpochRecord>, ArtifactError> {
    let history = read_history(path)?;
    let kept: Vec<EpochRecord> = history
        .iter()
        .filter(|r| r.epoch <= last)
        .cloned()
        .collect();
    if kept.len() != history.len() {
        write_history(path, &kept)?;
    }
    Ok(kept)
}

/// Reads a `history.jsonl` (for `--resume` and the curves); a missing file is an empty history.
pub fn read_history(path: &Path) -> Result<Vec<EpochRecord>, ArtifactError> {
    let file = match data::regular::open_regular(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path)(e)),
    };
    let too_large = || ArtifactError::TooLarge {
        path: path.into(),
        limit: MAX_HISTORY_BYTES,
    };
    if file.metadata().map_err(io(path))?.len() > MAX_HISTORY_BYTES {
        return Err(too_large());
    }
    // The size check again while reading: a pipe or a device reports no length.
    let mut text = String::new();
    file.take(MAX_HISTORY_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io(path))?;
    if text.len() as u64 > MAX_HISTORY_BYTES {
        return Err(too_large());
    }
    parse_history(path, &text)
}

/// The records of a `history.jsonl` already read into `text` (blank lines skipped); `path`
/// only names the file in errors.
pub fn parse_history(path: &Path, text: &str) -> Result<Vec<EpochRecord>, ArtifactError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| ArtifactError::History {
                path: path.into(),
                line: i + 1,
                source,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_names_its_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        assert!(read_history(&path).unwrap().is_empty());
        let record = EpochRecord {
            epoch: 1,
            train_loss: 0.5,
            train_accuracy: 80.0,
            valid_loss: 0.4,
            valid_accuracy: 85.0,
            lr: 1e-3,
        };
        let line = serde_json::to_string(&record).unwrap();
        std::fs::write(&path, format!("{line}\n\n{{oops\n")).unwrap();
        let err = read_history(&path).unwrap_err();
        assert!(
            matches!(err, ArtifactError::History { line: 3, .. }),
            "{err:?}"
        );
        std::fs::write(&path, format!("{line}\n")).unwrap();
        assert_eq!(read_history(&path).unwrap(), [record]);
    }

    fn record(epoch: usize, train_loss: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss,
            train_accuracy: 50.0,
            valid_loss: 0.5,
            valid_accuracy: 50.0,
            lr: 1e-3,
        }
    }

    /// A diverged epoch's NaN and infinity are written so that the history reads back.
    #[test]
    fn non_finite_values_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let mut diverged = record(2, f64::NAN);
        diverged.valid_loss = f64::INFINITY;
        write_history(&path, &[record(1, 0.5), diverged]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""train_loss":"NaN""#), "{text}");
        assert!(!text.contains("null"), "{text}");
        let back = read_history(&path).unwrap();
        assert!(back[1].train_loss.is_nan());
        assert_eq!(back[1].valid_loss, f64::INFINITY);
        // Files from before: `null` reads as NaN.
        std::fs::write(&path, text.replace(r#""NaN""#, "null")).unwrap();
        assert!(read_history(&path).unwrap()[1].train_loss.is_nan());
    }

    #[test]
    fn truncation_keeps_the_checkpointed_epochs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        write_history(&path, &[record(1, 0.9), record(2, 0.7), record(3, 0.6)]).unwrap();
        let kept = truncate_history(&path, 2).unwrap();
        assert_eq!(kept.iter().map(|r| r.epoch).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(read_history(&path).unwrap(), kept);
    }
}
