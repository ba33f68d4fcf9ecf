//! Decoding untrusted PNG and JPEG bytes with bounded memory.
//!
//! A picture file says how large it is in its header, and a decoder allocates what the header
//! says: a 96 KB 1-bit PNG can declare 23000x23000 pixels (half a gigabyte of gray levels, two
//! of RGBA), a 218-byte truncated JPEG the same. So the declared size is checked against
//! [`MAX_IMAGE_SIDE`] and [`MAX_DECODED_BYTES`] from the header, before any pixel is decoded,
//! and the decoder then runs under the same limits (the `image` crate's [`image::Limits`],
//! `png`'s own limit for PNGs).
//!
//! PNGs are decoded with the `png` crate directly rather than through `image`, because `image`
//! asks `png` to keep the ancillary chunks: an `iCCP` colour profile or a `zTXt` text chunk is
//! inflated whole (a 510 KB PNG held a profile that inflated to a gigabyte). A digit needs
//! neither, so both are skipped unread. JPEGs go through `image`'s decoder (zune-jpeg), which
//! reads the frame header first.

use std::io::{BufRead, Cursor, Seek};
use std::path::Path;

use image::error::{DecodingError, ImageFormatHint};
use image::{
    DynamicImage, GrayAlphaImage, GrayImage, ImageDecoder, ImageError, ImageFormat, ImageReader,
    Limits, RgbImage, RgbaImage,
};

use crate::InferError;

/// The most pixels an image may have per side. A phone photo is about 4,000 px wide; the digit
/// ends up 20 px tall, so nothing larger is needed, and 4,096 x 4,096 RGBA is exactly
/// [`MAX_DECODED_BYTES`].
pub const MAX_IMAGE_SIDE: u32 = 4096;

/// The most bytes the decoded pixels of one image may take (64 MiB: a 4,096 x 4,096 RGBA image,
/// or a 16-bit RGB photo of about 2,900 x 2,900). With the gray copy that preprocessing makes
/// (a quarter of this at most), one image costs under 100 MiB however its file is made.
pub const MAX_DECODED_BYTES: u64 = 64 << 20;

/// The largest image file read, in bytes (64 MiB). An image within the pixel limits compresses
/// to less than this; the whole file is in memory while it is decoded (JPEG) or its chunks are
/// (PNG), so this bounds what a huge file costs before its header has been judged.
pub const MAX_IMAGE_FILE_BYTES: u64 = 64 << 20;

/// What [`decode_image`] names in its errors: the bytes came from no file.
pub const IMAGE_DATA_NAME: &str = "image data";

/// The `image` crate's limits of this module: [`MAX_IMAGE_SIDE`] per side and
/// [`MAX_DECODED_BYTES`] of allocation.
pub fn image_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    limits
}

/// Decodes a PNG or JPEG held in memory (an HTTP body, a fuzzer's input) within the limits of
/// this module; errors name [`IMAGE_DATA_NAME`]. This is the one decoding path of the crate:
/// [`crate::open_image`] reads files through it too.
pub fn decode_image(bytes: &[u8]) -> Result<DynamicImage, InferError> {
    let size = bytes.len() as u64;
    if size > MAX_IMAGE_FILE_BYTES {
        return Err(InferError::ImageFileTooLarge {
            path: IMAGE_DATA_NAME.into(),
            size,
            limit: MAX_IMAGE_FILE_BYTES,
        });
    }
    decode_reader(Cursor::new(bytes), Path::new(IMAGE_DATA_NAME))
}

/// Decodes the PNG or JPEG that `reader` holds (told by its content); errors name `path`.
pub(crate) fn decode_reader<R: BufRead + Seek>(
    reader: R,
    path: &Path,
) -> Result<DynamicImage, InferError> {
    let image_error = |source| InferError::Image {
        path: path.into(),
        source,
    };
    let reader = ImageReader::new(reader)
        .with_guessed_format()
        .map_err(|source| InferError::Read {
            path: path.into(),
            source,
        })?;
    match reader.format() {
        Some(ImageFormat::Png) => decode_png(reader.into_inner(), path),
        Some(ImageFormat::Jpeg) => decode_jpeg(reader, path),
        _ => Err(image_error(ImageError::Unsupported(
            image::error::UnsupportedError::from_format_and_kind(
                ImageFormatHint::Unknown,
                image::error::UnsupportedErrorKind::Format(ImageFormatHint::Unknown),
            ),
        ))),
    }
}

/// Refuses a declared size over the limits: `bytes_per_pixel` of decoded output.
fn check_declared(
    path: &Path,
    width: u32,
    height: u32,
    bytes_per_pixel: u64,
) -> Result<(), InferError> {
    if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(InferError::ImageTooLarge {
            path: path.into(),
            width,
            height,
            limit: MAX_IMAGE_SIDE,
        });
    }
    let bytes = u64::from(width) * u64::from(height) * bytes_per_pixel;
    if bytes > MAX_DECODED_BYTES {
        return Err(InferError::ImageMemory {
            path: path.into(),
            width,
            height,
            bytes: Some(bytes),
            limit: MAX_DECODED_BYTES,
        });
    }
    Ok(())
}

