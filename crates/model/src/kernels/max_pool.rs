//! 2x2 / stride-2 max pooling fused with the activation that follows it, on plain `f32` slices.
//!
//! Burn's flex backend pools through a generic 3-D kernel that computes window bounds and an
//! `i64` flat index per output value; its autodiff wrapper keeps those indices, and the ReLU after
//! the pool keeps its own output for its backward. For the one shape this network uses, a window
//! is two adjacent values in two adjacent rows, so this kernel reads two input rows per output row
//! and keeps one byte per output value for the backward: the window position of the maximum (bits
//! 0-1) and whether the activation passes the gradient unscaled (bit 2).
//!
//! Semantics are those of Burn's `max_pool2d` (kernel 2, stride 2, no padding, `ceil_mode =
//! false`, so an odd side floors: 11 -> 5 and the last row/column is never read) followed by its
//! `relu` / `leaky_relu`:
//! - ties: the first maximum in row-major window order wins (a later value must be strictly
//!   greater), and a NaN always wins, as in Burn and PyTorch;
//! - ReLU: `x > 0 || x is NaN` keeps `x`, else 0; its gradient passes where the output is kept;
//! - leaky ReLU: `x >= 0` keeps `x`, else `slope * x`; its gradient is scaled by `slope` where
//!   `x < 0`.
//!
//! Pooling before activating is the same function as the lecture's activate-then-pool only for a
//! non-decreasing activation: ReLU, or leaky ReLU with `slope >= 0`. [`PoolActivation::monotone`]
//! says so and the caller checks it.

use super::threads::for_each_task;

