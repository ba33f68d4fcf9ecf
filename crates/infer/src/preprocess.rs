//! Framing a decoded picture like an MNIST digit: the pixels of an [`image::DynamicImage`]
//! handed to the codec-free [`::preprocess`] crate, which the server and the browser build use
//! too (its documentation lists the steps).

use image::DynamicImage;
use model::{IMAGE_SIZE, Pixels};
use preprocess::{Layout, Picture, PreprocessError};

use crate::InferError;

// The framing crate has no dependency on the model; its output must be the model's input.
const _: () = assert!(preprocess::SIDE == IMAGE_SIZE);

/// The MNIST-style 28x28 image of `image`, row-major.
///
/// 8-bit pictures are read in place; others (16-bit, float) are first converted to 8-bit RGBA,
/// as `image` converts them, which costs one copy of four bytes a pixel.
pub fn preprocess(image: &DynamicImage) -> Result<Pixels, InferError> {
    let (width, height) = (image.width(), image.height());
    let converted;
    let (bytes, layout): (&[u8], Layout) = match image {
        DynamicImage::ImageLuma8(gray) => (gray.as_raw(), Layout::Gray),
        DynamicImage::ImageLumaA8(gray) => (gray.as_raw(), Layout::GrayAlpha),
        DynamicImage::ImageRgb8(rgb) => (rgb.as_raw(), Layout::Rgb),
        DynamicImage::ImageRgba8(rgba) => (rgba.as_raw(), Layout::Rgba),
        other => {
            converted = other.to_rgba8();
            (converted.as_raw(), Layout::Rgba)
        }
    };
    let picture = Picture::new(bytes, width, height, layout).map_err(InferError::Picture)?;
    preprocess::frame(&picture).map_err(|e| match e {
        PreprocessError::NoInk => InferError::NoInk,
        other => InferError::Picture(other),
    })
}

#[cfg(test)]
mod tests {
    use image::{GrayImage, Luma, Rgb, RgbImage};

    use super::*;

    #[test]
    fn a_blank_picture_is_no_ink() {
        let blank = DynamicImage::ImageLuma8(GrayImage::from_pixel(28, 28, Luma([255])));
        assert!(matches!(preprocess(&blank), Err(InferError::NoInk)));
    }

    /// Every pixel format `image` decodes to frames as its 8-bit conversion does.
    #[test]
    fn sixteen_bit_and_float_pictures_frame_like_their_8_bit_conversion() {
        let mut rgb = RgbImage::from_pixel(40, 40, Rgb([240, 240, 240]));
        for y in 5..35 {
            for x in 17..23 {
                rgb.put_pixel(x, y, Rgb([10, 10, 10]));
            }
        }
        let rgb = DynamicImage::ImageRgb8(rgb);
        let expected = preprocess(&rgb).unwrap();
        for other in [
            DynamicImage::ImageRgb16(rgb.to_rgb16()),
            DynamicImage::ImageRgba16(rgb.to_rgba16()),
            DynamicImage::ImageRgb32F(rgb.to_rgb32f()),
            DynamicImage::ImageLuma16(rgb.to_luma16()),
        ] {
            assert_eq!(preprocess(&other).unwrap(), expected, "{:?}", other.color());
        }
    }
}
