//! Turns items into tensors through the model's input contract ([`model::images_to_tensor`]):
//! one host buffer per batch, uploaded to the device in one go.

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{Device, Int, Tensor, TensorData};
use model::Pixels;

use crate::MnistItem;

/// A batch of digits.
#[derive(Clone, Debug)]
pub struct MnistBatch {
    /// `[batch, 1, 28, 28]`, normalised.
    pub images: Tensor<4>,
    /// `[batch]`, the digits.
    pub targets: Tensor<1, Int>,
}

/// Burn [`Batcher`] from [`MnistItem`]s to an [`MnistBatch`].
#[derive(Clone, Debug, Default)]
pub struct MnistBatcher;

impl Batcher<MnistItem, MnistBatch> for MnistBatcher {
    fn batch(&self, items: Vec<MnistItem>, device: &Device) -> MnistBatch {
        let images: Vec<Pixels> = items.iter().map(|item| item.image).collect();
        let labels: Vec<i64> = items.iter().map(|item| i64::from(item.label)).collect();
        MnistBatch {
            images: model::images_to_tensor(&images, device),
            targets: Tensor::from_data(TensorData::new(labels, [items.len()]), device),
        }
    }
}
