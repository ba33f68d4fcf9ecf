//! The slice work of an unpadded, stride-1 convolution computed as patches × weights: cutting
//! the input into patches (im2col), folding patch gradients back onto the input (col2im), and
//! the two layout moves between Burn's `[batch, filters, positions]` and the filter-major
//! layout the matrix products use. The matrix products run in `super::flex`, through the
//! workspace's `sgemm` crate (the `gemm` crate flex itself calls, minus flex's extra output copy).
//!
//! Why this beats Burn's generic path for this network: flex's `conv2d` cuts the patches in its
//! forward and throws them away; Burn's backward then computes the weight gradient as another
//! convolution over swapped batch/channel axes (a 13x13 input, an 11x11 "kernel" and a 3x3
//! output for conv2), cutting patches again. Here the forward keeps its patches, and each of the
//! three products is one large matrix product over the whole batch (`B * N` = 7,744 columns for
//! conv2 at batch 64), where per-image products (121 columns) would leave the gemm underfed:
//!
//! ```text
//! patches P : [K, B * N]   K = channels * kh * kw (288 for conv2), N = out_h * out_w (11 * 11)
//! forward   : Y = W [filters, K] x P + bias          (out side: floor((W - F) / 1) + 1)
//! weights   : dW = dY [filters, B * N] x P^T
//! input     : dP = W^T x dY, then folded back onto the input positions
//! ```
//!
//! Layout of the patches, `[K, batch, N]`: row `(c, ky, kx)` holds, for every image `b` and
//! output position `(oy, ox)`, the input value `x[b, c, oy + ky, ox + kx]`; for fixed `b` and `oy`
//! that is `out_w` consecutive input values, so cutting and folding copy whole row segments.

use super::threads::for_each_task;

/// The shape of one convolution: a `[batch, channels, height, width]` input and a
/// `kernel_height x kernel_width` window, stride 1, no padding, no dilation, one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub channels: usize,
    /// Input rows.
    pub height: usize,
    /// Input columns.
    pub width: usize,
    /// Window rows.
    pub kernel_height: usize,
    /// Window columns.
    pub kernel_width: usize,
}

impl ConvShape {
    /// Output rows: `floor((height - kernel_height) / 1) + 1`.
    ///
    /// # Panics
    /// If the window is taller than the input (the wrapper checks it first).
    pub fn out_height(&self) -> usize {
        self.height - self.kernel_height + 1
    }

    /// Output columns: `floor((width - kernel_width) / 1) + 1`.
    ///
    /// # Panics
    /// If the window is wider than the input (the wrapper checks it first).
    pub fn out_width(&self) -> usize {
        self.width - self.kernel_width + 1
    }

    /// Values in one patch, `K`: the inner dimension of the matrix products.
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel_height * self.kernel_width
    }

    /// Output positions per image, `N`.
    pub fn positions(&self) -> usize {
        self.out_height() * self.out_width()
    }

    /// Values in one input image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Each patch row of one image: its index in `[K]` and the input offset of its first value
    /// (`(c, ky, kx)` → `c * height * width + ky * width + kx`).
    fn rows(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (kh, kw) = (self.kernel_height, self.kernel_width);
        (0..self.channels)
            .flat_map(move |c| (0..kh).flat_map(move |ky| (0..kw).map(move |kx| (c, ky, kx))))
            .enumerate()
            .map(|(row, (c, ky, kx))| (row, (c * self.height + ky) * self.width + kx))
    }
}

