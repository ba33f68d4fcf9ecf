//! The project's flex convolution (`model::kernels::conv2d`) against Burn's `Conv2d::forward`:
//! values and the gradients of input, weights and bias on random inputs, the network's two
//! shapes at batches 1, 3 and 64, odd sides and non-square windows; the untracked-input case
//! (conv1: images need no gradient); and the wrapper's fallback for every setting the kernel
//! does not implement. The kernel sums in another order than Burn, so values are compared
//! relative to the largest magnitude, within 1e-5.
#![cfg(feature = "autodiff")]
#![allow(clippy::unwrap_used)]

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Distribution, Tensor};
use model::kernels::{conv2d, conv2d_runs_kernel};

fn device() -> Device {
    let device = Device::flex();
    device.seed(5);
    device
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

/// max |a - b| / max(1, max |b|): 0 for equal slices.
fn relative_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
        / scale
}

fn assert_close(ours: &[f32], theirs: &[f32], what: &str) {
    let diff = relative_diff(ours, theirs);
    assert!(diff < 1e-5, "{what}: differs by {diff}");
    assert!(theirs.iter().any(|v| *v != 0.0), "{what}: all zero");
}

/// (input dims, filters, window): the network's conv1 and conv2, odd sides, a non-square window
/// and a window as large as the input (1x1 output).
const CASES: [([usize; 4], usize, [usize; 2]); 8] = [
    ([1, 1, 28, 28], 32, [3, 3]),
    ([3, 1, 28, 28], 32, [3, 3]),
    ([1, 32, 13, 13], 64, [3, 3]),
    ([3, 32, 13, 13], 64, [3, 3]),
    ([64, 32, 13, 13], 64, [3, 3]),
    ([2, 3, 7, 9], 5, [2, 4]),
    ([3, 4, 11, 5], 6, [5, 5]),
    ([2, 2, 3, 3], 4, [3, 3]),
];

fn layer(channels: usize, filters: usize, window: [usize; 2], device: &Device) -> Conv2d {
    Conv2dConfig::new([channels, filters], window).init(device)
}

#[test]
fn forward_equals_burns_convolution() {
    let device = device();
    for (dims, filters, window) in CASES {
        let conv = layer(dims[1], filters, window, &device);
        let x = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        assert!(conv2d_runs_kernel(&x, &conv), "{dims:?} {window:?}");
        let ours = conv2d(x.clone(), &conv);
        let theirs = conv.forward(x);
        assert_eq!(ours.dims(), theirs.dims(), "{dims:?} {window:?}");
        assert_close(
            &values(ours),
            &values(theirs),
            &format!("{dims:?} {window:?}"),
        );
    }
}

#[test]
fn gradients_of_input_weights_and_bias_equal_burns() {
    let device = device().autodiff();
    for (dims, filters, window) in CASES {
        let conv = layer(dims[1], filters, window, &device);
        let x = Tensor::<4>::random(
            dims,
            Distribution::Normal(0.0, 1.0),
            &device.clone().inner(),
        );
        let on_device = || Tensor::<4>::from_data(x.to_data(), &device);
        let out_dims = conv.forward(on_device()).dims();
        // A random weight per output value, so that every gradient entry is distinct.
        let weights = Tensor::<4>::random(out_dims, Distribution::Normal(0.0, 1.0), &device);
        let grads_of = |kernel: bool| {
            let x = on_device().require_grad();
            let out = if kernel {
                assert!(conv2d_runs_kernel(&x, &conv));
                conv2d(x.clone(), &conv)
            } else {
                conv.forward(x.clone())
            };
            let grads = (out * weights.clone()).sum().backward();
            [
                values(x.grad(&grads).unwrap()),
                values(conv.weight.grad(&grads).unwrap()),
                values(conv.bias.as_ref().unwrap().grad(&grads).unwrap()),
            ]
        };
        let (ours, theirs) = (grads_of(true), grads_of(false));
        for (name, ours, theirs) in [
            ("input", &ours[0], &theirs[0]),
            ("weight", &ours[1], &theirs[1]),
            ("bias", &ours[2], &theirs[2]),
        ] {
            assert_close(ours, theirs, &format!("{dims:?} {window:?} {name}"));
        }
    }
}

#[test]
fn an_untracked_input_gets_no_gradient_and_the_layer_still_learns() {
    // conv1's case: the images need no gradient, the weights and bias do.
    let device = device().autodiff();
    let conv = layer(1, 8, [3, 3], &device);
    let x = Tensor::<4>::random([4, 1, 10, 10], Distribution::Normal(0.0, 1.0), &device);
    let ours = conv2d(x.clone(), &conv).powi_scalar(2).sum().backward();
    let theirs = conv.forward(x.clone()).powi_scalar(2).sum().backward();
    assert!(x.grad(&ours).is_none());
    assert_close(
        &values(conv.weight.grad(&ours).unwrap()),
        &values(conv.weight.grad(&theirs).unwrap()),
        "weight",
    );
}

#[test]
fn gradients_flow_through_the_kernel_into_earlier_layers() {
    let device = device().autodiff();
    let conv = layer(2, 3, [3, 3], &device);
    let x =
        Tensor::<4>::random([2, 2, 6, 6], Distribution::Normal(0.0, 1.0), &device).require_grad();
    let ours = conv2d(x.clone().mul_scalar(3.0).exp(), &conv)
        .sum()
        .backward();
    let theirs = conv
        .forward(x.clone().mul_scalar(3.0).exp())
        .sum()
        .backward();
    assert_close(
        &values(x.grad(&ours).unwrap()),
        &values(x.grad(&theirs).unwrap()),
        "leaf",
    );
}

#[test]
fn the_wrapper_runs_burns_convolution_where_the_kernel_does_not_apply() {
    let device = device();
    let x = Tensor::<4>::random([2, 4, 9, 9], Distribution::Normal(0.0, 1.0), &device);
    let config = Conv2dConfig::new([4, 4], [3, 3]);
    let others = [
        config.clone().with_stride([2, 2]).init(&device),
        config.clone().with_dilation([2, 2]).init(&device),
        config.clone().with_groups(2).init(&device),
        config
            .clone()
            .with_padding(PaddingConfig2d::Same)
            .init(&device),
        config
            .clone()
            .with_padding(PaddingConfig2d::Explicit(1, 0, 1, 0))
            .init(&device),
        config.clone().with_bias(false).init(&device),
    ];
    for conv in others {
        assert!(!conv2d_runs_kernel(&x, &conv), "{conv:?}");
        assert_eq!(
            values(conv2d(x.clone(), &conv)),
            values(conv.forward(x.clone()))
        );
    }
    // Explicit zero padding is no padding: the kernel applies.
    let zero = config
        .with_padding(PaddingConfig2d::Explicit(0, 0, 0, 0))
        .init(&device);
    assert!(conv2d_runs_kernel(&x, &zero));
}
