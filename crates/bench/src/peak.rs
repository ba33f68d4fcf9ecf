//! The machine's limit for this workload: the best GFLOP/s of a 2048x2048 f32 matrix product on
//! the flex device, whose matmul is the `gemm` crate on rayon's pool (its size is the thread
//! count: `RAYON_NUM_THREADS`), with the AVX-512 kernels where the CPU has them: the `gemm` call
//! the network's products make (the convolution kernel's through the workspace's `sgemm`, the
//! rest through flex). `compare.sh` holds a training step's rate (its products' FLOPs per image,
//! [`model::shape::ProductFlops`], × img/s) against it and against numpy's BLAS at the same
//! thread count. The timed product includes flex's extra output copy (one zeroed 16 MiB
//! allocation copied into another, next to ~75 ms of arithmetic at 1 thread), so the peak is,
//! if anything, slightly low.

use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};

/// Side of the square matrices: large enough that packing and threading costs vanish, small
/// enough (3 × 16 MiB) to take a fraction of a second per product.
pub const SIDE: usize = 2048;

/// Best GFLOP/s over `runs` products (after one unmeasured), `2·SIDE³` FLOPs each.
pub fn sgemm_gflops(runs: usize) -> f64 {
    let n = SIDE;
    let device = Device::flex();
    // Values in [-1, 1): the rate does not depend on them, but denormals and NaNs would.
    let fill = |seed: usize| -> Tensor<2> {
        let values: Vec<f32> = (0..n * n)
            .map(|i| ((i * 7919 + seed) % 2000) as f32 / 1000.0 - 1.0)
            .collect();
        Tensor::from_data(TensorData::new(values, [n, n]), &device)
    };
    let (a, b) = (fill(1), fill(2));
    let product = || -> Tensor<2> { a.clone().matmul(b.clone()) };
    std::hint::black_box(product());
    let best = (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            // flex runs eagerly: the product is computed when `matmul` returns.
            std::hint::black_box(product());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    2.0 * (n as f64).powi(3) / best / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flex_matmul_is_the_matrix_product() {
        // What the peak times is the real product: a small one against plain dot products.
        let n = 37;
        let a: Vec<f32> = (0..n * n).map(|i| (i % 11) as f32 - 5.0).collect();
        let b: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 - 3.0).collect();
        let device = Device::flex();
        let tensor =
            |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), [n, n]), &device);
        let c: Vec<f32> = tensor(&a)
            .matmul(tensor(&b))
            .into_data()
            .try_to_vec()
            .expect("f32");
        for (i, j) in [(0, 0), (3, 17), (36, 36), (20, 1)] {
            let expected: f32 = (0..n).map(|k| a[i * n + k] * b[k * n + j]).sum();
            assert_eq!(c[i * n + j], expected, "c[{i}][{j}]");
        }
    }
}