/// The activation fused after the pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PoolActivation {
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x >= 0`, `slope * x` below.
    LeakyRelu {
        /// The negative slope, as Burn's leaky ReLU rounds it (to `f32`).
        slope: f32,
    },
}

impl PoolActivation {
    /// Whether the activation is non-decreasing, so that it commutes with a max.
    pub fn monotone(self) -> bool {
        match self {
            Self::Relu => true,
            Self::LeakyRelu { slope } => slope >= 0.0,
        }
    }

    /// The activated value and whether the gradient passes unscaled (for ReLU: whether it
    /// passes at all).
    #[inline(always)]
    fn apply(self, x: f32) -> (f32, bool) {
        match self {
            Self::Relu => {
                if x > 0.0 || x.is_nan() {
                    (x, true)
                } else {
                    (0.0, false)
                }
            }
            Self::LeakyRelu { slope } => {
                if x >= 0.0 {
                    (x, true)
                } else {
                    (slope * x, false)
                }
            }
        }
    }

    /// The gradient through the activation, given the flag [`PoolActivation::apply`] returned.
    #[inline(always)]
    fn gradient(self, grad: f32, passes: bool) -> f32 {
        match (self, passes) {
            (_, true) => grad,
            (Self::Relu, false) => 0.0,
            (Self::LeakyRelu { slope }, false) => grad * slope,
        }
    }
}

/// The shape of one pooling: `planes` (batch x channels) planes of `height x width` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolShape {
    /// Batch size times channels.
    pub planes: usize,
    /// Input rows per plane.
    pub height: usize,
    /// Input columns per plane.
    pub width: usize,
}

impl PoolShape {
    /// Output rows per plane: `floor(height / 2)`.
    pub fn out_height(&self) -> usize {
        self.height / 2
    }

    /// Output columns per plane: `floor(width / 2)`.
    pub fn out_width(&self) -> usize {
        self.width / 2
    }

    /// Values in one input plane.
    pub fn in_plane(&self) -> usize {
        self.height * self.width
    }

    /// Values in one output plane.
    pub fn out_plane(&self) -> usize {
        self.out_height() * self.out_width()
    }
}

/// Bit 2 of a code: the activation passed the gradient unscaled.
const PASSES: u8 = 4;

/// The maximum of one window and its position (0: top left, 1: top right, 2: bottom left,
/// 3: bottom right), the first one on ties, a NaN over anything.
#[inline(always)]
fn window_max(values: [f32; 4]) -> (f32, u8) {
    let mut best = values[0];
    let mut at = 0u8;
    for (i, &v) in values.iter().enumerate().skip(1) {
        if v > best || v.is_nan() {
            best = v;
            at = i as u8;
        }
    }
    (best, at)
}

/// Pools and activates `planes` consecutive planes: `input` holds them, `out` receives
/// `out_plane` values per plane and `codes`, when given, the backward code of each.
fn forward_planes(
    shape: PoolShape,
    act: PoolActivation,
    input: &[f32],
    out: &mut [f32],
    mut codes: Option<&mut [u8]>,
) {
    let (out_h, out_w, width) = (shape.out_height(), shape.out_width(), shape.width);
    if out_w == 0 {
        return;
    }
    for (plane, out_plane) in out.chunks_exact_mut(shape.out_plane()).enumerate() {
        let in_plane = &input[plane * shape.in_plane()..][..shape.in_plane()];
        for (row, out_row) in out_plane.chunks_exact_mut(out_w).enumerate().take(out_h) {
            let top = &in_plane[2 * row * width..][..2 * out_w];
            let bottom = &in_plane[(2 * row + 1) * width..][..2 * out_w];
            let pairs = top.chunks_exact(2).zip(bottom.chunks_exact(2));
            match codes.as_deref_mut() {
                Some(codes) => {
                    let first = plane * shape.out_plane() + row * out_w;
                    let code_row = &mut codes[first..first + out_w];
                    for ((o, c), (t, b)) in out_row.iter_mut().zip(code_row).zip(pairs) {
                        let (max, at) = window_max([t[0], t[1], b[0], b[1]]);
                        let (value, passes) = act.apply(max);
                        *o = value;
                        *c = at | if passes { PASSES } else { 0 };
                    }
                }
                None => {
                    for (o, (t, b)) in out_row.iter_mut().zip(pairs) {
                        *o = act.apply(window_max([t[0], t[1], b[0], b[1]]).0).0;
                    }
                }
            }
        }
    }
}

/// Writes the input gradient of `planes` consecutive planes into `grad_in` (zeroed by the
/// caller): each output's gradient, through the activation, lands on its window's maximum.
fn backward_planes(
    shape: PoolShape,
    act: PoolActivation,
    grad_out: &[f32],
    codes: &[u8],
    grad_in: &mut [f32],
) {
    let (out_w, width) = (shape.out_width(), shape.width);
    if out_w == 0 {
        return;
    }
    for (plane, in_plane) in grad_in.chunks_exact_mut(shape.in_plane()).enumerate() {
        let first = plane * shape.out_plane();
        let grads = &grad_out[first..first + shape.out_plane()];
        let codes = &codes[first..first + shape.out_plane()];
        for (row, (grad_row, code_row)) in grads
            .chunks_exact(out_w)
            .zip(codes.chunks_exact(out_w))
            .enumerate()
        {
            let rows = &mut in_plane[2 * row * width..][..2 * width];
            for (col, (&g, &code)) in grad_row.iter().zip(code_row).enumerate() {
                let at = code & 3;
                let index = usize::from(at >> 1) * width + 2 * col + usize::from(at & 1);
                rows[index] = act.gradient(g, code & PASSES != 0);
            }
        }
    }
}

/// Planes per parallel task: about 16 KiB of input each, so that a task outweighs its
/// scheduling and a batch still splits across cores.
fn planes_per_task(shape: PoolShape) -> usize {
    (4096 / shape.in_plane().max(1)).max(1)
}

/// Pools and activates every plane of `input` (`shape.planes * shape.in_plane()` values, planes
/// contiguous, rows contiguous). Returns the output (`planes * out_plane`) and, when
/// `with_codes`, one backward code per output value for [`max_pool_activate_backward`].
///
/// # Panics
/// If `input` does not hold exactly `shape`'s values.
pub fn max_pool_activate(
    shape: PoolShape,
    act: PoolActivation,
    input: &[f32],
    with_codes: bool,
) -> (Vec<f32>, Option<Vec<u8>>) {
    assert_eq!(
        input.len(),
        shape.planes * shape.in_plane(),
        "pool input size"
    );
    let mut out = vec![0.0f32; shape.planes * shape.out_plane()];
    let mut codes = with_codes.then(|| vec![0u8; out.len()]);
    if out.is_empty() {
        return (out, codes);
    }
    let task = planes_per_task(shape);
    let (in_chunk, out_chunk) = (task * shape.in_plane(), task * shape.out_plane());
    // One code chunk per output chunk when the codes are kept.
    let mut code_chunks = codes.as_mut().map(|codes| codes.chunks_mut(out_chunk));
    let tasks = input
        .chunks(in_chunk)
        .zip(out.chunks_mut(out_chunk))
        .map(|(i, o)| (i, o, code_chunks.as_mut().and_then(Iterator::next)));
    for_each_task(input.len(), tasks, |(i, o, c)| {
        forward_planes(shape, act, i, o, c)
    });
    (out, codes)
}

/// The input gradient (`planes * in_plane` values) of [`max_pool_activate`] given the output
/// gradient and the codes it returned. Values outside every window (the last row or column of
/// an odd side) and off each window's maximum get 0.
///
/// # Panics
/// If `grad_out` or `codes` do not hold one value per output of `shape`.
pub fn max_pool_activate_backward(
    shape: PoolShape,
    act: PoolActivation,
    grad_out: &[f32],
    codes: &[u8],
) -> Vec<f32> {
    let outputs = shape.planes * shape.out_plane();
    assert_eq!(grad_out.len(), outputs, "pool output gradient size");
    assert_eq!(codes.len(), outputs, "pool codes size");
    let mut grad_in = vec![0.0f32; shape.planes * shape.in_plane()];
    if outputs == 0 {
        return grad_in;
    }
    let task = planes_per_task(shape);
    let (in_chunk, out_chunk) = (task * shape.in_plane(), task * shape.out_plane());
    let values = grad_in.len();
    let tasks = grad_in
        .chunks_mut(in_chunk)
        .zip(grad_out.chunks(out_chunk))
        .zip(codes.chunks(out_chunk));
    for_each_task(values, tasks, |((gi, go), c)| {
        backward_planes(shape, act, go, c, gi)
    });
    grad_in
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: PoolShape = PoolShape {
        planes: 1,
        height: 3,
        width: 5,
    };

    #[test]
    fn odd_sides_floor_and_ties_pick_the_first_maximum() {
        #[rustfmt::skip]
        let input = [
            1.0, 1.0,  -3.0, -2.0, 9.0,
            0.0, 1.0,  -1.0, -1.0, 9.0,
            9.0, 9.0,   9.0,  9.0, 9.0,
        ];
        let (out, codes) = max_pool_activate(SHAPE, PoolActivation::Relu, &input, true);
        assert_eq!(out, [1.0, 0.0]);
        // window 0: tie 1.0 at positions 0, 1, 3 -> 0, passes; window 1: -1.0 at 2 -> blocked
        assert_eq!(codes.unwrap(), [PASSES, 2]);
    }

    #[test]
    fn backward_scatters_onto_the_maximum_through_the_activation() {
        let act = PoolActivation::LeakyRelu { slope: 0.5 };
        #[rustfmt::skip]
        let input = [
            1.0, 2.0,  -3.0, -2.0, 7.0,
            0.0, 1.0,  -1.0, -4.0, 7.0,
            7.0, 7.0,   7.0,  7.0, 7.0,
        ];
        let (out, codes) = max_pool_activate(SHAPE, act, &input, true);
        assert_eq!(out, [2.0, -0.5]);
        let grad = max_pool_activate_backward(SHAPE, act, &[10.0, 10.0], &codes.unwrap());
        #[rustfmt::skip]
        assert_eq!(grad, [
            0.0, 10.0, 0.0, 0.0, 0.0,
            0.0, 0.0,  5.0, 0.0, 0.0,
            0.0, 0.0,  0.0, 0.0, 0.0,
        ]);
    }

    #[test]
    fn nan_wins_its_window() {
        let shape = PoolShape {
            planes: 1,
            height: 2,
            width: 2,
        };
        let (out, _) = max_pool_activate(
            shape,
            PoolActivation::Relu,
            &[1.0, f32::NAN, 3.0, 2.0],
            false,
        );
        assert!(out[0].is_nan());
    }
}
