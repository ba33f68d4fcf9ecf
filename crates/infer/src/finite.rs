//! Refusing weights that are NaN or infinite.
//!
//! A record with a NaN weight loads fine (the shapes are right) and then answers NaN for every
//! image: probabilities that are not numbers, a label chosen by the order NaNs compare in, exit
//! status 0. A diverged training run or a corrupted file makes such records, so every load path
//! checks the weights once, after loading and before the model answers anything.

use std::path::Path;

use burn::store::ModuleSnapshot;
use burn::tensor::DType;
use model::MnistCnn;

use crate::InferError;

/// The first weight of `net` that is not finite, as an error naming `path` and the tensor.
pub(crate) fn check_finite(net: &MnistCnn, path: &Path) -> Result<(), InferError> {
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
    Ok(())
}
