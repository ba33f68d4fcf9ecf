//! The weights as safetensors in PyTorch's layout and names, in float32 or float16.

use burn::store::{
    BurnToPyTorchAdapter, FloatCastAdapter, ModuleAdapter, ModuleSnapshot, SafetensorsStore,
};
use burn::tensor::DType;
use model::{MnistCnn, MnistCnnConfig};

use super::ExportError;
use crate::metadata::describe;

/// The float type the exported weights are stored in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WeightDType {
    /// float32: the weights exactly as trained.
    #[default]
    F32,
    /// float16 (IEEE half): half the size, each weight rounded to 11 significant bits. Loading
    /// converts back to float32 ([`crate::load_model`]); the network still computes in float32.
    F16,
}

impl WeightDType {
    fn burn(self) -> DType {
        match self {
            Self::F32 => DType::F32,
            Self::F16 => DType::F16,
        }
    }
}

/// `net` as a safetensors file of float32 weights (see [`safetensors_bytes_as`]).
pub fn safetensors_bytes(net: &MnistCnn, config: &MnistCnnConfig) -> Result<Vec<u8>, ExportError> {
    safetensors_bytes_as(net, config, WeightDType::F32)
}

/// `net` as a safetensors file: `conv1.weight [32, 1, 3, 3]`, `conv1.bias [32]`, ...,
/// `fc1.weight [512, 1600]` (PyTorch's `[out, in]`; Burn keeps `[in, out]`), ..., `fc2.bias [10]`,
/// in `dtype`, with [`describe`]'s entries and `format: pt` (what Hugging Face tools expect of
/// PyTorch weights) in the header's `__metadata__`.
pub fn safetensors_bytes_as(
    net: &MnistCnn,
    config: &MnistCnnConfig,
    dtype: WeightDType,
) -> Result<Vec<u8>, ExportError> {
    // Layout first, then the cast: every float tensor, whatever module holds it.
    let adapter = BurnToPyTorchAdapter.chain(FloatCastAdapter::to(dtype.burn()));
    let mut store = describe(config).into_iter().fold(
        SafetensorsStore::from_bytes(None)
            .with_to_adapter(adapter)
            .metadata("format", "pt"),
        |store, (key, value)| store.metadata(key, value),
    );
    net.save_into(&mut store)
        .map_err(ExportError::Safetensors)?;
    store.get_bytes().map_err(ExportError::Safetensors)
}
