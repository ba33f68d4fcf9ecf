//! `POST /api/predict` through the real router (`serve::router` with the shipped model): the
//! first byte picks the content type (low 3 bits) and the query (`maps`/`stages`/`explain`, high
//! 4 bits), the rest is the body. Every answer must be JSON, never a 5xx other than 503, and a
//! 200 must carry a probability distribution (and the explanation, when asked for).

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use burn::tensor::Device;
use infer::Predictor;
use serve::{AppState, PredictResponse, ServerLimits, router};
use tower::ServiceExt;

const CONTENT_TYPES: [Option<&str>; 8] = [
    Some("application/json"),
    Some("image/png"),
    Some("image/jpeg"),
    Some("application/octet-stream"),
    Some("application/json; charset=utf-8"),
    Some("IMAGE/PNG"),
    Some("text/plain"),
    None,
];
const QUERIES: [&str; 8] = [
    "",
    "?maps=true",
    "?stages=true",
    "?maps=true&stages=true",
    "?explain=true",
    "?stages=true&explain=true",
    "?explain=1",
    "?maps=true&stages=true&explain=true",
];

fn app() -> &'static axum::Router {
    static APP: OnceLock<axum::Router> = OnceLock::new();
    APP.get_or_init(|| {
        let predictor = Predictor::shipped(&Device::flex()).expect("the shipped model loads");
        let state = AppState::new(predictor).expect("the batching thread starts");
        router(Arc::new(state), &ServerLimits::default())
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// Sends one request made from `data` and checks the answer.
pub fn run(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(selector & 7)];
    let query = QUERIES[usize::from(selector >> 4) % QUERIES.len()];
    let mut request = Request::post(format!("/api/predict{query}"));
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let request = request
        .body(Body::from(body.to_vec()))
        .expect("a valid request");
    let (status, bytes) = runtime().block_on(async {
        let response = app()
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("a readable body");
        (status, bytes)
    });
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
        "{status}: {text}"
    );
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"));
    if status == StatusCode::OK {
        let answer: PredictResponse = serde_json::from_value(json)
            .unwrap_or_else(|e| panic!("200 without a prediction ({e}): {text}"));
        let sum: f32 = answer.probabilities.iter().sum();
        assert!(answer.label <= 9 && (sum - 1.0).abs() < 1e-3, "{text}");
        assert!(answer.probabilities.iter().all(|p| p.is_finite()), "{text}");
        if query.contains("explain=true") {
            let map = answer
                .explanation
                .expect("?explain=true answers an explanation");
            assert_eq!(map.label, answer.label, "{text}");
            assert!(map.heat.iter().all(|h| h.is_finite()), "{text}");
        }
    }
}
