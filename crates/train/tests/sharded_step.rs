//! The sharded training step is the whole batch's step: same loss, same gradients, same dropout.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Distribution, Int, Tensor};
use burn::train::TrainStep;
use data::MnistBatch;
use model::MnistCnnConfig;
use train::Classifier;

/// Every parameter's gradient, flattened, in visiting order.
struct Collect<'a> {
    grads: &'a burn::optim::GradientsParams,
    out: Vec<Vec<f32>>,
}

impl ModuleVisitor for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let grad = self
            .grads
            .get::<D>(param.id)
            .expect("every parameter has a gradient");
        self.out.push(
            grad.into_data()
                .try_into_vec::<f32>()
                .expect("f32 gradients"),
        );
    }
}

#[test]
fn sharded_step_equals_the_whole_batch_step() {
    let device = Device::flex().autodiff();
    device.seed(11);
    let net = MnistCnnConfig::new().init(&device); // dropout 0.5: the mask must match too
    let batch = MnistBatch {
        images: Tensor::random([10, 1, 28, 28], Distribution::Normal(0.0, 1.0), &device),
        targets: Tensor::<1, Int>::from_ints([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], &device),
    };
    let run = |shards: usize| {
        let classifier = Classifier::new(net.clone(), shards);
        device.seed(5); // the same dropout draw for every run
        let out = TrainStep::step(&classifier, batch.clone());
        let mut collect = Collect {
            grads: &out.grads,
            out: Vec::new(),
        };
        classifier.visit(&mut collect);
        let loss: f32 = out.item.loss.into_scalar();
        let logits = out.item.output.into_data().try_into_vec::<f32>().unwrap();
        (loss, logits, collect.out)
    };
    // Burn initialises parameters lazily, on first use, from the same generator as dropout: a
    // first step materialises them, so that every run below draws only its dropout mask.
    run(1);
    let (loss, logits, grads) = run(1);
    assert_eq!(grads.len(), 8, "4 layers x (weight, bias)");
    for shards in [2, 3] {
        // 3 shards of a 10-image batch are uneven (4, 4, 2): the weighting must handle it.
        let (s_loss, s_logits, s_grads) = run(shards);
        assert!(
            (loss - s_loss).abs() < 1e-5,
            "{shards} shards: loss {s_loss} vs {loss}"
        );
        let max_diff = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max)
        };
        assert!(
            max_diff(&logits, &s_logits) < 1e-5,
            "{shards} shards: logits"
        );
        for (i, (g, s)) in grads.iter().zip(&s_grads).enumerate() {
            let scale = g.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-3);
            assert!(
                max_diff(g, s) / scale < 1e-4,
                "{shards} shards: gradient {i} differs by {}",
                max_diff(g, s)
            );
        }
    }
}