/// A PNG: the header checked first, ancillary chunks skipped, palettes and low bit depths
/// expanded and 16-bit samples cut to 8 (the network sees 8-bit gray levels).
fn decode_png<R: BufRead + Seek>(reader: R, path: &Path) -> Result<DynamicImage, InferError> {
    // `(width, height)`: the declared size, once the header is read.
    let png_error = |err: png::DecodingError, (width, height): (u32, u32)| match err {
        png::DecodingError::IoError(source) => InferError::Read {
            path: path.into(),
            source,
        },
        png::DecodingError::LimitsExceeded => InferError::ImageMemory {
            path: path.into(),
            width,
            height,
            bytes: None,
            limit: MAX_DECODED_BYTES,
        },
        other => InferError::Image {
            path: path.into(),
            source: ImageError::Decoding(DecodingError::new(ImageFormat::Png.into(), other)),
        },
    };
    let limits = png::Limits {
        bytes: usize::try_from(MAX_DECODED_BYTES).unwrap_or(usize::MAX),
    };
    let mut decoder = png::Decoder::new_with_limits(reader, limits);
    decoder.set_ignore_iccp_chunk(true);
    decoder.set_ignore_text_chunk(true);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    // IHDR only: the size is judged before any other chunk is read.
    let header = decoder
        .read_header_info()
        .map_err(|e| png_error(e, (0, 0)))?;
    let (width, height) = (header.width, header.height);
    // After EXPAND, at most 4 bytes a pixel (RGBA, or a palette with transparency).
    check_declared(path, width, height, 4)?;
    let mut reader = decoder
        .read_info()
        .map_err(|e| png_error(e, (width, height)))?;
    let size = reader.output_buffer_size().ok_or(InferError::ImageMemory {
        path: path.into(),
        width,
        height,
        bytes: None,
        limit: MAX_DECODED_BYTES,
    })?;
    let mut buffer = vec![0; size];
    let frame = reader
        .next_frame(&mut buffer)
        .map_err(|e| png_error(e, (width, height)))?;
    buffer.truncate(frame.buffer_size());
    let (color, depth) = reader.output_color_type();
    let image = match (color, depth) {
        (png::ColorType::Grayscale, png::BitDepth::Eight) => {
            GrayImage::from_raw(width, height, buffer).map(DynamicImage::ImageLuma8)
        }
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => {
            GrayAlphaImage::from_raw(width, height, buffer).map(DynamicImage::ImageLumaA8)
        }
        (png::ColorType::Rgb, png::BitDepth::Eight) => {
            RgbImage::from_raw(width, height, buffer).map(DynamicImage::ImageRgb8)
        }
        (png::ColorType::Rgba, png::BitDepth::Eight) => {
            RgbaImage::from_raw(width, height, buffer).map(DynamicImage::ImageRgba8)
        }
        _ => None,
    };
    image.ok_or_else(|| InferError::Image {
        path: path.into(),
        source: ImageError::Decoding(DecodingError::new(
            ImageFormat::Png.into(),
            format!("unexpected pixel layout {color:?} {depth:?} for {width}x{height}"),
        )),
    })
}

/// A JPEG: `image`'s decoder reads the frame header when it is made; the declared size is
/// checked before the scan is decoded.
fn decode_jpeg<R: BufRead + Seek>(
    mut reader: ImageReader<R>,
    path: &Path,
) -> Result<DynamicImage, InferError> {
    let image_error = |source| InferError::Image {
        path: path.into(),
        source,
    };
    // The side limits are left to the check below, which names the declared size; the
    // allocation limit holds from the start.
    let mut header_limits = Limits::no_limits();
    header_limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(header_limits);
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    let (width, height) = decoder.dimensions();
    check_declared(
        path,
        width,
        height,
        u64::from(decoder.color_type().bytes_per_pixel()),
    )?;
    decoder.set_limits(image_limits()).map_err(image_error)?;
    DynamicImage::from_decoder(decoder).map_err(image_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(image: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn every_png_layout_decodes_to_8_bits() {
        let gray16 =
            image::ImageBuffer::<image::Luma<u16>, _>::from_pixel(5, 3, image::Luma([0xABCD]));
        let cases = [
            DynamicImage::ImageLuma8(GrayImage::from_pixel(5, 3, image::Luma([7]))),
            DynamicImage::ImageLuma16(gray16),
            DynamicImage::ImageRgba8(RgbaImage::from_pixel(5, 3, image::Rgba([1, 2, 3, 4]))),
            DynamicImage::ImageRgb8(RgbImage::from_pixel(5, 3, image::Rgb([1, 2, 3]))),
            DynamicImage::ImageLumaA8(GrayAlphaImage::from_pixel(5, 3, image::LumaA([9, 8]))),
        ];
        for original in cases {
            let decoded = decode_image(&png_bytes(&original)).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (5, 3));
            assert_eq!(decoded.color().has_alpha(), original.color().has_alpha());
            assert_eq!(
                decoded.color().bytes_per_pixel(),
                original.color().channel_count()
            );
        }
    }

    #[test]
    fn jpeg_decodes() {
        let image = DynamicImage::ImageLuma8(GrayImage::from_pixel(16, 8, image::Luma([200])));
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Jpeg).unwrap();
        let decoded = decode_image(out.get_ref()).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (16, 8));
    }

    #[test]
    fn a_side_over_the_limit_is_refused() {
        let wide = DynamicImage::ImageLuma8(GrayImage::new(MAX_IMAGE_SIDE + 1, 1));
        let err = decode_image(&png_bytes(&wide)).unwrap_err();
        assert!(
            matches!(
                err,
                InferError::ImageTooLarge {
                    width: 4097,
                    height: 1,
                    limit: MAX_IMAGE_SIDE,
                    ..
                }
            ),
            "{err}"
        );
        let edge = DynamicImage::ImageLuma8(GrayImage::new(MAX_IMAGE_SIDE, 1));
        assert!(decode_image(&png_bytes(&edge)).is_ok());
    }

    #[test]
    fn junk_is_an_image_error() {
        for junk in [&b""[..], b"GIF89a", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"] {
            assert!(decode_image(junk).is_err(), "{junk:?}");
        }
    }
}
