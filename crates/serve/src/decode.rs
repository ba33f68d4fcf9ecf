//! Request bodies to images, with limits checked from the header before any pixel is decoded.
//!
//! A 96 KB PNG can declare 23000x23000 pixels; decoded whole it took 2 GB and 19 s of CPU. The
//! image crate's own [`image::Limits`] refuse it from the header (sides) and cap what the decoder
//! may allocate (total), so such a body costs microseconds.

use std::io::Cursor;

use axum::http::StatusCode;
use image::{DynamicImage, GrayImage, ImageError, ImageReader, Luma};
use model::{IMAGE_PIXELS, IMAGE_SIZE};
use serde::Deserialize;

use crate::ApiError;

/// Largest accepted image side, in pixels (a phone photo fits; a bomb does not).
pub const MAX_IMAGE_SIDE: u32 = 4096;
/// Most the decoder may allocate for one image.
pub const MAX_DECODE_BYTES: u64 = 64 << 20;

/// What a request body holds, from its content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// A PNG or JPEG file.
    Image,
    /// `{"pixels": [784 numbers]}`.
    Pixels,
}

impl BodyKind {
    /// The kind named by a `content-type` value (parameters ignored), or 415.
    pub fn from_content_type(content_type: Option<&str>) -> Result<Self, ApiError> {
        let essence = content_type
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Ok(Self::Pixels),
            "image/png" | "image/jpeg" | "application/octet-stream" => Ok(Self::Image),
            "" => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "missing content type; send image/png, image/jpeg or application/json",
            )),
            other => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "unsupported content type {other}; send image/png, image/jpeg or application/json"
                ),
            )),
        }
    }

    /// Decodes `body` (CPU work: call it on the blocking pool).
    pub fn decode(self, body: &[u8]) -> Result<DynamicImage, ApiError> {
        match self {
            Self::Image => decode_image(body),
            Self::Pixels => pixels_image(body),
        }
    }
}

/// A PNG or JPEG, refused with 413 if it declares more than [`MAX_IMAGE_SIDE`] per side or needs
/// more than [`MAX_DECODE_BYTES`].
pub fn decode_image(body: &[u8]) -> Result<DynamicImage, ApiError> {
    let not_an_image = |e: &dyn std::fmt::Display| {
        ApiError::bad_request(format!("body is not a PNG or JPEG image: {e}"))
    };
    let mut reader = ImageReader::new(Cursor::new(body))
        .with_guessed_format()
        .map_err(|e| not_an_image(&e))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        ImageError::Limits(limits) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("image too large ({limits}): at most {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE} pixels"),
        ),
        other => not_an_image(&other),
    })
}

#[derive(Deserialize)]
struct PixelsRequest {
    pixels: Vec<f64>,
}

fn pixels_image(body: &[u8]) -> Result<DynamicImage, ApiError> {
    let request: PixelsRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))?;
    if request.pixels.len() != IMAGE_PIXELS {
        return Err(ApiError::bad_request(format!(
            "pixels must hold {IMAGE_PIXELS} numbers ({IMAGE_SIZE}x{IMAGE_SIZE}), got {}",
            request.pixels.len()
        )));
    }
    if let Some(v) = request.pixels.iter().find(|v| !(0.0..=255.0).contains(*v)) {
        return Err(ApiError::bad_request(format!(
            "pixel values must be in 0..255, got {v}"
        )));
    }
    let side = IMAGE_SIZE as u32;
    let gray = GrayImage::from_fn(side, side, |x, y| {
        Luma([request.pixels[(y * side + x) as usize].round() as u8])
    });
    Ok(DynamicImage::ImageLuma8(gray))
}
