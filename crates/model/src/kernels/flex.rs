//! The project's kernels as ops of the flex device, through Burn's backend extension: each
//! forward on `Flex` (inference, feature `flex`), and with feature `autodiff`
//! on `Autodiff<Flex>` the same forward plus the op's own backward (`autodiff` module below).

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, backend_extension};
use burn::tensor::TensorData;
use sgemm::MatRef;

use super::conv::{ConvShape, cut_patches, to_batch_major};
use super::max_pool::{PoolActivation, PoolShape, max_pool_activate};

/// The project's own ops. Listed backends: flex, and autodiff over flex where the backward
/// passes are compiled in; calling them on any other device panics, so [`super`]'s wrappers
/// check the device first.
#[backend_extension(Flex, Autodiff: cfg(feature = "autodiff"))]
pub trait FlexKernels: Backend {
    /// `act(max_pool2d(x, 2x2, stride 2))` on a `[batch, channels, height, width]` `f32` tensor
    /// (see [`super::max_pool`] for the exact semantics).
    fn max_pool2x2_activate(x: FloatTensor<Self>, act: PoolActivation) -> FloatTensor<Self>;

    /// `conv2d(x, weight, bias)` with stride 1, no padding, no dilation, one group, on `f32`
    /// tensors: `x` `[batch, channels, height, width]`, `weight` `[filters, channels, kh, kw]`,
    /// `bias` `[filters]` (see [`super::conv`]).
    fn conv2d_unpadded(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// `x` with its values in one contiguous slice (copied only if it is a strided view).
fn contiguous(x: FlexTensor) -> FlexTensor {
    if x.as_slice::<f32>().is_some() {
        x
    } else {
        x.to_contiguous()
    }
}

/// The values of a contiguous `f32` tensor.
fn values(x: &FlexTensor) -> &[f32] {
    x.as_slice::<f32>()
        .expect("the wrappers only dispatch f32 tensors, made contiguous first")
}

fn dims4(x: &FlexTensor) -> [usize; 4] {
    let shape = x.layout().shape();
    [shape[0], shape[1], shape[2], shape[3]]
}

fn pool_shape([batch, channels, height, width]: [usize; 4]) -> PoolShape {
    PoolShape {
        planes: batch * channels,
        height,
        width,
    }
}

fn f32_tensor<const D: usize>(values: Vec<f32>, dims: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, dims))
}

/// `values` read as a row-major `rows x cols` matrix.
fn matrix(values: &[f32], rows: usize, cols: usize) -> MatRef<'_> {
    MatRef::row_major(values, rows, cols).expect("the kernels size their matrices from one shape")
}

/// `lhs x rhs`, row-major, through [`sgemm`] rather than flex's `float_matmul`, whose output
/// is allocated, zeroed and copied once more before the product writes it (see the crate docs).
fn product(lhs: MatRef<'_>, rhs: MatRef<'_>) -> Vec<f32> {
    sgemm::product(lhs, rhs).expect("the kernels size their matrices from one shape")
}

/// Runs the pool kernel; the codes only when a backward will need them.
fn pool_forward(
    x: FlexTensor,
    act: PoolActivation,
    with_codes: bool,
) -> (FlexTensor, Option<Vec<u8>>, [usize; 4]) {
    let x = contiguous(x);
    let dims = dims4(&x);
    let shape = pool_shape(dims);
    let (out, codes) = max_pool_activate(shape, act, values(&x), with_codes);
    let out_dims = [dims[0], dims[1], shape.out_height(), shape.out_width()];
    (f32_tensor(out, out_dims), codes, dims)
}

/// What a convolution's forward leaves for its backward (read only where the backward is
/// compiled in).
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "autodiff"), allow(dead_code))]
struct ConvForward {
    out: FlexTensor,
    shape: ConvShape,
    /// `[K, batch * N]` (see [`super::conv`]).
    patches: FlexTensor,
}

/// Patches × weights + bias: one product for the whole batch.
fn conv_forward(x: FlexTensor, weight: &FlexTensor, bias: &FlexTensor) -> ConvForward {
    let x = contiguous(x);
    let [batch, channels, height, width] = dims4(&x);
    let [filters, _, kernel_height, kernel_width] = dims4(weight);
    let shape = ConvShape {
        batch,
        channels,
        height,
        width,
        kernel_height,
        kernel_width,
    };
    let (k, n) = (shape.patch_len(), shape.positions());
    let patches = cut_patches(shape, values(&x));
    // [filters, K] x [K, batch * N] -> [filters, batch * N]
    let weight = contiguous(weight.clone());
    let product = product(
        matrix(values(&weight), filters, k),
        matrix(&patches, k, batch * n),
    );
    let bias = contiguous(bias.clone());
    let out = to_batch_major(&product, values(&bias), batch, n);
    let out_dims = [batch, filters, shape.out_height(), shape.out_width()];
    ConvForward {
        out: f32_tensor(out, out_dims),
        shape,
        patches: f32_tensor(patches, [k, batch * n]),
    }
}

