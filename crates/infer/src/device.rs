//! Which CPU backend runs inference by default: measured, not assumed.
//!
//! On a 2-core x86 machine (crates/bench, `compare.sh`), Burn's flex backend answers one image
//! fastest (~0.4 ms against ndarray's ~0.75 ms) while ndarray classifies batches of 1000 about
//! twice as fast (~7,000 against ~3,900 img/s). Training stays on flex, which trains ~20x faster
//! than ndarray.

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
