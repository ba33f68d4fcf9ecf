//! Which device runs inference by default. flex, with the project's kernels (`model::kernels`,
//! the convolutions and pools), is the faster CPU backend for a single image and for batches
//! alike (`crates/bench/compare.sh` measures both; see crates/bench/README.md), so one rule
//! serves every workload; ndarray runs only in builds without flex.

use burn::tensor::Device;

/// The inference device: what `BURN_DEVICE` names if it is set; the GPU when the `wgpu` feature
/// is compiled in; otherwise flex, and ndarray in builds without flex.
pub fn default_device() -> Device {
    if std::env::var_os("BURN_DEVICE").is_some() || cfg!(feature = "wgpu") {
        return Device::default();
    }
    #[cfg(feature = "flex")]
    return Device::flex();
    // Burn 0.22 marks ndarray deprecated (to be removed).
    #[cfg(all(not(feature = "flex"), feature = "ndarray"))]
    #[allow(deprecated)]
    return Device::ndarray();
    #[allow(unreachable_code)]
    Device::default()
}