impl FlexKernels for Flex {
    fn max_pool2x2_activate(x: FlexTensor, act: PoolActivation) -> FlexTensor {
        pool_forward(x, act, false).0
    }

    fn conv2d_unpadded(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        conv_forward(x, &weight, &bias).out
    }
}

/// The backward passes, on `Autodiff<Flex>`.
#[cfg(feature = "autodiff")]
mod autodiff {
    use std::sync::Arc;

    use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::flex::FlexTensor;
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{Autodiff, Flex};

    use super::super::conv::{ConvShape, bias_gradient, fold_patches, to_filter_major};
    use super::super::max_pool::{PoolActivation, max_pool_activate_backward};
    use super::{
        ConvForward, FlexKernels, contiguous, conv_forward, dims4, f32_tensor, matrix,
        pool_forward, pool_shape, product, values,
    };

    /// What the pool's backward needs: one byte per output value instead of an `i64` index
    /// plus the activation's saved output.
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
            let grad_out = contiguous(grad_out);
            let grad_in = max_pool_activate_backward(
                pool_shape(state.input_dims),
                state.act,
                values(&grad_out),
                &state.codes,
            );
            grads.register::<Flex>(parent.id, f32_tensor(grad_in, state.input_dims));
        }
    }

    /// What the convolution's backward needs: the forward's patches (the weight gradient is
    /// a product over them) and the weights (the input gradient is a product with them).
    #[derive(Clone, Debug)]
    struct ConvState {
        shape: ConvShape,
        patches: FlexTensor,
        weight: FlexTensor,
    }

    #[derive(Debug)]
    struct ConvBackward;

    impl Backward<Flex, 3> for ConvBackward {
        type State = ConvState;

        fn backward(
            self,
            ops: Ops<Self::State, 3>,
            grads: &mut Gradients,
            _checkpointer: &mut Checkpointer,
        ) {
            let [x_node, weight_node, bias_node] = ops.parents;
            let grad_out = grads.consume::<Flex>(&ops.node);
            let ConvState {
                shape,
                patches,
                weight,
            } = ops.state;
            let [filters, ..] = dims4(&weight);
            let (k, n) = (shape.patch_len(), shape.positions());
            // dY as [filters, batch * N], the layout of the forward's product.
            let grad_out = contiguous(grad_out);
            let grad_out = to_filter_major(values(&grad_out), filters, shape.batch, n);
            if let Some(node) = bias_node {
                let grad = bias_gradient(&grad_out, filters);
                grads.register::<Flex>(node.id, f32_tensor(grad, [filters]));
            }
            let grad_out = matrix(&grad_out, filters, shape.batch * n);
            if let Some(node) = weight_node {
                // dW = dY [filters, batch * N] x P^T [batch * N, K]
                let patches = matrix(values(&patches), k, shape.batch * n);
                let grad = product(grad_out, patches.transpose());
                grads.register::<Flex>(node.id, f32_tensor(grad, dims4(&weight)));
            }
            if let Some(node) = x_node {
                // dP = W^T [K, filters] x dY [filters, batch * N], folded back onto the input
                let weight = contiguous(weight);
                let weight_t = matrix(values(&weight), filters, k).transpose();
                let patch_grads = product(weight_t, grad_out);
                let grad = fold_patches(shape, &patch_grads);
                let dims = [shape.batch, shape.channels, shape.height, shape.width];
                grads.register::<Flex>(node.id, f32_tensor(grad, dims));
            }
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
                    let (out, codes, input_dims) = pool_forward(x.primitive().clone(), act, true);
                    let state = PoolState {
                        input_dims,
                        act,
                        codes: Arc::new(codes.unwrap_or_default()),
                    };
                    prep.finish(state, out)
                }
                OpsKind::UnTracked(prep) => {
                    prep.finish(pool_forward(x.into_primitive(), act, false).0)
                }
            }
        }

        fn conv2d_unpadded(
            x: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            bias: FloatTensor<Self>,
        ) -> FloatTensor<Self> {
            let nodes = [x.node(), weight.node(), bias.node()];
            match ConvBackward.prepare::<C>(nodes).compute_bound().stateful() {
                OpsKind::Tracked(prep) => {
                    let ConvForward {
                        out,
                        shape,
                        patches,
                    } = conv_forward(x.primitive().clone(), weight.primitive(), bias.primitive());
                    let state = ConvState {
                        shape,
                        patches,
                        weight: weight.primitive().clone(),
                    };
                    prep.finish(state, out)
                }
                OpsKind::UnTracked(prep) => prep.finish(
                    conv_forward(x.into_primitive(), weight.primitive(), bias.primitive()).out,
                ),
            }
        }
    }
}
