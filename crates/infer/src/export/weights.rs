//! The weights as safetensors in PyTorch's layout and names.

use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};
use model::{MnistCnn, MnistCnnConfig};

use super::ExportError;
use crate::metadata::describe;

/// `net` as a safetensors file: `conv1.weight [32, 1, 3, 3]`, `conv1.bias [32]`, ...,
/// `fc1.weight [512, 1600]` (PyTorch's `[out, in]`; Burn keeps `[in, out]`), ..., `fc2.bias [10]`,
/// float32, with [`describe`]'s entries and `format: pt` (what Hugging Face tools expect of
/// PyTorch weights) in the header's `__metadata__`.
pub fn safetensors_bytes(net: &MnistCnn, config: &MnistCnnConfig) -> Result<Vec<u8>, ExportError> {
    let mut store = describe(config).into_iter().fold(
        SafetensorsStore::from_bytes(None)
            .with_to_adapter(BurnToPyTorchAdapter)
            .metadata("format", "pt"),
        |store, (key, value)| store.metadata(key, value),
    );
    net.save_into(&mut store)
        .map_err(ExportError::Safetensors)?;
    store.get_bytes().map_err(ExportError::Safetensors)
}
