//! Reading and writing picture files, with errors that name the file.

use std::path::Path;

use image::DynamicImage;

use crate::InferError;

/// Opens an image file (PNG or JPEG, decided by content).
pub fn open_image(path: &Path) -> Result<DynamicImage, InferError> {
    let reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|source| InferError::Read {
            path: path.into(),
            source,
        })?;
    reader.decode().map_err(|source| InferError::Image {
        path: path.into(),
        source,
    })
}

/// Writes `image` to `path`, in the format its extension names (`.png`).
pub fn save_image<P, C>(image: &image::ImageBuffer<P, C>, path: &Path) -> Result<(), InferError>
where
    P: image::PixelWithColorType,
    [P::Subpixel]: image::EncodableLayout,
    C: std::ops::Deref<Target = [P::Subpixel]>,
{
    image.save(path).map_err(|source| InferError::WriteImage {
        path: path.into(),
        source,
    })
}
