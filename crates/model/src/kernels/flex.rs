//! The fused pool of [`super::max_pool`] as an op of the flex device, through Burn's backend
//! extension: the forward on `Flex`, and on `Autodiff<Flex>` the same forward plus a backward
//! that scatters the output gradient with the one-byte codes the forward kept.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};
use burn::tensor::TensorData;

use super::max_pool::{PoolActivation, PoolShape, max_pool_activate, max_pool_activate_backward};

/// The project's own ops. Listed backends: flex and autodiff over flex; calling them on any
/// other device panics, so [`super`]'s wrappers check the device first.
#[backend_extension(Flex, Autodiff)]
pub trait FlexKernels: Backend {
    /// `act(max_pool2d(x, 2x2, stride 2))` on a `[batch, channels, height, width]` `f32` tensor
    /// (see [`super::max_pool`] for the exact semantics).
    fn max_pool2x2_activate(x: FloatTensor<Self>, act: PoolActivation) -> FloatTensor<Self>;
}

/// The input's dims and its values as one contiguous slice (copied only if it is a strided view).
fn contiguous(x: FlexTensor) -> ([usize; 4], FlexTensor) {
    let shape = x.layout().shape();
    let dims = [shape[0], shape[1], shape[2], shape[3]];
    let x = if x.as_slice::<f32>().is_some() {
        x
    } else {
        x.to_contiguous()
    };
    (dims, x)
}

fn pool_shape([batch, channels, height, width]: [usize; 4]) -> PoolShape {
    PoolShape {
        planes: batch * channels,
        height,
        width,
    }
}

fn f32_tensor(values: Vec<f32>, dims: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, dims))
}

/// Runs the forward kernel; the codes only when a backward will need them.
fn forward(
    x: FlexTensor,
    act: PoolActivation,
    with_codes: bool,
) -> (FlexTensor, Option<Vec<u8>>, [usize; 4]) {
    let (dims, x) = contiguous(x);
    let shape = pool_shape(dims);
    let input = x
        .as_slice::<f32>()
        .expect("the wrapper only dispatches contiguous-able f32 tensors");
    let (out, codes) = max_pool_activate(shape, act, input, with_codes);
    let out_dims = [dims[0], dims[1], shape.out_height(), shape.out_width()];
    (f32_tensor(out, out_dims), codes, dims)
}

impl FlexKernels for Flex {
    fn max_pool2x2_activate(x: FlexTensor, act: PoolActivation) -> FlexTensor {
        forward(x, act, false).0
    }
}

/// What the backward needs: one byte per output value instead of an `i64` index plus the
/// activation's saved output.
#[derive(Clone, Debug)]
struct PoolState {
    input_dims: [usize; 4],
    act: PoolActivation,
    codes: Arc<Vec<u8>>,
}

#[derive(Debug)]
struct MaxPoolActivateBackward;

impl Backward<Flex, 1> for MaxPoolActivateBackward {
    type State = PoolState;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [parent] = ops.parents;
        let grad_out = grads.consume::<Flex>(&ops.node);
        let Some(parent) = parent else { return };
        let state = ops.state;
        let grad_out = if grad_out.as_slice::<f32>().is_some() {
            grad_out
        } else {
            grad_out.to_contiguous()
        };
        let grad_out = grad_out
            .as_slice::<f32>()
            .expect("the gradient of an f32 output is f32");
        let grad_in = max_pool_activate_backward(
            pool_shape(state.input_dims),
            state.act,
            grad_out,
            &state.codes,
        );
        grads.register::<Flex>(parent.id, f32_tensor(grad_in, state.input_dims));
    }
}

impl<C: CheckpointStrategy> FlexKernels for Autodiff<Flex, C> {
    fn max_pool2x2_activate(x: FloatTensor<Self>, act: PoolActivation) -> FloatTensor<Self> {
        match MaxPoolActivateBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (out, codes, input_dims) = forward(x.primitive().clone(), act, true);
                let state = PoolState {
                    input_dims,
                    act,
                    codes: Arc::new(codes.unwrap_or_default()),
                };
                prep.finish(state, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(x.into_primitive(), act, false).0),
        }
    }
}
