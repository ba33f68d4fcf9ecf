//! Turns items into tensors: one flat `f32` buffer per batch, normalised with MNIST's
//! training-set mean and standard deviation, uploaded to the device in one go.

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::MnistItem;
use crate::idx::PIXELS;

/// Mean of MNIST's training pixels, scaled to [0, 1].
pub const MEAN: f32 = 0.1307;
/// Standard deviation of MNIST's training pixels, scaled to [0, 1].
pub const STD: f32 = 0.3081;

/// `(p / 255 - MEAN) / STD` for every byte value, so a batch costs one lookup per pixel.
const NORMALISED: [f32; 256] = {
    let mut table = [0.0f32; 256];
    let mut p = 0;
    while p < 256 {
        table[p] = (p as f32 / 255.0 - MEAN) / STD;
        p += 1;
    }
    table
};

/// The normalised value of one pixel: `(pixel / 255 - 0.1307) / 0.3081`.
pub fn normalize(pixel: u8) -> f32 {
    NORMALISED[pixel as usize]
}

/// `count` 28x28 images (`count * 784` pixels, row-major) as a normalised `[count, 1, 28, 28]`
/// tensor. The one place where pixels become model input, for training and inference alike.
pub fn images_to_tensor(pixels: &[u8], device: &Device) -> Tensor<4> {
    let count = pixels.len() / PIXELS;
    let values: Vec<f32> = pixels.iter().map(|&p| normalize(p)).collect();
    Tensor::from_data(TensorData::new(values, [count, 1, 28, 28]), device)
}

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
        let mut pixels = Vec::with_capacity(items.len() * PIXELS);
        let mut labels = Vec::with_capacity(items.len());
        for item in &items {
            pixels.extend_from_slice(&item.image);
            labels.push(item.label as i64);
        }
        MnistBatch {
            images: images_to_tensor(&pixels, device),
            targets: Tensor::from_data(TensorData::new(labels, [items.len()]), device),
        }
    }
}
