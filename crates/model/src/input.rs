//! The model's input contract: what a digit is, and how its pixels become the tensor
//! [`crate::MnistCnn::forward`] expects.
//!
//! It lives with the model, not with the data or inference code, because the weights only mean
//! something for inputs prepared exactly this way: a consumer of this crate needs nothing else to
//! feed the network correctly. Training (the `data` crate's batcher), inference and the web page
//! all call [`images_to_tensor`]; exporters record [`MEAN`] and [`STD`] next to the weights.

use burn::tensor::{Device, Tensor, TensorData};

/// Side of an MNIST image, in pixels.
pub const IMAGE_SIZE: usize = 28;

/// Pixels of one image: `IMAGE_SIZE * IMAGE_SIZE` = 784.
pub const IMAGE_PIXELS: usize = IMAGE_SIZE * IMAGE_SIZE;

/// Classes the network tells apart: the digits 0-9. Fixed: the output layer, the predictions,
/// the confusion matrix and the web page are all sized by it.
pub const NUM_CLASSES: usize = 10;

/// One digit as the network sees it: 28x28 grey levels, row-major, white ink (255) on a black
/// background (0), centred the way MNIST's digits are.
pub type Pixels = [u8; IMAGE_PIXELS];

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

/// The normalised value of one pixel: `(pixel / 255 - MEAN) / STD`.
pub fn normalize(pixel: u8) -> f32 {
    NORMALISED[pixel as usize]
}

/// Images as the network's input: a normalised `[images.len(), 1, 28, 28]` tensor on `device`,
/// built from one host buffer and uploaded in one go.
pub fn images_to_tensor(images: &[Pixels], device: &Device) -> Tensor<4> {
    let values: Vec<f32> = images
        .as_flattened()
        .iter()
        .map(|&p| normalize(p))
        .collect();
    Tensor::from_data(
        TensorData::new(values, [images.len(), 1, IMAGE_SIZE, IMAGE_SIZE]),
        device,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_is_mnists() {
        for p in [0u8, 1, 128, 255] {
            let expected = (f32::from(p) / 255.0 - 0.1307) / 0.3081;
            assert!((normalize(p) - expected).abs() < 1e-6);
        }
    }

    #[test]
    fn tensor_keeps_image_order_and_layout() {
        let device = Device::flex();
        let mut a = [0u8; IMAGE_PIXELS];
        a[IMAGE_SIZE + 2] = 255; // row 1, column 2
        let b = [255u8; IMAGE_PIXELS];
        let t = images_to_tensor(&[a, b], &device);
        assert_eq!(t.dims(), [2, 1, IMAGE_SIZE, IMAGE_SIZE]);
        let v = t.into_data().try_into_vec::<f32>().expect("f32 tensor");
        assert_eq!(v[IMAGE_SIZE + 2], normalize(255));
        assert_eq!(v[0], normalize(0));
        assert_eq!(v[IMAGE_PIXELS], normalize(255));
    }
}
