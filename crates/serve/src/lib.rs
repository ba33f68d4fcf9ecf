//! The draw-a-digit page and its JSON API.
//!
//! * `GET /` — one self-contained page (no CDN) that teaches the lecture: a canvas to draw on,
//!   the 28x28 image the network sees, then every stage (conv1 maps, pooled maps, conv2 maps,
//!   pooled maps, the hidden units, the 10 outputs) with its shape, the formula that gives the
//!   shape, and the parameters of its layer. Embedded, it computes here; with `--web-dir DIR`
//!   ([`WebDir`]) the static folder of `crates/web/build-site.sh` is served instead, and the
//!   same page computes in the browser (WebAssembly).
//! * `GET /api/model` — those shapes, formulas and parameter counts, computed from the served
//!   model's configuration ([`ModelInfo`], from `model`): the page shows whatever model is
//!   served.
//! * `POST /api/predict[?maps=true][&stages=true][&explain=true]` — a PNG/JPEG body, or JSON
//!   `{"pixels": [784 numbers 0..255]}` (a 28x28 image, row-major). Both go through the same
//!   MNIST-style preprocessing as `infer`. Answers `{"label", "probabilities", "feature_maps"?,
//!   "stages"?, "explanation"?}`; bad requests get a 4xx and `{"error": "..."}`. `explain` is
//!   the page's "why this digit" button ([`model::occlusion`]: 169 occluded copies in one
//!   batch), computed only when asked, so a plain prediction costs what it did.
//!
//! The model is loaded once and shared. Decoding runs on the blocking thread pool, at most one
//! job per core ([`Admission`]: 503 with `Retry-After` when saturated), so that a slow request
//! never stalls the async workers and memory does not grow with the clients. Plain predictions'
//! forwards run together in batches on one thread ([`ForwardBatcher`]), which waits for company
//! only while other requests are being decoded, and at most [`ServerLimits`]' `batch_wait`.
//! Images are refused from their header when too large ([`request_body`]). Bodies, request heads and
//! whole requests have time limits, connections are capped, and shutdown has a deadline
//! ([`server`]). Every error answer is JSON `{"error": "..."}` ([`errors`]).
//!
//! Layout: this file (the routes and the predict handler), [`server`] (the listener, connection
//! cap, timeouts and graceful shutdown: [`ServerLimits`]), [`admission`] (the bounded job
//! queue), [`batching`] (the batched forwards), [`request_body`] (request bodies to pictures, bounded), [`errors`] (JSON error bodies; the one map from `InferError` to a status),
//! `activations` (feature maps and stages as gray levels), [`web_dir`] (serving the WebAssembly
//! build's folder).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Html;
use axum::routing::{get, post};
use axum::{Json, Router};
use image::DynamicImage;
use infer::Predictor;
use model::{NUM_CLASSES, Occlusion};
use serde::{Deserialize, Serialize};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

mod activations;
pub mod admission;
pub mod batching;
pub mod errors;
pub mod request_body;
pub mod server;
pub mod web_dir;

use activations::Activations;
pub use activations::FeatureMapsJson;
pub use admission::Admission;
pub use batching::{BatchLimits, BatchStats, ForwardBatcher};
pub use errors::ApiError;
/// The stage description and values live in `model`, where the browser build reads them too.
pub use model::{ModelInfo, StageInfo, StageValues};
use request_body::BodyKind;
pub use server::ServerLimits;
pub use web_dir::{WebDir, WebDirError};

const PAGE: &str = include_str!("page.html");

/// What every request shares.
#[derive(Debug)]
pub struct AppState {
    /// The loaded model.
    pub predictor: Arc<Predictor>,
    /// The bounded queue in front of decoding.
    pub admission: Admission,
    /// Plain predictions' forwards, run in batches.
    pub batcher: ForwardBatcher,
}

impl AppState {
    /// `predictor` behind one decoding slot per core, with [`ServerLimits::DEFAULT`]'s batching.
    pub fn new(predictor: Predictor) -> std::io::Result<Self> {
        Self::with(predictor, Admission::per_core(), &ServerLimits::DEFAULT)
    }

    /// `predictor` behind `admission`, batching as `limits` say (this starts the batching
    /// thread).
    pub fn with(
        predictor: Predictor,
        admission: Admission,
        limits: &ServerLimits,
    ) -> std::io::Result<Self> {
        let predictor = Arc::new(predictor);
        let batcher = ForwardBatcher::spawn(predictor.clone(), limits.batching())?;
        Ok(Self {
            predictor,
            admission,
            batcher,
        })
    }
}

