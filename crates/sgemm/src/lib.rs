//! f32 matrix products through the `gemm` crate (the one flex's `float_matmul` calls), written
//! into a `Vec` this crate allocates and hands back, behind a safe API: [`MatRef`] views check
//! their bounds when they are made, and [`product`] checks the inner dimensions.
//!
//! Why not flex's `float_matmul`: its output is `FlexTensor::empty`, a zeroed `Vec<u8>` that the
//! byte container then copies into a second, 16-byte-aligned and zeroed allocation. For the
//! training step's largest product (conv2's patch gradients, 288 x 30,976 values, 34 MiB, at
//! batch 256) that is three passes over memory the product then overwrites, and fresh pages
//! faulted in: about a fifth of a 1-thread step at batch 256 went there (`perf record`,
//! crates/bench/README.md). Here the product writes once into memory nobody reads first.
//!
//! This crate is the workspace's second exception to `unsafe_code = "forbid"` (the first is
//! `fast-alloc`; Cargo.toml: `deny`, allowed on [`product`] and its helper alone): `gemm::gemm`
//! is an `unsafe fn` over raw pointers and strides.

use thiserror::Error;

/// Products of at least this many multiply-adds (`m * n * k`) run on rayon's pool: flex's own
/// threshold (192³), below which waking the workers costs more than they save.
const PARALLEL_MIN_OPS: usize = 192 * 192 * 192;

/// Outputs of fewer values start from zeros (see [`product`]), so that gemm's paths for small
/// outputs (up to 256 values) never see uninitialised memory; zeroing 16 KiB costs nothing next
/// to a product.
const UNINIT_MIN_LEN: usize = 4096;

/// Why a view or a product was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ShapeError {
    /// A view's last element lies outside its values.
    #[error(
        "a {rows}x{cols} view with strides ({row_stride}, {col_stride}) reaches past its {len} values"
    )]
    OutOfBounds {
        /// Rows of the view.
        rows: usize,
        /// Columns of the view.
        cols: usize,
        /// Distance between consecutive rows.
        row_stride: usize,
        /// Distance between consecutive columns.
        col_stride: usize,
        /// Values the view was made over.
        len: usize,
    },
    /// The left matrix's columns are not the right one's rows.
    #[error("cannot multiply {lhs_cols} columns by {rhs_rows} rows")]
    Inner {
        /// Columns of the left matrix.
        lhs_cols: usize,
        /// Rows of the right matrix.
        rhs_rows: usize,
    },
    /// The product has more values than memory can index.
    #[error("a {rows}x{cols} product is too large")]
    TooLarge {
        /// Rows of the product.
        rows: usize,
        /// Columns of the product.
        cols: usize,
    },
}

