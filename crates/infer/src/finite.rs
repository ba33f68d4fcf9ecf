//! Refusing weights that are NaN or infinite.
//!
//! A record with a NaN weight loads fine (the shapes are right) and then answers NaN for every
//! image: probabilities that are not numbers, a label chosen by the order NaNs compare in, exit
//! status 0. A diverged training run or a corrupted file makes such records, so every load path
//! checks the weights once, after loading and before the model answers anything.

use std::path::Path;

use burn::store::ModuleSnapshot;
use burn::tensor::activation::softmax;
use burn::tensor::{DType, Device};
use model::{IMAGE_PIXELS, MnistCnn, images_to_tensor};

use crate::InferError;

/// The first weight of `net` that is not finite, as an error naming `path` and the tensor; then
/// the probabilities of a blank and a fully inked image (on `device`), which must be finite too:
/// finite weights can still be too large to compute with in float32 (1e30 overflows to
/// infinity in the first layer, and the probabilities become NaN), found by the
/// `safetensors_load` fuzz target.
pub(crate) fn check_finite(net: &MnistCnn, path: &Path, device: &Device) -> Result<(), InferError> {
    for tensor in net.collect(None, None, false) {
        // The bytes of a snapshot are little-endian; the network computes in float32 (float64
        // when a backend is built so), the only float types it is built in.
        let Ok(bytes) = tensor.to_bytes() else {
            continue;
        };
        let first_bad = match tensor.dtype {
            DType::F32 => bytes
                .as_chunks::<4>()
                .0
                .iter()
                .map(|b| f32::from_le_bytes(*b))
                .find(|v| !v.is_finite()),
            DType::F64 => bytes
                .as_chunks::<8>()
                .0
                .iter()
                .map(|b| f64::from_le_bytes(*b))
                .find(|v| !v.is_finite())
                .map(|v| v as f32),
            _ => None,
        };
        if let Some(value) = first_bad {
            return Err(InferError::NonFiniteWeight {
                path: path.into(),
                tensor: tensor.name,
                value,
            });
        }
    }
    let probes = [[0u8; IMAGE_PIXELS], [255u8; IMAGE_PIXELS]];
    let probabilities = softmax(net.forward(images_to_tensor(&probes, device)), 1)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap_or_default();
    if let Some(&value) = probabilities.iter().find(|v| !v.is_finite()) {
        return Err(InferError::NonFiniteOutput {
            path: path.into(),
            value,
        });
    }
    Ok(())
}
