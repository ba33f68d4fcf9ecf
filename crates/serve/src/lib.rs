//! The draw-a-digit page and its JSON API.
//!
//! * `GET /` — one self-contained page (no CDN) that teaches the lecture: a canvas to draw on,
//!   the 28x28 image the network sees, then every stage (conv1 maps, pooled maps, conv2 maps,
//!   pooled maps, the hidden units, the 10 outputs) with its shape, the formula that gives the
//!   shape, and the parameters of its layer.
//! * `GET /api/model` — those shapes, formulas and parameter counts, computed from the served
//!   model's configuration ([`ModelInfo`]): the page shows whatever model is served.
//! * `POST /api/predict[?maps=true][&stages=true]` — a PNG/JPEG body, or JSON
//!   `{"pixels": [784 numbers 0..255]}` (a 28x28 image, row-major). Both go through the same
//!   MNIST-style preprocessing as `infer`. Answers `{"label", "probabilities", "feature_maps"?,
//!   "stages"?}`; bad requests get a 4xx and `{"error": "..."}`.
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
use model::{IMAGE_PIXELS, IMAGE_SIZE, NUM_CLASSES};
use serde::{Deserialize, Serialize};

mod activations;
pub mod architecture;

use activations::Activations;
pub use activations::{FeatureMapsJson, StageValues};
pub use architecture::{ModelInfo, StageInfo};

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
        .route("/api/model", get(model_info))
        .route("/api/predict", post(predict))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

#[derive(Deserialize)]
struct PredictQuery {
    #[serde(default)]
    maps: bool,
    #[serde(default)]
    stages: bool,
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
    /// With `?stages=true`: every stage from the input to the outputs, as gray levels. Its size
    /// is set by the model (~38,000 numbers for the lecture's), not by the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<StageValues>>,
}

async fn model_info(State(state): State<Arc<AppState>>) -> Json<ModelInfo> {
    Json(ModelInfo::of(state.predictor.config()))
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
    tokio::task::spawn_blocking(move || answer(&state.predictor, &image, &query))
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
    query: &PredictQuery,
) -> Result<PredictResponse, ApiError> {
    let pixels = infer::preprocess(image).map_err(|e| match e {
        InferError::NoInk => ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the image is blank: draw a digit".into(),
        ),
        other => bad_request(format!("{:#}", anyhow::Error::from(other))),
    })?;
    let prediction = predictor.predict(&pixels);
    let activations = (query.maps || query.stages).then(|| Activations::of(predictor, &pixels));
    let activations = activations.as_ref();
    Ok(PredictResponse {
        label: prediction.label,
        probabilities: prediction.probabilities,
        feature_maps: activations
            .filter(|_| query.maps)
            .map(Activations::feature_maps),
        stages: activations
            .filter(|_| query.stages)
            .map(|a| a.stages(&pixels, &prediction.probabilities)),
    })
}