/// A read-only `rows x cols` matrix over a slice: element `(i, j)` is
/// `values[i * row_stride + j * col_stride]`. Made only through the checked constructors, so
/// every element of a `MatRef` is in its slice.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    values: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows x cols` matrix: `values` holds at least `rows * cols` values.
    pub fn row_major(values: &'a [f32], rows: usize, cols: usize) -> Result<Self, ShapeError> {
        Self::strided(values, rows, cols, cols, 1)
    }

    /// A matrix with any non-negative strides (rows may overlap: it is only read).
    pub fn strided(
        values: &'a [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self, ShapeError> {
        // A dimension of one (or no) element never steps: its stride is never used.
        let row_stride = if rows > 1 { row_stride } else { 0 };
        let col_stride = if cols > 1 { col_stride } else { 0 };
        let out_of_bounds = ShapeError::OutOfBounds {
            rows,
            cols,
            row_stride,
            col_stride,
            len: values.len(),
        };
        if rows > 0 && cols > 0 {
            let last = (rows - 1)
                .checked_mul(row_stride)
                .zip((cols - 1).checked_mul(col_stride))
                .and_then(|(r, c)| r.checked_add(c));
            // In bounds also means each stride fits in an isize (a slice has at most isize::MAX
            // bytes), which is how gemm takes them.
            if last.is_none_or(|last| last >= values.len()) {
                return Err(out_of_bounds);
            }
        }
        Ok(Self {
            values,
            rows,
            cols,
            row_stride,
            col_stride,
        })
    }

    /// The same values read as the transposed matrix (no copy: the strides swap).
    pub fn transpose(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Rows of the matrix.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns of the matrix.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// `lhs x rhs` as a new row-major `[lhs.rows(), rhs.cols()]` vector.
#[allow(unsafe_code)]
pub fn product(lhs: MatRef<'_>, rhs: MatRef<'_>) -> Result<Vec<f32>, ShapeError> {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    if rhs.rows != k {
        return Err(ShapeError::Inner {
            lhs_cols: k,
            rhs_rows: rhs.rows,
        });
    }
    let len = m
        .checked_mul(n)
        .filter(|&len| len <= isize::MAX as usize / size_of::<f32>())
        .ok_or(ShapeError::TooLarge { rows: m, cols: n })?;
    if len == 0 || k == 0 {
        // An empty sum is 0 (and gemm is not asked to write nothing).
        return Ok(vec![0.0; len]);
    }
    let parallel = m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN_OPS
        && rayon::current_num_threads() > 1;
    let parallelism = if parallel {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // gemm's vector paths (one row or one column: gemv) make a slice over the destination
    // before writing it, and a slice must hold initialised values. Those, the outer products
    // (k <= 2) and small outputs start from zeros, cheap at their size: only gemm's blocked
    // kernels, which write through raw pointers and are where the saving is, get uninitialised
    // memory.
    if m == 1 || n == 1 || k <= 2 || len < UNINIT_MIN_LEN {
        let mut out = vec![0.0; len];
        // SAFETY: as below, on initialised memory (`len` values, row-major, no aliasing).
        unsafe { gemm_into(m, n, k, out.as_mut_ptr(), lhs, rhs, parallelism) };
        return Ok(out);
    }
    let mut out = Vec::<f32>::with_capacity(len);
    // SAFETY:
    // - `out` has capacity for `m * n` values, and gemm writes exactly the `m x n` elements of
    //   a row-major destination (row stride `n`, column stride 1: no two elements alias, all
    //   inside the allocation). With `read_dst` false it only writes them (`dst = beta * lhs *
    //   rhs`), through raw pointers on this path (m, n > 1, k > 2, a large output: gemm's
    //   blocked kernels), so the uninitialised values are never read. (gemm's experimental
    //   Apple AMX kernels would read them: see Cargo.toml.)
    // - Reads stay inside `lhs` and `rhs`, and `out` aliases neither: see `gemm_into`.
    unsafe {
        gemm_into(m, n, k, out.as_mut_ptr(), lhs, rhs, parallelism);
        // Every one of the `len` values was written above.
        out.set_len(len);
    }
    Ok(out)
}

/// `dst := lhs x rhs` for an `m x n` row-major `dst` (`m`, `n`, `k` > 0, from `lhs` and `rhs`).
///
/// # Safety
/// `dst` must point to `m * n` writable `f32`s that alias neither `lhs` nor `rhs`; gemm may read
/// them only on the paths `product` gives initialised memory.
#[allow(unsafe_code)]
unsafe fn gemm_into(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    parallelism: gemm::Parallelism,
) {
    // The strides are below the slices' lengths (`MatRef::strided`), so they fit in an isize.
    let stride = |s: usize| s as isize;
    // SAFETY: every element gemm reads from `lhs` (`m x k`) and `rhs` (`k x n`) is inside its
    // slice (`MatRef`'s constructors checked the last one; strides are non-negative), the
    // shared borrows outlive the call, and the caller vouches for `dst`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            stride(n),
            false,
            lhs.values.as_ptr(),
            stride(lhs.col_stride),
            stride(lhs.row_stride),
            rhs.values.as_ptr(),
            stride(rhs.col_stride),
            stride(rhs.row_stride),
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook triple loop, in f64.
    fn naive(lhs: MatRef<'_>, rhs: MatRef<'_>) -> Vec<f32> {
        let at = |m: &MatRef<'_>, i: usize, j: usize| {
            f64::from(m.values[i * m.row_stride + j * m.col_stride])
        };
        let mut out = Vec::new();
        for i in 0..lhs.rows {
            for j in 0..rhs.cols {
                let sum: f64 = (0..lhs.cols).map(|p| at(&lhs, i, p) * at(&rhs, p, j)).sum();
                out.push(sum as f32);
            }
        }
        out
    }

    /// Deterministic values in [-1, 1).
    fn values(len: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn assert_close(got: &[f32], want: &[f32], k: usize) {
        assert_eq!(got.len(), want.len());
        // Each value is a sum of k products of values below 1.
        let tolerance = 1e-5 * k as f32;
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() <= tolerance, "value {i}: {g} against {w}");
        }
    }

    #[test]
    fn row_major_products_match_the_triple_loop() {
        // Sizes off every kernel's register block, and one large enough to run in parallel.
        // Each of gemm's paths: vector by matrix and matrix by vector (gemv), k <= 2 (outer
        // products), small outputs, the blocked kernels, the blocked kernels on rayon's pool.
        for (m, k, n) in [
            (1, 1, 1),
            (1, 17, 33),
            (33, 17, 1),
            (5, 2, 7),
            (3, 5, 7),
            (17, 33, 65),
            (64, 288, 121),
            (200, 200, 200),
        ] {
            let (a, b) = (values(m * k, 1), values(k * n, 2));
            let lhs = MatRef::row_major(&a, m, k).unwrap();
            let rhs = MatRef::row_major(&b, k, n).unwrap();
            assert_close(&product(lhs, rhs).unwrap(), &naive(lhs, rhs), k);
        }
    }

    #[test]
    fn transposed_and_strided_views_are_read_as_described() {
        // lhs^T with lhs stored [k, m]; rhs every other column of a [k, 2n] matrix.
        let (m, k, n) = (9, 31, 13);
        let (a, b) = (values(k * m, 3), values(k * 2 * n, 4));
        let lhs = MatRef::row_major(&a, k, m).unwrap().transpose();
        let rhs = MatRef::strided(&b, k, n, 2 * n, 2).unwrap();
        assert_eq!((lhs.rows(), lhs.cols()), (m, k));
        let got = product(lhs, rhs).unwrap();
        let mut want = Vec::new();
        for i in 0..m {
            for j in 0..n {
                let sum: f64 = (0..k)
                    .map(|p| f64::from(a[p * m + i]) * f64::from(b[p * 2 * n + 2 * j]))
                    .sum();
                want.push(sum as f32);
            }
        }
        assert_close(&got, &want, k);
    }

    #[test]
    fn transposed_operands_on_every_path() {
        // The weight gradient's layout (rhs transposed) on a small output, and a transposed
        // lhs against a single column; then both transposed on a large output.
        for (m, k, n) in [(8, 40, 16), (17, 33, 1), (70, 90, 80)] {
            let (a, b) = (values(k * m, 7), values(n * k, 8));
            let lhs = MatRef::row_major(&a, k, m).unwrap().transpose();
            let rhs = MatRef::row_major(&b, n, k).unwrap().transpose();
            assert_close(&product(lhs, rhs).unwrap(), &naive(lhs, rhs), k);
        }
    }

    #[test]
    fn products_too_large_to_allocate_are_refused_before_any_work() {
        // Rows that never step (stride 0) let one value stand for a matrix of any height.
        let one = [1.0f32];
        let tall = MatRef::strided(&one, 1 << 40, 1, 0, 1).unwrap();
        let wide = MatRef::strided(&one, 1, 1 << 40, 1, 0).unwrap();
        assert_eq!(
            product(tall, wide),
            Err(ShapeError::TooLarge {
                rows: 1 << 40,
                cols: 1 << 40
            })
        );
    }

    #[test]
    fn empty_sums_are_zero_and_empty_products_empty() {
        let none: [f32; 0] = [];
        let lhs = MatRef::row_major(&none, 2, 0).unwrap();
        let rhs = MatRef::row_major(&none, 0, 3).unwrap();
        assert_eq!(product(lhs, rhs).unwrap(), vec![0.0; 6]);
        let lhs = MatRef::row_major(&none, 0, 4).unwrap();
        let b = values(8, 5);
        let rhs = MatRef::row_major(&b, 4, 2).unwrap();
        assert!(product(lhs, rhs).unwrap().is_empty());
    }

    #[test]
    fn views_past_their_values_and_mismatched_shapes_are_refused() {
        let a = values(12, 6);
        assert!(matches!(
            MatRef::row_major(&a, 4, 4),
            Err(ShapeError::OutOfBounds { len: 12, .. })
        ));
        assert!(MatRef::strided(&a, 2, 2, 10, 2).is_err(), "last index 12");
        assert!(MatRef::strided(&a, 2, 2, 9, 2).is_ok(), "last index 11");
        assert!(
            MatRef::strided(&a, 2, 2, usize::MAX, 1).is_err(),
            "overflow"
        );
        // A stride of a single row or column is never used.
        assert!(MatRef::strided(&a, 1, 12, usize::MAX, 1).is_ok());
        let lhs = MatRef::row_major(&a, 3, 4).unwrap();
        let rhs = MatRef::row_major(&a, 3, 4).unwrap();
        assert_eq!(
            product(lhs, rhs),
            Err(ShapeError::Inner {
                lhs_cols: 4,
                rhs_rows: 3
            })
        );
    }
}
