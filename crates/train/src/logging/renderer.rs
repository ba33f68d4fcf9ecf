//! Progress for runs without a terminal (CI, `| tee log`): a line every few seconds and a
//! summary per epoch, instead of Burn's fallback of one debug dump per batch.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::MetricDefinition;
use burn::train::metric::store::Split;
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};

use crate::logging::tracked_metrics::{Tracked, TrackedIds};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressStyle {
    /// Burn's terminal dashboard.
    Tui,
    /// A line every `interval`, a summary per epoch (`PlainRenderer`).
    Plain(Duration),
}

/// Running mean of one metric over the current split.
#[derive(Default, Clone, Copy)]
struct Running {
    sum: f64,
    count: f64,
}

impl Running {
    fn add(&mut self, value: f64, weight: f64) {
        self.sum += value * weight;
        self.count += weight;
    }

    fn mean(&self) -> f64 {
        if self.count > 0.0 {
            self.sum / self.count
        } else {
            f64::NAN
        }
    }
}

/// Plain-text renderer: `epoch 2/12 train 25600/55000 (47%) <rate> img/s loss <loss> acc <acc>%`.
pub struct PlainRenderer {
    tracked: TrackedIds,
    interval: Duration,
    total_epochs: usize,
    epoch: usize,
    split: Split,
    split_total: usize,
    split_start: Instant,
    last_print: Instant,
    items: usize,
    running: HashMap<(Split, Tracked), Running>,
    train_summary: String,
    epoch_start: Instant,
}

impl PlainRenderer {
    /// Prints a progress line at most every `interval`, with the metrics `tracked` recognises.
    pub fn new(interval: Duration, tracked: TrackedIds) -> Self {
        let now = Instant::now();
        Self {
            tracked,
            interval,
            total_epochs: 0,
            epoch: 1,
            split: Split::Train,
            split_total: 0,
            split_start: now,
            last_print: now,
            items: 0,
            running: HashMap::new(),
            train_summary: String::new(),
            epoch_start: now,
        }
    }

    fn update(&mut self, split: Split, state: MetricState) {
        if let MetricState::Numeric(entry, Some(value)) = state
            && let Some(metric) = self.tracked.get(&entry.metric_id)
        {
            let weight = match value {
                burn::train::metric::NumericEntry::Aggregated { count, .. } => count as f64,
                _ => 1.0,
            };
            self.running
                .entry((split, metric))
                .or_default()
                .add(value.current(), weight);
        }
    }

    fn mean(&self, split: &Split, metric: Tracked) -> f64 {
        self.running
            .get(&(split.clone(), metric))
            .map_or(f64::NAN, Running::mean)
    }

    fn rate(&self) -> f64 {
        self.items as f64 / self.split_start.elapsed().as_secs_f64().max(1e-9)
    }

    fn metrics(&self, split: &Split) -> String {
        format!(
            "loss {:.4} acc {:.2}%",
            self.mean(split, Tracked::Loss),
            self.mean(split, Tracked::Accuracy)
        )
    }
}

impl MetricsRendererTraining for PlainRenderer {
    fn update_train(&mut self, state: MetricState) {
        self.update(Split::Train, state);
    }

    fn update_valid(&mut self, state: MetricState) {
        self.update(Split::Valid, state);
    }
}

impl TrainingProgressLogger for PlainRenderer {
    fn start(
        &mut self,
        total_epochs: usize,
        starting_epoch: usize,
        _: Option<usize>,
        _: Option<&str>,
    ) {
        self.total_epochs = total_epochs;
        self.epoch = starting_epoch;
    }

    fn update_epoch(&mut self, epoch: usize) {
        self.epoch = epoch + 1;
    }

    fn start_split(&mut self, split: &str, total_items: usize) {
        // Burn names the splits by `Split`'s own names.
        self.split = if split == <&str>::from(Split::Train) {
            self.epoch_start = Instant::now();
            Split::Train
        } else {
            Split::Valid
        };
        self.split_total = total_items;
        self.split_start = Instant::now();
        self.last_print = Instant::now();
        self.items = 0;
        let current = self.split.clone();
        self.running.retain(|(s, _), _| *s != current);
    }

    fn update_split(&mut self, items_processed: usize) {
        self.items = items_processed;
        if self.last_print.elapsed() >= self.interval {
            self.last_print = Instant::now();
            println!(
                "epoch {}/{} {} {}/{} ({:.0}%) {:.0} img/s {}",
                self.epoch,
                self.total_epochs,
                self.split,
                items_processed,
                self.split_total,
                100.0 * items_processed as f64 / self.split_total.max(1) as f64,
                self.rate(),
                self.metrics(&self.split)
            );
        }
    }

    fn end_split(&mut self) {
        if self.split == Split::Train {
            self.train_summary = format!(
                "train {} ({:.0} img/s, lr {:.2e})",
                self.metrics(&Split::Train),
                self.rate(),
                self.mean(&Split::Train, Tracked::LearningRate)
            );
        } else {
            println!(
                "epoch {}/{} done in {:.1}s: {} | valid {}",
                self.epoch,
                self.total_epochs,
                self.epoch_start.elapsed().as_secs_f64(),
                self.train_summary,
                self.metrics(&Split::Valid)
            );
        }
    }

    fn end(&mut self) {}

    fn log_event_training(&mut self, _event: String) {}
}

impl EvaluationProgressLogger for PlainRenderer {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRendererEvaluation for PlainRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl MetricsRenderer for PlainRenderer {
    fn manual_close(&mut self) {}

    fn register_metric(&mut self, definition: MetricDefinition) {
        self.tracked.define(&definition);
    }
}
