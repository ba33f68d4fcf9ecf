//! The Burn `MetricLogger` that writes `history.jsonl`: a logger sees every metric update
//! whatever renderer is in use, so the history is the same in a terminal and in CI. After each
//! validation pass it adds the epoch's line and redraws `curves.png`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, NumericEntry};

use crate::limits::DRAW_DEADLINE;
use crate::logging::curves;
use crate::logging::history::{EpochRecord, read_history, write_history};
use crate::logging::tracked_metrics::{Tracked, TrackedIds};

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
    /// (see [`crate::logging::curves`]) and pushes each record to `epochs`.
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
                let deadline = DRAW_DEADLINE;
                if let Err(err) = curves::redraw_within(&self.path, &self.curves, deadline) {
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
