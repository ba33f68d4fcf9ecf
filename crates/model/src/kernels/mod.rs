//! The project's own ops for the flex device, chosen by the profile (`bench --ops`) and measured
//! before and after (crates/bench/README.md, "Custom kernels").
//!
//! Each op has a wrapper here that checks, before dispatching, that the tensor lives on the flex
//! device (with or without autodiff), that its dtype and shape are the ones the kernel handles,
//! and that the layer's settings are those the kernel implements; otherwise the wrapper runs
//! Burn's standard ops. Calling a backend extension on a backend it does not list panics, so
//! the wgpu, ndarray and graph-capture devices must never reach the dispatch: they see only
//! standard ops. Without the `flex-kernels` feature every wrapper declines.

#[cfg(feature = "flex-kernels")]
mod flex;
#[cfg(feature = "flex-kernels")]
pub mod max_pool;

#[cfg(feature = "flex-kernels")]
use burn::nn::PaddingConfig2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::Tensor;
use burn::tensor::activation::{leaky_relu, relu};

/// The activation that follows a pool, as the fused kernel sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FusedActivation {
    /// ReLU.
    Relu,
    /// Leaky ReLU with this negative slope (Burn's `f64`; the flex kernel rounds it to `f32`
    /// as Burn's own leaky ReLU does).
    LeakyRelu(f64),
}

/// `act(pool(x))` for a max pool followed by an activation: through the fused flex kernel
/// where [`max_pool_activate_runs_kernel`] says it applies, else through Burn's standard ops in
/// the cheapest order that is still the lecture's function (pool first where the activation
/// commutes with the max, activate first where it does not).
pub fn max_pool_activate(x: Tensor<4>, pool: &MaxPool2d, act: FusedActivation) -> Tensor<4> {
    #[cfg(feature = "flex-kernels")]
    if let Some(kernel_act) = kernel_activation(&x, pool, act) {
        use burn::backend::Dispatch;
        use flex::FlexKernels;
        let out = <Dispatch as FlexKernels>::max_pool2x2_activate(x.into_dispatch(), kernel_act);
        return Tensor::from_dispatch(out);
    }
    let activate = |x: Tensor<4>| match act {
        FusedActivation::Relu => relu(x),
        FusedActivation::LeakyRelu(slope) => leaky_relu(x, slope),
    };
    if act.monotone() {
        activate(pool.forward(x))
    } else {
        pool.forward(activate(x))
    }
}

/// Whether [`max_pool_activate`] runs the flex kernel on `x`: a 2x2, stride-2, unpadded,
/// undilated, floor-mode max pool of an `f32` tensor at least 2x2 on the flex device (with or
/// without autodiff), followed by a non-decreasing activation (ReLU, or leaky ReLU with a
/// non-negative slope: only those commute with the max, so that pooling first is the lecture's
/// function).
/// Always false without the `flex-kernels` feature.
pub fn max_pool_activate_runs_kernel(
    x: &Tensor<4>,
    pool: &MaxPool2d,
    act: FusedActivation,
) -> bool {
    #[cfg(feature = "flex-kernels")]
    return kernel_activation(x, pool, act).is_some();
    #[cfg(not(feature = "flex-kernels"))]
    {
        let _ = (x, pool, act);
        false
    }
}

impl FusedActivation {
    /// Whether the activation is non-decreasing, so that it commutes with a max.
    pub fn monotone(self) -> bool {
        match self {
            Self::Relu => true,
            Self::LeakyRelu(slope) => slope >= 0.0,
        }
    }
}

/// The kernel's activation where the kernel applies (see [`max_pool_activate_runs_kernel`]).
#[cfg(feature = "flex-kernels")]
fn kernel_activation(
    x: &Tensor<4>,
    pool: &MaxPool2d,
    act: FusedActivation,
) -> Option<max_pool::PoolActivation> {
    let act = flex_activation(act)?;
    (is_plain_2x2_pool(pool) && fits_flex_kernel(x)).then_some(act)
}

/// The kernel's activation, `None` for one that does not commute with a max.
#[cfg(feature = "flex-kernels")]
fn flex_activation(act: FusedActivation) -> Option<max_pool::PoolActivation> {
    let act = match act {
        FusedActivation::Relu => max_pool::PoolActivation::Relu,
        FusedActivation::LeakyRelu(slope) => max_pool::PoolActivation::LeakyRelu {
            slope: slope as f32,
        },
    };
    act.monotone().then_some(act)
}

/// The only pooling the kernel implements: window 2x2, stride 2, no padding, no dilation,
/// floor mode.
#[cfg(feature = "flex-kernels")]
fn is_plain_2x2_pool(pool: &MaxPool2d) -> bool {
    let unpadded = match pool.padding {
        PaddingConfig2d::Valid => true,
        PaddingConfig2d::Explicit(top, left, bottom, right) => top + left + bottom + right == 0,
        PaddingConfig2d::Same => false,
    };
    pool.kernel_size == [2, 2]
        && pool.stride == [2, 2]
        && pool.dilation == [1, 1]
        && !pool.ceil_mode
        && unpadded
}

/// `x` is an `f32` tensor on the flex device (autodiff or not), at least 2x2.
#[cfg(feature = "flex-kernels")]
fn fits_flex_kernel(x: &Tensor<4>) -> bool {
    use burn::backend::DispatchDevice;
    let [_, _, height, width] = x.dims();
    let on_flex = matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_));
    on_flex && x.dtype() == burn::tensor::DType::F32 && height >= 2 && width >= 2
}
