//! The guard that stops training when the training loss stops being finite: a diverged run
//! would otherwise spend its remaining epochs on NaNs and export them.

use std::sync::{Arc, OnceLock};

use burn::train::Interrupter;
use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, NumericEntry};

use crate::logging::tracked_metrics::{Tracked, TrackedIds};

/// Where the training loss first stopped being finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonFiniteLoss {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the epoch.
    pub step: usize,
}

/// Set once by the guard; read after training.
pub type Divergence = Arc<OnceLock<NonFiniteLoss>>;

/// A Burn `MetricLogger` that watches each training step's loss and, on the first NaN or
/// infinity, records where it happened and stops the Learner through its interrupter.
pub struct NonFiniteLossGuard {
    interrupter: Interrupter,
    found: Divergence,
    tracked: TrackedIds,
    epoch: usize,
    steps: usize,
}

impl NonFiniteLossGuard {
    /// Stops `interrupter` on a non-finite training loss and records it in `found`.
    pub fn new(interrupter: Interrupter, tracked: TrackedIds, found: Divergence) -> Self {
        Self {
            interrupter,
            found,
            tracked,
            epoch: 0,
            steps: 0,
        }
    }
}

impl MetricLogger for NonFiniteLossGuard {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        if *split != Split::Train {
            return;
        }
        if epoch != self.epoch {
            self.epoch = epoch;
            self.steps = 0;
        }
        self.steps += 1;
        let diverged = update.entries_numeric.iter().any(|numeric| {
            self.tracked.get(&numeric.entry.metric_id) == Some(Tracked::Loss)
                && numeric
                    .numeric_entry
                    .as_ref()
                    .is_some_and(|v| !v.current().is_finite())
        });
        if diverged && self.found.get().is_none() {
            let at = NonFiniteLoss {
                epoch,
                step: self.steps,
            };
            let _ = self.found.set(at);
            self.interrupter.stop(Some(&format!(
                "training loss became non-finite at epoch {epoch}, step {}",
                at.step
            )));
        }
    }

    fn read_numeric(
        &mut self,
        _name: &str,
        _epoch: usize,
        _split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        // The file logger registered before this one answers these queries.
        Err("the non-finite loss guard keeps no values".into())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.tracked.define(&definition);
    }

    fn log_epoch_summary(&mut self, _summary: EpochSummary) {}
}
