//! Request bodies to images. Pictures go through [`infer::decode_image`], which checks the
//! declared size from the header before any pixel is decoded (a 96 KB PNG declaring 23000x23000
//! pixels once took 2 GB and 19 s of CPU here) and caps what the decoder may allocate.

use axum::http::StatusCode;
use image::{DynamicImage, GrayImage, Luma};
use model::{IMAGE_PIXELS, IMAGE_SIZE};
use serde::Deserialize;

use crate::ApiError;

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

/// A PNG or JPEG within infer's decoding limits: 413 if it declares too many pixels or would
/// need too much memory, 400 if it is not a readable image.
pub fn decode_image(body: &[u8]) -> Result<DynamicImage, ApiError> {
    infer::decode_image(body).map_err(|e| {
        let ApiError(status, message) = e.into();
        ApiError::new(
            status,
            format!("body is not a PNG or JPEG image within the limits: {message}"),
        )
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
