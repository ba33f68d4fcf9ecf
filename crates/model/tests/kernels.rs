//! The project's flex kernels (`model::kernels`) against Burn's reference ops: values and
//! gradients bit for bit, on random inputs with many ties, odd sizes, batches 1, 3 and 64, both
//! activations; the wrapper's fallback; and the whole network's forward and gradients with the
//! kernels against the lecture's layer order in Burn's ops, for both poolings.
#![cfg(feature = "autodiff")]
#![allow(clippy::unwrap_used)]

use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::activation::{leaky_relu, relu};
use burn::tensor::{Device, Distribution, Tensor};
use model::kernels::{max_pool_activate, max_pool_activate_runs_kernel};
use model::{Activation, MnistCnn, MnistCnnConfig, Pooling};

fn device() -> Device {
    let device = Device::flex();
    device.seed(11);
    device
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

/// Random values on a coarse grid (multiples of 0.5 in [-2, 2]): most 2x2 windows hold a tie,
/// and many maxima are exactly 0, where ReLU and leaky ReLU differ in gradient.
fn tied_input(dims: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::random(dims, Distribution::Uniform(-2.0, 2.0), device)
        .mul_scalar(2.0)
        .round()
        .div_scalar(2.0)
}

fn pool() -> MaxPool2d {
    MaxPool2dConfig::new([2, 2]).init()
}

fn reference(x: Tensor<4>, act: Activation) -> Tensor<4> {
    let pooled = pool().forward(x);
    match act {
        Activation::Relu => relu(pooled),
        Activation::LeakyRelu { slope } => leaky_relu(pooled, slope),
    }
}

fn fused(x: Tensor<4>, act: Activation) -> Tensor<4> {
    assert!(
        max_pool_activate_runs_kernel(&x, &pool(), act),
        "the flex kernel must apply to a 2x2 pool on flex"
    );
    max_pool_activate(x, &pool(), act)
}

const ACTIVATIONS: [Activation; 3] = [
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.01 },
    Activation::LeakyRelu { slope: 0.3 },
];

const SHAPES: [[usize; 4]; 6] = [
    [1, 1, 2, 2],
    [1, 32, 26, 26],
    [3, 64, 11, 11],
    [3, 5, 7, 9],
    [64, 32, 26, 26],
    [64, 64, 11, 11],
];

#[test]
fn forward_equals_burns_pool_then_activation() {
    let device = device();
    for dims in SHAPES {
        let x = tied_input(dims, &device);
        for act in ACTIVATIONS {
            let ours = fused(x.clone(), act);
            let theirs = reference(x.clone(), act);
            assert_eq!(ours.dims(), theirs.dims(), "{dims:?} {act:?}");
            assert_eq!(values(ours), values(theirs), "{dims:?} {act:?}");
        }
    }
}

#[test]
fn odd_sides_floor_like_ceil_mode_false() {
    let device = device();
    let out = fused(tied_input([2, 3, 11, 13], &device), Activation::Relu);
    assert_eq!(out.dims(), [2, 3, 5, 6]);
}

