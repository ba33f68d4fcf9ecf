//! Per-epoch history (`history.jsonl`) and the guard that stops training on a NaN loss.
//!
//! Registered as a Burn `MetricLogger`, so it sees every metric update whatever renderer is in
//! use (the TUI on a terminal, [`crate::renderer::PlainRenderer`] otherwise).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use burn::train::Interrupter;
use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use serde::{Deserialize, Serialize};

/// One line of `history.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f64,
    /// Training accuracy over the epoch, in percent.
    pub train_accuracy: f64,
    /// Validation loss at the end of the epoch.
    pub valid_loss: f64,
    /// Validation accuracy at the end of the epoch, in percent.
    pub valid_accuracy: f64,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
}

/// Where training loss first stopped being finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonFiniteLoss {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the epoch.
    pub step: usize,
}

/// What the logger found, readable after training.
#[derive(Debug, Default)]
pub struct HistoryState {
    /// Completed epochs, in order.
    pub epochs: Vec<EpochRecord>,
    /// Set when the training loss became NaN or infinite.
    pub non_finite: Option<NonFiniteLoss>,
}

/// The logger; clone the `state` handle before registering it.
pub struct HistoryLogger {
    path: PathBuf,
    interrupter: Interrupter,
    state: Arc<Mutex<HistoryState>>,
    names: HashMap<MetricId, String>,
    latest: HashMap<(String, String), f64>,
    train_steps: usize,
    train_epoch: usize,
}

impl HistoryLogger {
    /// Appends to `path` (so a resumed run continues its history) and stops `interrupter` on a
    /// non-finite loss.
    pub fn new(path: PathBuf, interrupter: Interrupter, state: Arc<Mutex<HistoryState>>) -> Self {
        Self {
            path,
            interrupter,
            state,
            names: HashMap::new(),
            latest: HashMap::new(),
            train_steps: 0,
            train_epoch: 0,
        }
    }

    fn value(&self, split: &str, name: &str) -> f64 {
        self.latest
            .get(&(split.to_string(), name.to_string()))
            .copied()
            .unwrap_or(f64::NAN)
    }
}

impl MetricLogger for HistoryLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        let split_name = split.to_string();
        if *split == Split::Train {
            if epoch != self.train_epoch {
                self.train_epoch = epoch;
                self.train_steps = 0;
            }
            self.train_steps += 1;
        }
        for numeric in update.entries_numeric {
            let Some(name) = self.names.get(&numeric.entry.metric_id).cloned() else {
                continue;
            };
            let batch_value = numeric.numeric_entry.as_ref().map(NumericEntry::current);
            if *split == Split::Train
                && name == "Loss"
                && batch_value.is_some_and(|v| !v.is_finite())
            {
                let mut state = self.state.lock().expect("history state");
                if state.non_finite.is_none() {
                    let at = NonFiniteLoss {
                        epoch,
                        step: self.train_steps,
                    };
                    state.non_finite = Some(at);
                    self.interrupter.stop(Some(&format!(
                        "training loss became non-finite at epoch {epoch}, step {}",
                        at.step
                    )));
                }
            }
            let value = match &numeric.numeric_entry {
                Some(NumericEntry::Final(v)) => Some(*v),
                // The rate of the latest step, not its running mean over the epoch.
                _ if name == "Learning Rate" => batch_value,
                _ => numeric
                    .running_entry
                    .as_ref()
                    .map(NumericEntry::current)
                    .or(batch_value),
            };
            if let Some(value) = value {
                self.latest.insert((split_name.clone(), name), value);
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
        self.names
            .insert(definition.metric_id.clone(), definition.name.to_string());
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        if summary.split != Split::Valid {
            return;
        }
        let record = EpochRecord {
            epoch: summary.epoch_number,
            train_loss: self.value("train", "Loss"),
            train_accuracy: self.value("train", "Accuracy"),
            valid_loss: self.value("valid", "Loss"),
            valid_accuracy: self.value("valid", "Accuracy"),
            lr: self.value("train", "Learning Rate"),
        };
        let line = serde_json::to_string(&record).expect("plain numbers serialise");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(err) = written {
            log::warn!("cannot append to {}: {err}", self.path.display());
        }
        self.state
            .lock()
            .expect("history state")
            .epochs
            .push(record);
    }
}

/// Reads a `history.jsonl` (for `--resume`); a missing file is an empty history.
pub fn read_history(path: &std::path::Path) -> std::io::Result<Vec<EpochRecord>> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(std::io::Error::other))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}
