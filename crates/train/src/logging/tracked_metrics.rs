//! The metrics every run tracks, and how the loggers and the renderer recognise them: by the
//! names the metric objects themselves report, mapped to their ids as Burn announces them.

use std::collections::HashMap;

use burn::train::metric::{
    AccuracyMetric, LearningRateMetric, LossMetric, Metric, MetricDefinition, MetricId, MetricName,
};

/// One of the tracked metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tracked {
    /// Cross-entropy loss.
    Loss,
    /// Accuracy, in percent.
    Accuracy,
    /// The optimiser's learning rate.
    LearningRate,
}

/// The metric objects a run registers with Burn.
pub struct Metrics {
    /// Loss, on both splits.
    pub loss: LossMetric,
    /// Accuracy, on both splits.
    pub accuracy: AccuracyMetric,
    /// Learning rate, training split only.
    pub learning_rate: LearningRateMetric,
}

impl Metrics {
    /// Fresh metrics.
    pub fn new() -> Self {
        Self {
            loss: LossMetric::new(),
            accuracy: AccuracyMetric::new(),
            learning_rate: LearningRateMetric::new(),
        }
    }

    /// A recogniser of these metrics' updates.
    pub fn ids(&self) -> TrackedIds {
        TrackedIds {
            names: vec![
                (self.loss.name(), Tracked::Loss),
                (self.accuracy.name(), Tracked::Accuracy),
                (self.learning_rate.name(), Tracked::LearningRate),
            ],
            ids: HashMap::new(),
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Which tracked metric an update belongs to; learns the ids from Burn's metric definitions.
#[derive(Clone, Debug)]
pub struct TrackedIds {
    names: Vec<(MetricName, Tracked)>,
    ids: HashMap<MetricId, Tracked>,
}

impl TrackedIds {
    /// Records the id of `definition` if it is one of the tracked metrics.
    pub fn define(&mut self, definition: &MetricDefinition) {
        if let Some((_, tracked)) = self.names.iter().find(|(n, _)| *n == definition.name) {
            self.ids.insert(definition.metric_id.clone(), *tracked);
        }
    }

    /// The tracked metric with this id, if any.
    pub fn get(&self, id: &MetricId) -> Option<Tracked> {
        self.ids.get(id).copied()
    }
}