#[test]
fn gradients_equal_burns_on_ties_zeros_and_odd_sizes() {
    let device = device().autodiff();
    for dims in SHAPES {
        let x = tied_input(dims, &device.clone().inner());
        for act in ACTIVATIONS {
            let [batch, channels, height, width] = dims;
            // A random weight per output value, so that each gradient entry is distinct.
            let weights = Tensor::<4>::random(
                [batch, channels, height / 2, width / 2],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let grad_of = |f: fn(Tensor<4>, Activation) -> Tensor<4>| {
                let x = Tensor::<4>::from_data(x.to_data(), &device).require_grad();
                let out = f(x.clone(), act);
                let grads = (out * weights.clone()).sum().backward();
                values(x.grad(&grads).unwrap())
            };
            let ours = grad_of(fused);
            let theirs = grad_of(reference);
            assert_eq!(ours, theirs, "{dims:?} {act:?}");
            assert!(ours.iter().any(|g| *g != 0.0), "{dims:?} {act:?}");
        }
    }
}

#[test]
fn gradients_flow_through_the_kernel_into_earlier_layers() {
    // The op sits between two tracked ops: the gradient must reach the leaf through it.
    let device = device().autodiff();
    let x = tied_input([3, 4, 6, 6], &device).require_grad();
    let ours = fused(x.clone().mul_scalar(3.0), Activation::Relu).sum();
    let theirs = reference(x.clone().mul_scalar(3.0), Activation::Relu).sum();
    let ours = values(x.grad(&ours.backward()).unwrap());
    let theirs = values(x.grad(&theirs.backward()).unwrap());
    assert_eq!(ours, theirs);
}

#[test]
fn untracked_input_on_an_autodiff_device_runs_the_kernel() {
    let device = device().autodiff();
    let x = tied_input([3, 8, 10, 10], &device);
    assert_eq!(
        values(fused(x.clone(), Activation::LeakyRelu { slope: 0.01 })),
        values(reference(x, Activation::LeakyRelu { slope: 0.01 }))
    );
}

#[test]
fn the_wrapper_runs_burns_ops_where_the_kernel_does_not_apply() {
    let device = device();
    let x = tied_input([1, 2, 6, 6], &device);
    let other_pools = [
        MaxPool2dConfig::new([2, 2]).with_strides([1, 1]).init(),
        MaxPool2dConfig::new([3, 3]).init(),
        MaxPool2dConfig::new([2, 2]).with_ceil_mode(true).init(),
        MaxPool2dConfig::new([2, 2]).with_dilation([2, 2]).init(),
    ];
    for pool in other_pools {
        let act = Activation::Relu;
        assert!(!max_pool_activate_runs_kernel(&x, &pool, act));
        assert_eq!(
            values(max_pool_activate(x.clone(), &pool, act)),
            values(relu(pool.forward(x.clone())))
        );
    }
    // A negative slope does not commute with the max: the lecture's order, activate then pool.
    let act = Activation::LeakyRelu { slope: -0.5 };
    assert!(!max_pool_activate_runs_kernel(&x, &pool(), act));
    let lecture = pool().forward(leaky_relu(x.clone(), -0.5));
    // (On this input the order matters, so the check above can fail.)
    assert_ne!(values(reference(x.clone(), act)), values(lecture.clone()));
    assert_eq!(values(max_pool_activate(x, &pool(), act)), values(lecture));
    // Too small to pool with the kernel.
    let thin = tied_input([1, 2, 1, 6], &device);
    assert!(!max_pool_activate_runs_kernel(
        &thin,
        &pool(),
        Activation::Relu
    ));
}

/// The lecture's order in Burn's ops (activate, then pool) with the module's own layers.
fn lecture_forward(model: &MnistCnn, images: Tensor<4>, activation: Activation) -> Tensor<2> {
    let act = |x: Tensor<4>| match activation {
        Activation::Relu => relu(x),
        Activation::LeakyRelu { slope } => leaky_relu(x, slope),
    };
    let pool = |x: Tensor<4>| match &model.pool {
        model::Pool::Max(pool) => pool.forward(x),
        model::Pool::Avg(pool) => pool.forward(x),
    };
    let x = pool(act(model.conv1.forward(images)));
    let x = pool(act(model.conv2.forward(x))).flatten::<2>(1, 3);
    let x = model.fc1.forward(x);
    let x = match activation {
        Activation::Relu => relu(x),
        Activation::LeakyRelu { slope } => leaky_relu(x, slope),
    };
    model.fc2.forward(x)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn the_network_with_kernels_is_the_lectures_function_in_value_and_gradient() {
    // Every pooling and activation (including a negative slope, which must keep the lecture's
    // order), batches 1, 3 and 64; dropout off so both passes compute the same function.
    let device = device().autodiff();
    let activations = [
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.1 },
        Activation::LeakyRelu { slope: -0.5 },
    ];
    for pooling in [Pooling::Max, Pooling::Avg] {
        for activation in activations {
            for batch in [1, 3, 64] {
                let model = MnistCnnConfig::new()
                    .with_pooling(pooling)
                    .with_activation(activation)
                    .with_dropout(0.0)
                    .init(&device);
                let images = Tensor::<4>::random(
                    [batch, 1, 28, 28],
                    Distribution::Normal(0.0, 1.0),
                    &device,
                );
                let ours = model.forward(images.clone());
                let theirs = lecture_forward(&model, images, activation);
                let case = format!("{pooling:?} {activation:?} batch {batch}");
                let diff = max_abs_diff(&values(ours.clone()), &values(theirs.clone()));
                assert!(diff < 1e-5, "{case}: logits differ by {diff}");
                let grads_ours = ours.powi_scalar(2).sum().backward();
                let grads_theirs = theirs.powi_scalar(2).sum().backward();
                for (name, ours, theirs) in [
                    (
                        "conv1",
                        model.conv1.weight.grad(&grads_ours),
                        model.conv1.weight.grad(&grads_theirs),
                    ),
                    (
                        "conv2",
                        model.conv2.weight.grad(&grads_ours),
                        model.conv2.weight.grad(&grads_theirs),
                    ),
                ] {
                    let (ours, theirs) = (values(ours.unwrap()), values(theirs.unwrap()));
                    let scale = theirs.iter().fold(1.0f32, |m, g| m.max(g.abs()));
                    let diff = max_abs_diff(&ours, &theirs) / scale;
                    assert!(
                        diff < 1e-5,
                        "{case}: {name} weight gradients differ by {diff}"
                    );
                }
            }
        }
    }
    // The test compares something only if the kernel is what the network runs on flex.
    let probe = tied_input([1, 1, 4, 4], &device);
    assert!(max_pool_activate_runs_kernel(
        &probe,
        &pool(),
        Activation::Relu
    ));
}