/// Cuts every image of `input` (`batch * image_len` values, `[batch, channels, height, width]`)
/// into its patches: `[K, batch, N]` as described in the module docs.
///
/// # Panics
/// If `input` does not hold exactly `shape`'s values.
pub fn cut_patches(shape: ConvShape, input: &[f32]) -> Vec<f32> {
    assert_eq!(
        input.len(),
        shape.batch * shape.image_len(),
        "conv input size"
    );
    let row_len = shape.batch * shape.positions();
    let mut patches = vec![0.0f32; shape.patch_len() * row_len];
    if patches.is_empty() {
        return patches;
    }
    let (n, out_w, width) = (shape.positions(), shape.out_width(), shape.width);
    let starts: Vec<usize> = shape.rows().map(|(_, start)| start).collect();
    let values = patches.len();
    let rows = patches.chunks_mut(row_len).zip(&starts);
    for_each_task(values, rows, |(row, &start)| {
        for (image, row) in input
            .chunks_exact(shape.image_len())
            .zip(row.chunks_exact_mut(n))
        {
            for (oy, segment) in row.chunks_exact_mut(out_w).enumerate() {
                segment.copy_from_slice(&image[start + oy * width..][..out_w]);
            }
        }
    });
    patches
}

/// The inverse scatter of [`cut_patches`]: adds each patch gradient (`[K, batch, N]`) onto the
/// input position it was cut from. Returns the input gradient, `[batch, channels, height,
/// width]`; positions no window covers get 0.
///
/// # Panics
/// If `patch_grads` does not hold exactly `shape`'s patches.
pub fn fold_patches(shape: ConvShape, patch_grads: &[f32]) -> Vec<f32> {
    let row_len = shape.batch * shape.positions();
    assert_eq!(
        patch_grads.len(),
        shape.patch_len() * row_len,
        "conv patch gradient size"
    );
    let mut grads = vec![0.0f32; shape.batch * shape.image_len()];
    if patch_grads.is_empty() {
        return grads;
    }
    let (n, out_w, width) = (shape.positions(), shape.out_width(), shape.width);
    // One task per image: each writes only its own input gradient.
    let images = grads.chunks_mut(shape.image_len()).enumerate();
    for_each_task(patch_grads.len(), images, |(b, image)| {
        for (row, start) in shape.rows() {
            let row = &patch_grads[row * row_len + b * n..][..n];
            for (oy, segment) in row.chunks_exact(out_w).enumerate() {
                let target = &mut image[start + oy * width..][..out_w];
                for (t, g) in target.iter_mut().zip(segment) {
                    *t += g;
                }
            }
        }
    });
    grads
}

/// `[filters, batch, N]` (the product's layout) → `[batch, filters, N]` (Burn's), adding
/// `bias[f]` to every value of filter `f` on the way.
///
/// # Panics
/// If `filter_major` is not `bias.len() * batch * positions` values.
pub fn to_batch_major(
    filter_major: &[f32],
    bias: &[f32],
    batch: usize,
    positions: usize,
) -> Vec<f32> {
    let filters = bias.len();
    assert_eq!(
        filter_major.len(),
        filters * batch * positions,
        "conv output size"
    );
    let mut out = vec![0.0f32; filter_major.len()];
    if out.is_empty() {
        return out;
    }
    let values = out.len();
    let images = out.chunks_mut(filters * positions).enumerate();
    for_each_task(values, images, |(b, image)| {
        for (f, plane) in image.chunks_exact_mut(positions).enumerate() {
            let from = &filter_major[(f * batch + b) * positions..][..positions];
            for (o, v) in plane.iter_mut().zip(from) {
                *o = v + bias[f];
            }
        }
    });
    out
}

/// `[batch, filters, N]` (Burn's layout of the output gradient) → `[filters, batch, N]`.
///
/// # Panics
/// If `batch_major` is not `filters * batch * positions` values.
pub fn to_filter_major(
    batch_major: &[f32],
    filters: usize,
    batch: usize,
    positions: usize,
) -> Vec<f32> {
    assert_eq!(
        batch_major.len(),
        filters * batch * positions,
        "conv output gradient size"
    );
    let mut out = vec![0.0f32; batch_major.len()];
    if out.is_empty() {
        return out;
    }
    let values = out.len();
    let filter_rows = out.chunks_mut(batch * positions).enumerate();
    for_each_task(values, filter_rows, |(f, rows)| {
        for (b, plane) in rows.chunks_exact_mut(positions).enumerate() {
            plane.copy_from_slice(&batch_major[(b * filters + f) * positions..][..positions]);
        }
    });
    out
}

