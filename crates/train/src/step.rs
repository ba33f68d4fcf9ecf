//! The bridge between the `model` crate and Burn's Learner.
//!
//! `TrainStep` and `InferenceStep` live in burn-train; implementing them on `MnistCnn` itself
//! would make the model crate (and every inference program) depend on burn-train. A one-field
//! wrapper here keeps that dependency in the training crate alone.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use data::MnistBatch;
use model::MnistCnn;

/// The network as the Learner sees it: forward, cross-entropy loss, backward.
#[derive(Module, Debug)]
pub struct Classifier {
    /// The network. Its record (not the wrapper's) is what `model.bpk` holds.
    pub net: MnistCnn,
}

impl Classifier {
    /// Logits and cross-entropy loss of a batch.
    pub fn forward_classification(&self, batch: MnistBatch) -> ClassificationOutput {
        let logits = self.net.forward(batch.images);
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), batch.targets.clone());
        ClassificationOutput::new(loss, logits, batch.targets)
    }
}

impl TrainStep for Classifier {
    type Input = MnistBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: MnistBatch) -> TrainOutput<ClassificationOutput> {
        let output = self.forward_classification(batch);
        TrainOutput::new(self, output.loss.backward(), output)
    }
}

impl InferenceStep for Classifier {
    type Input = MnistBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: MnistBatch) -> ClassificationOutput {
        self.forward_classification(batch)
    }
}
