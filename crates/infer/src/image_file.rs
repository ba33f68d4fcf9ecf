//! Reading and writing picture files, with errors that name the file.

use std::io::{Cursor, Read};
use std::path::Path;

use image::DynamicImage;

use crate::InferError;
use crate::image_decode::MAX_IMAGE_FILE_BYTES;

/// Opens an image file (PNG or JPEG, decided by content) within the limits of
/// [`crate::image_decode`]: a file over [`MAX_IMAGE_FILE_BYTES`] is refused, an image whose header
/// declares too many pixels before its pixels are decoded.
///
/// The file is read into memory first, with a bound: its length on disk says nothing about a
/// pipe or a device (`/dev/zero` has length 0), and the JPEG decoder reads its input whole anyway.
pub fn open_image(path: &Path) -> Result<DynamicImage, InferError> {
    let read_error = |source| InferError::Read {
        path: path.into(),
        source,
    };
    let too_large = |size| InferError::ImageFileTooLarge {
        path: path.into(),
        size,
        limit: MAX_IMAGE_FILE_BYTES,
    };
    let file = data::regular::open_regular(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > MAX_IMAGE_FILE_BYTES {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_IMAGE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_IMAGE_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    crate::image_decode::decode_reader(Cursor::new(bytes.as_slice()), path)
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
