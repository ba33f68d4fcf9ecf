//! Every error answer is `{"error": "..."}`, whoever produced it.
//!
//! The handlers build [`ApiError`]s. Answers made elsewhere (axum's 404 and 405, tower-http's 408
//! and 413, an extractor's rejection) have empty or plain-text bodies; [`json_error_bodies`]
//! rewrites them in the same shape, so a client parses one format whatever went wrong.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use infer::InferError;

use crate::admission::RETRY_AFTER_SECS;

/// A JSON error answer: `{"error": message}` with its status (503s carry `Retry-After`).
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(status, message.into())
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 503: every decode-and-infer slot is taken.
    pub fn busy() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the server is busy; retry in {RETRY_AFTER_SECS} s"),
        )
    }
}

/// The one map from what inference refuses to an HTTP status: a picture too large to decode is
/// 413, a blank one 422 (the page says "draw a digit"), anything else about the body 400.
impl From<InferError> for ApiError {
    fn from(err: InferError) -> Self {
        match err {
            InferError::NoInk => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the image is blank: draw a digit",
            ),
            InferError::ImageTooLarge { .. }
            | InferError::ImageMemory { .. }
            | InferError::ImageFileTooLarge { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("{:#}", anyhow::Error::from(err)),
            ),
            other => Self::bad_request(format!("{:#}", anyhow::Error::from(other))),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        response
    }
}

/// Longest error body carried over into the JSON message (ours are one line).
const MAX_ERROR_TEXT: usize = 4096;

/// Middleware (`axum::middleware::map_response`): a 4xx/5xx answer that is not JSON gets a JSON
/// body holding its text (or the status' reason when empty); its other headers (`Allow`,
/// `Retry-After`) are kept.
pub async fn json_error_bodies(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ERROR_TEXT)
        .await
        .ok()
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("error")
                .to_ascii_lowercase()
        });
    let json = ApiError(status, text).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(json.headers().clone());
    Response::from_parts(parts, json.into_body())
}
