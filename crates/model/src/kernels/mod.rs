//! The project's own ops for the flex device, chosen by the profile (`bench --ops`) and measured
//! before and after (crates/bench/README.md, "Custom kernels").
//!
//! Two ops: [`max_pool_activate`] (2x2 max pool fused with the activation after it,
//! `max_pool.rs`) and [`conv2d`] (an unpadded stride-1 convolution as patches × weights that
//! keeps its patches for the weight gradient, `conv.rs`); `flex.rs` registers both on the flex
//! device.
//!
//! Each op has a wrapper here that checks, before dispatching, that the tensor lives on the flex
//! device, that its dtype and shape are the ones the kernel handles, and that the layer's
//! settings are those the kernel implements; otherwise the wrapper runs Burn's standard ops.
//! Calling a backend extension on a backend it does not list panics, so the wgpu, ndarray and
//! graph-capture devices must never reach the dispatch: they see only standard ops.
//!
//! Features: `flex` compiles the forwards, for the plain flex device (inference:
//! `infer`, `serve`); `autodiff` adds their backward passes on `Autodiff<Flex>`
//! (training), and with it the autodiff backend, which inference crates must not carry. Without
//! `autodiff` the wrappers decline on autodiff devices; without `flex` they
//! always decline.

#[cfg(feature = "flex")]
pub mod conv;
#[cfg(feature = "flex")]
mod flex;
#[cfg(feature = "flex")]
pub mod max_pool;
#[cfg(feature = "flex")]
mod threads;

#[cfg(feature = "flex")]
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::Tensor;
use burn::tensor::activation::{leaky_relu, relu};

use crate::Activation;

/// `act(pool(x))` for a max pool followed by an activation: through the fused flex kernel
/// where [`max_pool_activate_runs_kernel`] says it applies, else through Burn's standard ops in
/// the cheapest order that is still the lecture's function (pool first where the activation
/// commutes with the max, activate first where it does not).
pub fn max_pool_activate(x: Tensor<4>, pool: &MaxPool2d, act: Activation) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if let Some(kernel_act) = kernel_activation(&x, pool, act) {
        use burn::backend::Dispatch;
        use flex::FlexKernels;
        let out = <Dispatch as FlexKernels>::max_pool2x2_activate(x.into_dispatch(), kernel_act);
        return Tensor::from_dispatch(out);
    }
    let activate = |x: Tensor<4>| match act {
        Activation::Relu => relu(x),
        Activation::LeakyRelu { slope } => leaky_relu(x, slope),
    };
    if act.monotone() {
        activate(pool.forward(x))
    } else {
        pool.forward(activate(x))
    }
}

/// Whether [`max_pool_activate`] runs the flex kernel on `x`: a 2x2, stride-2, unpadded,
/// undilated, floor-mode max pool of an `f32` tensor at least 2x2 on the flex device (see
/// [`runs_on_kernel_device`]), followed by a non-decreasing activation (ReLU, or leaky ReLU with a
/// non-negative slope: only those commute with the max, so that pooling first is the lecture's
/// function).
/// Always false without the `flex` feature.
pub fn max_pool_activate_runs_kernel(x: &Tensor<4>, pool: &MaxPool2d, act: Activation) -> bool {
    #[cfg(feature = "flex")]
    return kernel_activation(x, pool, act).is_some();
    #[cfg(not(feature = "flex"))]
    {
        let _ = (x, pool, act);
        false
    }
}

/// The kernel's activation where the kernel applies (see [`max_pool_activate_runs_kernel`]).
#[cfg(feature = "flex")]
fn kernel_activation(
    x: &Tensor<4>,
    pool: &MaxPool2d,
    act: Activation,
) -> Option<max_pool::PoolActivation> {
    let act = flex_activation(act)?;
    (is_plain_2x2_pool(pool) && fits_flex_kernel(x)).then_some(act)
}

