//! The API against the router (in process) and over loopback under concurrent load.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use burn::tensor::Device;
use infer::Predictor;
use model::{IMAGE_PIXELS, IMAGE_SIZE};
use serve::{Admission, AppState, ModelInfo, PredictResponse, ServerLimits, router};
use tower::ServiceExt;

fn app() -> axum::Router {
    let predictor = Predictor::shipped(&Device::flex()).expect("the built-in model loads");
    router(
        Arc::new(AppState::new(predictor).expect("the batching thread starts")),
        &ServerLimits::default(),
    )
}

fn seven_png() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits/seven.png"))
        .expect("examples/digits/seven.png")
}

/// A "1" as 784 numbers: a vertical bar.
fn one_pixels() -> Vec<u32> {
    (0..IMAGE_PIXELS)
        .map(|i| {
            if (13..16).contains(&(i % IMAGE_SIZE)) && (4..24).contains(&(i / IMAGE_SIZE)) {
                255
            } else {
                0
            }
        })
        .collect()
}

async fn post(
    app: axum::Router,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let request = Request::post(uri)
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("a valid request");
    let response = app.oneshot(request).await.expect("the router answers");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a readable body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn page_is_self_contained() {
    let response = app()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = String::from_utf8(
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(html.contains("<canvas id=\"pad\" width=\"280\" height=\"280\">"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page must work offline"
    );
}

#[tokio::test]
async fn png_and_json_bodies_are_predicted() {
    let (status, body) = post(app(), "/api/predict", "image/png", seven_png()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["label"], 7);
    assert!(body.get("feature_maps").is_none());

    let json = serde_json::to_vec(&serde_json::json!({ "pixels": one_pixels() })).unwrap();
    let (status, body) = post(app(), "/api/predict?maps=true", "application/json", json).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: PredictResponse = serde_json::from_value(body).unwrap();
    assert_eq!(answer.label, 1);
    assert!((answer.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    let maps = answer.feature_maps.unwrap();
    assert_eq!(
        (maps.conv1.len(), maps.conv1_side, maps.conv1[0].len()),
        (32, 26, 676)
    );
    assert_eq!(
        (maps.conv2.len(), maps.conv2_side, maps.conv2[0].len()),
        (64, 11, 121)
    );
}

#[tokio::test]
async fn the_model_is_described_from_its_configuration() {
    let response = app()
        .oneshot(Request::get("/api/model").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let info: ModelInfo = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(info, ModelInfo::of(&model::MnistCnnConfig::new()));
    let shapes: Vec<(&str, &[usize])> = info
        .stages
        .iter()
        .map(|s| (s.name.as_str(), s.shape.as_slice()))
        .collect();
    assert_eq!(
        shapes,
        [
            ("input", &[28, 28, 1][..]),
            ("conv1", &[26, 26, 32]),
            ("pool1", &[13, 13, 32]),
            ("conv2", &[11, 11, 64]),
            ("pool2", &[5, 5, 64]),
            ("hidden", &[512]),
            ("outputs", &[10]),
        ]
    );
    assert_eq!(info.total_params, 843_658);
}

/// `?stages=true` adds every stage, shaped as `/api/model` says; the other fields are unchanged
/// and `?maps=true` still answers as before.
#[tokio::test]
async fn stages_come_only_when_asked() {
    let json = serde_json::to_vec(&serde_json::json!({ "pixels": one_pixels() })).unwrap();
    let (status, plain) = post(app(), "/api/predict", "application/json", json.clone()).await;
    assert_eq!(status, StatusCode::OK, "{plain}");
    assert!(plain.get("stages").is_none() && plain.get("feature_maps").is_none());

    let uri = "/api/predict?maps=true&stages=true";
    let (status, body) = post(app(), uri, "application/json", json).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["label"], plain["label"]);
    assert_eq!(body["probabilities"], plain["probabilities"]);
    let answer: PredictResponse = serde_json::from_value(body).unwrap();
    let stages = answer.stages.unwrap();
    let info = ModelInfo::of(&model::MnistCnnConfig::new());
    assert_eq!(stages.len(), info.stages.len());
    for (values, described) in stages.iter().zip(&info.stages) {
        assert_eq!(
            (&values.name, &values.shape),
            (&described.name, &described.shape)
        );
        let (lists, each) = match values.shape[..] {
            [h, w, c] => (c, h * w),
            [n] => (1, n),
            _ => panic!("{}: shape {:?}", values.name, values.shape),
        };
        assert_eq!(values.values.len(), lists, "{}", values.name);
        assert!(
            values.values.iter().all(|v| v.len() == each),
            "{}",
            values.name
        );
        let lit = values.values.iter().flatten().filter(|&&v| v > 0).count();
        assert!(lit > 0, "{}: all zero", values.name);
    }
    // The input is the preprocessed image: the bar, re-framed MNIST-style, not the raw pixels.
    assert_ne!(
        stages[0].values[0],
        one_pixels().iter().map(|&v| v as u8).collect::<Vec<_>>()
    );
    // The outputs are the probabilities, the conv1 stage the same maps as `?maps=true`.
    let label = usize::from(answer.label);
    let brightest = (0..10).max_by_key(|&d| stages[6].values[0][d]).unwrap();
    assert_eq!(brightest, label);
    assert_eq!(stages[1].values, answer.feature_maps.unwrap().conv1);
}

/// `?explain=true` adds the occlusion map of the predicted digit, the same as the library's;
/// without it the answer carries none.
#[tokio::test]
async fn explanation_comes_only_when_asked() {
    let (status, plain) = post(app(), "/api/predict", "image/png", seven_png()).await;
    assert_eq!(status, StatusCode::OK, "{plain}");
    assert!(plain.get("explanation").is_none(), "{plain}");

    let (status, body) = post(app(), "/api/predict?explain=true", "image/png", seven_png()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["probabilities"], plain["probabilities"]);
    let answer: PredictResponse = serde_json::from_value(body).unwrap();
    let map = answer.explanation.expect("an explanation");
    assert_eq!((map.label, map.patch, map.stride), (7, 4, 2));
    assert_eq!((map.drops.len(), map.heat.len()), (169, IMAGE_PIXELS));
    assert!((map.probability - answer.probabilities[7]).abs() < 1e-5);
    let predictor = Predictor::shipped(&Device::flex()).unwrap();
    let image = infer::decode_image(&seven_png()).unwrap();
    let library = predictor.explain(&infer::preprocess(&image).unwrap());
    let most = map
        .drops
        .iter()
        .zip(&library.drops)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(most < 1e-5, "server and library differ by {most}");
    assert!(map.max_abs_heat() > 0.01, "{:?}", map.max_abs_heat());
}

#[tokio::test]
async fn bad_requests_get_4xx_json_errors() {
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "text/plain",
            b"hello".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported content type",
        ),
        (
            "image/png",
            b"not a png".to_vec(),
            StatusCode::BAD_REQUEST,
            "not a PNG or JPEG",
        ),
        (
            "application/json",
            b"{\"pixels\": [1, 2, 3]}".to_vec(),
            StatusCode::BAD_REQUEST,
            "784 numbers",
        ),
        (
            "application/json",
            b"{\"pixels\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid JSON",
        ),
        (
            "application/json",
            serde_json::to_vec(&serde_json::json!({"pixels": vec![300; IMAGE_PIXELS]})).unwrap(),
            StatusCode::BAD_REQUEST,
            "0..255",
        ),
        (
            "application/json",
            serde_json::to_vec(&serde_json::json!({"pixels": vec![0; IMAGE_PIXELS]})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "blank",
        ),
        (
            "image/png",
            vec![0u8; ServerLimits::DEFAULT.body_limit + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
            "length limit",
        ),
        (
            "image/png",
            {
                let mut png = Vec::new();
                image::DynamicImage::new_luma8(5000, 1)
                    .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                    .unwrap();
                png
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "more than the 4096 a side",
        ),
    ];
    let app = app();
    for (content_type, body, expected, needle) in cases {
        let (status, json) = post(app.clone(), "/api/predict", content_type, body).await;
        assert_eq!(status, expected, "{content_type}: {json}");
        let error = json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no JSON error for {content_type}: {json}"));
        assert!(error.contains(needle), "{error}");
    }
    // Still serving.
    let (status, _) = post(app, "/api/predict", "image/png", seven_png()).await;
    assert_eq!(status, StatusCode::OK);
}

/// Errors made outside the handlers (routing, the query extractor, the body-size layer) are JSON
/// too, with the same shape, keeping their headers.
#[tokio::test]
async fn every_error_body_is_json() {
    let cases = [
        (
            Request::post("/api/predict?maps=maybe"),
            StatusCode::BAD_REQUEST,
            "query",
        ),
        (
            Request::get("/no/such/page"),
            StatusCode::NOT_FOUND,
            "no such page",
        ),
        (
            Request::get("/api/predict"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ),
        (
            Request::post("/api/predict")
                .header("content-length", ServerLimits::DEFAULT.body_limit + 1),
            StatusCode::PAYLOAD_TOO_LARGE,
            "length limit",
        ),
    ];
    for (request, expected, needle) in cases {
        let request = request
            .header("content-type", "image/png")
            .body(Body::empty())
            .unwrap();
        let uri = request.uri().clone();
        let response = app().oneshot(request).await.unwrap();
        assert_eq!(response.status(), expected, "{uri}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{uri}"
        );
        if expected == StatusCode::METHOD_NOT_ALLOWED {
            assert!(response.headers().contains_key("allow"), "{uri}");
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {bytes:?}"));
        let error = json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{uri}: {json}"));
        assert!(error.to_lowercase().contains(needle), "{uri}: {error}");
    }
}

/// Through the real accept loop. Every request may wait for a job slot here (12 clients, one
/// slot per core): this test is about answers, not about refusing (see hostile_clients.rs).
#[test]
fn concurrent_requests_over_loopback() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = ServerLimits::default();
    let state = AppState::with(
        Predictor::shipped(&Device::flex()).unwrap(),
        Admission::new(serve::admission::cores(), Duration::from_secs(60)),
        &limits,
    )
    .unwrap();
    let app = router(Arc::new(state), &limits);
    runtime.spawn(async move {
        serve::server::serve(listener, app, &limits, std::future::pending()).await;
    });
    let png = Arc::new(seven_png());
    let url = format!("http://{addr}/api/predict");
    let workers: Vec<_> = (0..12)
        .map(|_| {
            let (png, url) = (png.clone(), url.clone());
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| {
                        let mut response = ureq::post(&url)
                            .header("content-type", "image/png")
                            .send(&png[..])
                            .unwrap();
                        let text = response.body_mut().read_to_string().unwrap();
                        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
                        body["label"].as_u64().unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let labels: Vec<u64> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert_eq!(labels.len(), 300);
    assert!(labels.iter().all(|&l| l == 7), "{labels:?}");
}