/// The bias gradient from the output gradient in `[filters, batch * N]` layout: each filter's
/// row summed.
///
/// # Panics
/// If `filter_major` is not a whole number of rows of `filters`.
pub fn bias_gradient(filter_major: &[f32], filters: usize) -> Vec<f32> {
    assert!(
        filters > 0 && filter_major.len().is_multiple_of(filters),
        "conv output gradient size"
    );
    let row_len = filter_major.len() / filters;
    if row_len == 0 {
        return vec![0.0; filters];
    }
    filter_major
        .chunks_exact(row_len)
        .map(|row| row.iter().sum())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: ConvShape = ConvShape {
        batch: 2,
        channels: 2,
        height: 3,
        width: 4,
        kernel_height: 2,
        kernel_width: 3,
    };

    fn input() -> Vec<f32> {
        (0..SHAPE.batch * SHAPE.image_len())
            .map(|i| i as f32)
            .collect()
    }

    #[test]
    fn out_sides_follow_the_valid_formula() {
        // floor((3 - 2) / 1) + 1 = 2 rows, floor((4 - 3) / 1) + 1 = 2 columns
        assert_eq!((SHAPE.out_height(), SHAPE.out_width()), (2, 2));
        assert_eq!((SHAPE.patch_len(), SHAPE.positions()), (12, 4));
    }

    #[test]
    fn patches_hold_each_window_in_channel_row_column_order() {
        let x = input();
        let patches = cut_patches(SHAPE, &x);
        let (b_n, n) = (SHAPE.batch * SHAPE.positions(), SHAPE.positions());
        for b in 0..SHAPE.batch {
            for (row, (c, ky, kx)) in (0..2)
                .flat_map(|c| (0..2).flat_map(move |ky| (0..3).map(move |kx| (c, ky, kx))))
                .enumerate()
            {
                for oy in 0..2 {
                    for ox in 0..2 {
                        let want = x[b * 24 + c * 12 + (oy + ky) * 4 + ox + kx];
                        assert_eq!(patches[row * b_n + b * n + oy * 2 + ox], want);
                    }
                }
            }
        }
    }

    #[test]
    fn folding_is_the_adjoint_of_cutting() {
        // <cut(x), g> == <x, fold(g)> for any x and g: fold is the exact transpose of cut.
        let x = input();
        let g: Vec<f32> = (0..SHAPE.batch * SHAPE.patch_len() * SHAPE.positions())
            .map(|i| ((i * 7) % 11) as f32 - 5.0)
            .collect();
        let lhs: f32 = cut_patches(SHAPE, &x)
            .iter()
            .zip(&g)
            .map(|(a, b)| a * b)
            .sum();
        let rhs: f32 = x
            .iter()
            .zip(fold_patches(SHAPE, &g))
            .map(|(a, b)| a * b)
            .sum();
        assert_eq!(lhs, rhs);
    }

    #[test]
    fn layout_moves_are_inverse_and_the_bias_lands_per_filter() {
        // 2 filters, batch 3, 2 positions: value = 100 f + 10 b + n in both layouts.
        let (filters, batch, n) = (2, 3, 2);
        let filter_major: Vec<f32> = (0..filters)
            .flat_map(|f| {
                (0..batch).flat_map(move |b| (0..n).map(move |p| (100 * f + 10 * b + p) as f32))
            })
            .collect();
        let out = to_batch_major(&filter_major, &[0.5, -1.0], batch, n);
        assert_eq!(&out[..4], &[0.5, 1.5, 99.0, 100.0]);
        let back = to_filter_major(
            &to_batch_major(&filter_major, &[0.0, 0.0], batch, n),
            filters,
            batch,
            n,
        );
        assert_eq!(back, filter_major);
        assert_eq!(bias_gradient(&filter_major, filters), [63.0, 663.0]);
    }
}