/// The kernel's activation, `None` for one that does not commute with a max.
#[cfg(feature = "flex")]
fn flex_activation(act: Activation) -> Option<max_pool::PoolActivation> {
    let act = match act {
        Activation::Relu => max_pool::PoolActivation::Relu,
        Activation::LeakyRelu { slope } => max_pool::PoolActivation::LeakyRelu {
            slope: slope as f32,
        },
    };
    act.monotone().then_some(act)
}

/// The only pooling the kernel implements: window 2x2, stride 2, no padding, no dilation,
/// floor mode.
#[cfg(feature = "flex")]
fn is_plain_2x2_pool(pool: &MaxPool2d) -> bool {
    pool.kernel_size == [2, 2]
        && pool.stride == [2, 2]
        && pool.dilation == [1, 1]
        && !pool.ceil_mode
        && unpadded(&pool.padding)
}

#[cfg(feature = "flex")]
fn unpadded(padding: &PaddingConfig2d) -> bool {
    match padding {
        PaddingConfig2d::Valid => true,
        PaddingConfig2d::Explicit(top, left, bottom, right) => top + left + bottom + right == 0,
        PaddingConfig2d::Same => false,
    }
}

/// `x` is an `f32` tensor at least 2x2 on a device the kernels are compiled for.
#[cfg(feature = "flex")]
fn fits_flex_kernel(x: &Tensor<4>) -> bool {
    let [_, _, height, width] = x.dims();
    runs_on_kernel_device(x) && height >= 2 && width >= 2
}

/// Whether `x` is an `f32` tensor on a device the kernels are compiled for: the plain flex
/// device, and `Autodiff<Flex>` with feature `autodiff`. Always false without
/// `flex`.
pub fn runs_on_kernel_device<const D: usize>(x: &Tensor<D>) -> bool {
    #[cfg(feature = "flex")]
    {
        use burn::backend::DispatchDevice;
        let device = x.device();
        let on_flex = matches!(
            device.clone().inner().as_dispatch(),
            DispatchDevice::Flex(_)
        );
        let autodiff_ok = cfg!(feature = "autodiff") || !device.is_autodiff();
        on_flex && autodiff_ok && x.dtype() == burn::tensor::DType::F32
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = x;
        false
    }
}

/// `conv.forward(x)`: through the flex kernel (patches × weights, [`conv`]) where
/// [`conv2d_runs_kernel`] says it applies, else Burn's `Conv2d::forward`. The same function up to
/// float rounding (the sums run in another order).
pub fn conv2d(x: Tensor<4>, conv: &Conv2d) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if conv2d_runs_kernel(&x, conv)
        && let Some(bias) = &conv.bias
    {
        use burn::backend::Dispatch;
        use flex::FlexKernels;
        let out = <Dispatch as FlexKernels>::conv2d_unpadded(
            x.into_dispatch(),
            conv.weight.val().into_dispatch(),
            bias.val().into_dispatch(),
        );
        return Tensor::from_dispatch(out);
    }
    conv.forward(x)
}

/// Whether [`conv2d`] runs the flex kernel: stride 1, no padding, no dilation, one group, a
/// bias, `f32` weights, an `f32` input on a kernel device (see [`runs_on_kernel_device`]) with
/// the layer's channel count and at least the window's size. Always false without the
/// `flex` feature.
pub fn conv2d_runs_kernel(x: &Tensor<4>, conv: &Conv2d) -> bool {
    #[cfg(feature = "flex")]
    {
        let [_, channels, height, width] = x.dims();
        let weight = conv.weight.val();
        let [_, weight_channels, kernel_height, kernel_width] = weight.dims();
        conv.stride == [1, 1]
            && conv.dilation == [1, 1]
            && conv.groups == 1
            && unpadded(&conv.padding)
            && conv.bias.is_some()
            && weight.dtype() == burn::tensor::DType::F32
            && channels == weight_channels
            && height >= kernel_height
            && width >= kernel_width
            && runs_on_kernel_device(x)
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = (x, conv);
        false
    }
}
