//! Which CPU backend runs inference by default: measured, not assumed.
//!
//! Neither of Burn's CPU backends wins everywhere. A single image is a tiny forward pass, mostly
//! per-op overhead, and flex answers it sooner; a batch of 1000 is mostly the convolutions'
//! arithmetic, and ndarray gets through it sooner. So the device follows the workload: flex for
//! one image at a time, ndarray for batches. Training stays on flex, which trains much faster
//! than ndarray. The timings behind these choices are measured with crates/bench (`compare.sh`):
//! see crates/bench/README.md.

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
/// feature is compiled in; otherwise the faster compiled CPU backend for the workload.
pub fn default_device(workload: Workload) -> Device {
    if std::env::var_os("BURN_DEVICE").is_some() || cfg!(feature = "wgpu") {
        return Device::default();
    }
    match workload {
        // Burn 0.22 marks ndarray deprecated (to be removed); until then it is the faster
        // batch backend here, and without the `ndarray` feature batches go to flex.
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        Workload::Batches => Device::ndarray(),
        #[cfg(feature = "flex")]
        Workload::SingleImages => Device::flex(),
        #[allow(unreachable_patterns)]
        _ => Device::default(),
    }
}
