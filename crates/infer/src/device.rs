//! Which CPU backend runs inference by default: measured, not assumed.
//!
//! With Burn's own ops neither CPU backend won everywhere: flex answered a single image sooner,
//! ndarray got through a batch of 1000 sooner. With the project's flex kernels (`model::kernels`,
//! the convolutions and pools; `infer`'s `flex` feature compiles them in) flex is the faster for
//! both: `compare.sh` on 2026-11-28, batch 1000: 7,882 vs 6,666 img/s with 2 threads, 6,796 vs
//! 4,261 with 1; one image: 0.31 vs 0.83 ms median. So flex runs every workload where it is
//! compiled in, and ndarray only in builds without it. Training stays on flex, which trains much
//! faster than ndarray. The timings behind these choices are measured with crates/bench
//! (`compare.sh`): see crates/bench/README.md.

use burn::tensor::Device;

/// What the predictions are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Many images per call (evaluation of a test set).
    Batches,
    /// One image, or a handful, per call (a web request, a few files).
    SingleImages,
}

/// The device for `workload`: what `BURN_DEVICE` names if it is set; the GPU when the `wgpu`
/// feature is compiled in; otherwise flex (with the project's kernels) for every workload, and
/// ndarray in builds without flex. The workload is kept in the signature because the answer has
/// depended on it and is measured again whenever the kernels change.
pub fn default_device(workload: Workload) -> Device {
    if std::env::var_os("BURN_DEVICE").is_some() || cfg!(feature = "wgpu") {
        return Device::default();
    }
    match workload {
        #[cfg(feature = "flex")]
        Workload::Batches | Workload::SingleImages => Device::flex(),
        // Burn 0.22 marks ndarray deprecated (to be removed).
        #[cfg(all(not(feature = "flex"), feature = "ndarray"))]
        #[allow(deprecated)]
        Workload::Batches | Workload::SingleImages => Device::ndarray(),
        #[allow(unreachable_patterns)]
        _ => Device::default(),
    }
}
