//! The per-epoch history, `history.jsonl`: one JSON line per epoch, written through
//! [`super::history_logger`] while a run trains, read back on `--resume`, by the curves and by
//! model selection.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ArtifactError, io};
use crate::limits::MAX_HISTORY_BYTES;

/// One line of `history.jsonl`. A value that is not finite (a diverged loss) is written as
/// `"NaN"`, `"inf"` or `"-inf"` (see `logging/float_json.rs`), so that the line reads back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    #[serde(with = "crate::logging::float_json")]
    pub train_loss: f64,
    /// Training accuracy over the epoch, in percent.
    #[serde(with = "crate::logging::float_json")]
    pub train_accuracy: f64,
    /// Mean validation loss at the end of the epoch (the model-selection criterion).
    #[serde(with = "crate::logging::float_json")]
    pub valid_loss: f64,
    /// Validation accuracy at the end of the epoch, in percent.
    #[serde(with = "crate::logging::float_json")]
    pub valid_accuracy: f64,
    /// Learning rate, the mean over the epoch's steps (Burn's metric, averaged like the others).
    #[serde(with = "crate::logging::float_json")]
    pub lr: f64,
}

/// Writes `history` to `path`, one JSON line per record, atomically (see `atomic_write.rs`).
pub fn write_history(path: &Path, history: &[EpochRecord]) -> Result<(), ArtifactError> {
    let mut text = String::new();
    for record in history {
        text += &serde_json::to_string(record).map_err(|e| io(path)(std::io::Error::other(e)))?;
        text.push('\n');
    }
    crate::atomic_write::write(path, text.as_bytes(), crate::atomic_write::Replace::Yes)
        .map_err(io(path))
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