/// The application's routes with the embedded page (computing on the server), the
/// request-level limits of `limits` (body size, body time, whole-request time) and JSON error
/// bodies.
pub fn router(state: Arc<AppState>, limits: &ServerLimits) -> Router {
    router_with_page(state, limits, None)
}

/// [`router`], with the page from `web_dir` (the WebAssembly build, computing in the browser)
/// when given; the API is the same either way.
pub fn router_with_page(
    state: Arc<AppState>,
    limits: &ServerLimits,
    web_dir: Option<&WebDir>,
) -> Router {
    let api = Router::new()
        .route("/api/model", get(model_info))
        .route("/api/predict", post(predict));
    let routes = match web_dir {
        None => api
            .route("/", get(|| async { Html(PAGE) }))
            .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such page") }),
        Some(dir) => dir.serve_beside(api),
    };
    routes
        // tower-http's limit answers 413 from `content-length` before reading anything, and
        // caps chunked bodies as they come; axum's own (same size) would be a second one.
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(limits.body_limit))
        .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(axum::middleware::map_response(errors::json_error_bodies))
        .with_state(state)
}

#[derive(Deserialize)]
struct PredictQuery {
    #[serde(default)]
    maps: bool,
    #[serde(default)]
    stages: bool,
    #[serde(default)]
    explain: bool,
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
    /// With `?explain=true`: how much hiding each 4x4 patch lowers the chosen digit's
    /// probability, and that spread over the 28x28 input (occlusion sensitivity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Occlusion>,
}

async fn model_info(State(state): State<Arc<AppState>>) -> Json<ModelInfo> {
    Json(ModelInfo::of(state.predictor.config()))
}

async fn predict(
    State(state): State<Arc<AppState>>,
    query: Result<Query<PredictQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PredictResponse>, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let body = body.map_err(body_rejection)?;
    let kind = BodyKind::from_content_type(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    )?;
    let slot = state.admission.admit().await?;
    // Dropped with this future if the client leaves or the request times out.
    let client_gone = admission::ClientGone::default();
    let gone = client_gone.watch();
    // A plain prediction's forward is batched with other requests'; maps, stages and
    // explanations need this image's own activations and are computed in the job.
    let incoming =
        (!(query.maps || query.stages || query.explain)).then(|| state.batcher.incoming());
    let job = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let image = kind.decode(&body)?;
        drop(body);
        if gone.is_set() {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "the client went away",
            ));
        }
        match incoming {
            Some(incoming) => {
                let pixels = infer::preprocess(&image)?;
                state.batcher.enqueue(pixels, incoming).map(Job::Queued)
            }
            None => answer(&state.predictor, &image, &query).map(|a| Job::Answered(Box::new(a))),
        }
    });
    let job = job
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    drop(client_gone);
    let response = match job {
        Job::Answered(response) => *response,
        Job::Queued(pending) => PredictResponse::plain(ForwardBatcher::answer(pending).await?),
    };
    Ok(Json(response))
}

/// What the blocking job hands back: a whole answer, or an image waiting in the batch queue.
enum Job {
    Answered(Box<PredictResponse>),
    Queued(batching::PendingPrediction),
}

impl PredictResponse {
    /// The label and probabilities alone (a batched prediction's answer; [`answer`] adds the
    /// rest).
    fn plain(prediction: infer::Prediction) -> Self {
        Self {
            label: prediction.label,
            probabilities: prediction.probabilities,
            feature_maps: None,
            stages: None,
            explanation: None,
        }
    }
}

/// A body that could not be read: too large (413), too slow (408), or cut (400).
fn body_rejection(rejection: BytesRejection) -> ApiError {
    let timed_out = std::iter::successors(
        Some(&rejection as &(dyn std::error::Error + 'static)),
        |e| e.source(),
    )
    .any(|e| e.is::<tower_http::timeout::TimeoutError>());
    if timed_out {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "the request body was not received in time",
        )
    } else {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}

fn answer(
    predictor: &Predictor,
    image: &DynamicImage,
    query: &PredictQuery,
) -> Result<PredictResponse, ApiError> {
    let pixels = infer::preprocess(image)?;
    let prediction = predictor.predict(&pixels);
    let activations = (query.maps || query.stages).then(|| Activations::of(predictor, &pixels));
    let activations = activations.as_ref();
    Ok(PredictResponse {
        feature_maps: activations
            .filter(|_| query.maps)
            .map(Activations::feature_maps),
        stages: activations
            .filter(|_| query.stages)
            .map(|a| a.stages(&pixels, &prediction.probabilities)),
        explanation: query
            .explain
            .then(|| predictor.explain_digit(&pixels, prediction.label)),
        ..PredictResponse::plain(prediction)
    })
}
