//! The draw-a-digit page and its JSON API.
//!
//! * `GET /` — one self-contained page (no CDN): a canvas to draw on, live probabilities, and
//!   the conv1 (26x26x32) and conv2 (11x11x64) feature maps of the drawing.
//! * `POST /api/predict[?maps=true]` — a PNG/JPEG body, or JSON `{"pixels": [784 numbers 0..255]}`
//!   (a 28x28 image, row-major). Both go through the same MNIST-style preprocessing as `infer`.
//!   Answers `{"label", "probabilities", "feature_maps"?}`; bad requests get a 4xx and
//!   `{"error": "..."}`.
//!
//! The model is loaded once and shared; inference runs on the blocking thread pool so that slow
//! requests never stall the async workers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use image::{DynamicImage, GrayImage, Luma};
use infer::{InferError, Predictor};
use model::{IMAGE_PIXELS, IMAGE_SIZE, NUM_CLASSES, Pixels, images_to_tensor};
use serde::{Deserialize, Serialize};

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 2 << 20;

const PAGE: &str = include_str!("page.html");

/// What every request shares.
pub struct AppState {
    /// The loaded model.
    pub predictor: Predictor,
}

/// The application's routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/api/predict", post(predict))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

#[derive(Deserialize)]
struct PredictQuery {
    #[serde(default)]
    maps: bool,
}

#[derive(Deserialize)]
struct PixelsRequest {
    pixels: Vec<f64>,
}

/// The answer of `/api/predict`.
#[derive(Serialize, Deserialize, Debug)]
pub struct PredictResponse {
    /// The most probable digit.
    pub label: u8,
    /// Probability of each digit.
    pub probabilities: [f32; NUM_CLASSES],
    /// With `?maps=true`: post-activation feature maps, each scaled to 0..255.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_maps: Option<FeatureMapsJson>,
}

/// Feature maps as `[channel][row * side + col]` gray levels.
#[derive(Serialize, Deserialize, Debug)]
pub struct FeatureMapsJson {
    /// Side of each conv1 map (26).
    pub conv1_side: usize,
    /// conv1 maps (32 of them).
    pub conv1: Vec<Vec<u8>>,
    /// Side of each conv2 map (11).
    pub conv2_side: usize,
    /// conv2 maps (64).
    pub conv2: Vec<Vec<u8>>,
}

/// A JSON error answer.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

async fn predict(
    State(state): State<Arc<AppState>>,
    Query(query): Query<PredictQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PredictResponse>, ApiError> {
    let body = body.map_err(|rejection| ApiError(rejection.status(), rejection.body_text()))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let image = match content_type.as_str() {
        "application/json" => pixels_image(&body)?,
        "image/png" | "image/jpeg" | "application/octet-stream" => {
            image::load_from_memory(&body)
                .map_err(|e| bad_request(format!("body is not a PNG or JPEG image: {e}")))?
        }
        "" => {
            return Err(ApiError(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "missing content type; send image/png, image/jpeg or application/json".into(),
            ));
        }
        other => {
            return Err(ApiError(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "unsupported content type {other}; send image/png, image/jpeg or application/json"
                ),
            ));
        }
    };
    let state = state.clone();
    tokio::task::spawn_blocking(move || answer(&state.predictor, &image, query.maps))
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map(Json)
}

fn pixels_image(body: &[u8]) -> Result<DynamicImage, ApiError> {
    let request: PixelsRequest =
        serde_json::from_slice(body).map_err(|e| bad_request(format!("invalid JSON: {e}")))?;
    if request.pixels.len() != IMAGE_PIXELS {
        return Err(bad_request(format!(
            "pixels must hold {IMAGE_PIXELS} numbers ({IMAGE_SIZE}x{IMAGE_SIZE}), got {}",
            request.pixels.len()
        )));
    }
    if let Some(v) = request.pixels.iter().find(|v| !(0.0..=255.0).contains(*v)) {
        return Err(bad_request(format!(
            "pixel values must be in 0..255, got {v}"
        )));
    }
    let side = IMAGE_SIZE as u32;
    let gray = GrayImage::from_fn(side, side, |x, y| {
        Luma([request.pixels[(y * side + x) as usize].round() as u8])
    });
    Ok(DynamicImage::ImageLuma8(gray))
}

fn answer(
    predictor: &Predictor,
    image: &DynamicImage,
    maps: bool,
) -> Result<PredictResponse, ApiError> {
    let pixels = infer::preprocess(image).map_err(|e| match e {
        InferError::NoInk => ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the image is blank: draw a digit".into(),
        ),
        other => bad_request(format!("{:#}", anyhow::Error::from(other))),
    })?;
    let prediction = predictor.predict(&pixels);
    let feature_maps = maps.then(|| feature_maps(predictor, &pixels));
    Ok(PredictResponse {
        label: prediction.label,
        probabilities: prediction.probabilities,
        feature_maps,
    })
}

fn feature_maps(predictor: &Predictor, pixels: &Pixels) -> FeatureMapsJson {
    let maps = predictor.net().features(images_to_tensor(
        std::slice::from_ref(pixels),
        predictor.device(),
    ));
    let to_gray = |t: burn::tensor::Tensor<4>| -> (usize, Vec<Vec<u8>>) {
        let [_, channels, side, _] = t.dims();
        let values: Vec<f32> = t
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .expect("float maps");
        let maps = values
            .chunks_exact(side * side)
            .take(channels)
            .map(|m| {
                let hi = m.iter().copied().fold(0.0f32, f32::max).max(1e-6);
                m.iter()
                    .map(|v| (255.0 * v.max(0.0) / hi).round() as u8)
                    .collect()
            })
            .collect();
        (side, maps)
    };
    let (conv1_side, conv1) = to_gray(maps.conv1);
    let (conv2_side, conv2) = to_gray(maps.conv2);
    FeatureMapsJson {
        conv1_side,
        conv1,
        conv2_side,
        conv2,
    }
}
