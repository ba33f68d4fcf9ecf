//! The bridge between the `model` crate and Burn's Learner.
//!
//! `TrainStep` and `InferenceStep` live in burn-train; implementing them on `MnistCnn` itself
//! would make the model crate (and every inference program) depend on burn-train. A one-field
//! wrapper here keeps that dependency in the training crate alone.
//!
//! On a CPU backend one step of this small network leaves most cores idle: its convolutions and
//! matrices are too small for Burn's kernels to split well (measured: see crates/bench/README.md,
//! "Sharded training step"). [`Classifier::sharded_step`] therefore splits each batch into
//! shards that run forward and backward at the same time on rayon's pool and sums their
//! gradients: the same update as the whole batch (same mean loss, same dropout draws), up to
//! float rounding.

use burn::module::{Module, ModuleMapper, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::Tensor;
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use data::MnistBatch;
use model::MnistCnn;
use rayon::prelude::*;

/// The network as the Learner sees it: forward, cross-entropy loss, backward.
#[derive(Module, Debug)]
pub struct Classifier {
    /// The network. Its record (not the wrapper's) is what `model.bpk` holds.
    pub net: MnistCnn,
    /// How many shards a training batch is split into (1: no split). Not part of the record.
    #[module(skip)]
    pub shards: usize,
    /// Factor on the loss before the backward pass (1 on one device; `1/n` on `n` devices,
    /// whose gradients Burn's MultiDevice strategy sums: see `config/multi_device.rs`). The
    /// reported loss is not scaled. Not part of the record.
    #[module(skip)]
    pub loss_scale: f32,
}

impl Classifier {
    /// Wraps `net` for training with batches split into `shards` (see [`Classifier::sharded_step`]).
    pub fn new(net: MnistCnn, shards: usize) -> Self {
        Self {
            net,
            shards: shards.max(1),
            loss_scale: 1.0,
        }
    }

    /// The same, with the loss scaled by `scale` before the backward pass (see
    /// [`Classifier::loss_scale`]).
    pub fn with_loss_scale(self, scale: f32) -> Self {
        Self {
            loss_scale: scale,
            ..self
        }
    }

    /// `loss` as the backward pass takes it: scaled by [`Classifier::loss_scale`] (left alone at
    /// 1, the one-device case).
    fn for_backward(&self, loss: Tensor<1>) -> Tensor<1> {
        if self.loss_scale == 1.0 {
            loss
        } else {
            loss * self.loss_scale
        }
    }

    /// Logits and cross-entropy loss of a batch.
    pub fn forward_classification(&self, batch: MnistBatch) -> ClassificationOutput {
        let [size, ..] = batch.images.dims();
        let mask = self.net.dropout_mask(size, &batch.images.device());
        self.classify(batch.images, batch.targets, mask)
    }

    fn classify(
        &self,
        images: Tensor<4>,
        targets: Tensor<1, burn::tensor::Int>,
        mask: Option<Tensor<2>>,
    ) -> ClassificationOutput {
        let logits = self.net.forward_with_dropout_mask(images, mask);
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), targets.clone());
        ClassificationOutput::new(loss, logits, targets)
    }

    /// Forward and backward of `batch` in `self.shards` shards at once; the gradients are
    /// those of the whole batch's mean loss.
    ///
    /// Each shard runs on a replica whose parameters are fresh autodiff leaves (same
    /// [`ParamId`](burn::module::ParamId)s, same values, no copy of the data): Burn keeps one
    /// graph, behind one lock, per set of connected tensors, so shards sharing the parameters'
    /// nodes would run their backward passes one after the other. Each shard's loss is weighted
    /// by its share of the batch, so the summed gradients equal the whole batch's. The dropout
    /// mask of the whole batch is drawn here, on the caller's thread, before the shards start.
    pub fn sharded_step(&self, batch: MnistBatch) -> TrainOutput<ClassificationOutput> {
        let [size, ..] = batch.images.dims();
        let shards = self.shards.min(size);
        if shards <= 1 {
            let output = self.forward_classification(batch);
            let grads = self.for_backward(output.loss.clone()).backward();
            return TrainOutput::new(self, grads, output);
        }
        let device = batch.images.device();
        let mask = self.net.dropout_mask(size, &device);
        let images = batch.images.chunk(shards, 0);
        let targets = batch.targets.chunk(shards, 0);
        let masks: Vec<Option<Tensor<2>>> = match mask {
            Some(mask) => mask.chunk(shards, 0).into_iter().map(Some).collect(),
            None => vec![None; images.len()],
        };
        let work: Vec<_> = images
            .into_iter()
            .zip(targets)
            .zip(masks)
            .map(|((images, targets), mask)| {
                (self.clone().map(&mut FreshLeaves), images, targets, mask)
            })
            .collect();
        // Each shard returns its gradients, its loss weighted by its share of the batch, and
        // its output (for the metrics).
        let results: Vec<(GradientsParams, Tensor<1>, ClassificationOutput)> = work
            .into_par_iter()
            .map(|(replica, images, targets, mask)| {
                let [part, ..] = images.dims();
                let output = replica.classify(images, targets, mask);
                let weighted = output.loss.clone() * (part as f32 / size as f32);
                let grads = replica.for_backward(weighted.clone()).backward();
                let grads = GradientsParams::from_grads(grads, &replica);
                (grads, weighted.detach(), output)
            })
            .collect();
        // Summed in shard order: the same float result whatever thread finished first.
        let mut accumulator = GradientsAccumulator::new();
        let mut losses = Vec::new();
        let mut logits = Vec::new();
        let mut targets = Vec::new();
        for (grads, weighted_loss, output) in results {
            accumulator.accumulate(self, grads);
            losses.push(weighted_loss);
            logits.push(output.output.detach());
            targets.push(output.targets);
        }
        let loss = losses
            .into_iter()
            .reduce(|a, b| a + b)
            .expect("at least two shards");
        let output =
            ClassificationOutput::new(loss, Tensor::cat(logits, 0), Tensor::cat(targets, 0));
        TrainOutput {
            grads: accumulator.grads(),
            item: output,
        }
    }
}

/// Replaces every parameter by a new autodiff leaf holding the same tensor (see
/// [`Classifier::sharded_step`]).
struct FreshLeaves;

impl ModuleMapper for FreshLeaves {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let require_grad = param.is_require_grad();
        param.map(|tensor| tensor.detach().set_require_grad(require_grad))
    }
}

impl TrainStep for Classifier {
    type Input = MnistBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: MnistBatch) -> TrainOutput<ClassificationOutput> {
        self.sharded_step(batch)
    }
}

impl InferenceStep for Classifier {
    type Input = MnistBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: MnistBatch) -> ClassificationOutput {
        self.forward_classification(batch)
    }
}
