//! `serve --web-dir DIR`: the static folder of the WebAssembly page served beside the API, and
//! the embedded page's runtime marker that the folder's copy replaces.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use burn::tensor::Device;
use infer::Predictor;
use serve::{AppState, ServerLimits, WebDir, WebDirError, router, router_with_page};
use tower::ServiceExt;

/// A folder shaped like build-site.sh's output (the contents are stand-ins).
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a scratch directory");
    std::fs::write(
        dir.path().join("index.html"),
        "<meta name=\"mnist-cnn-runtime\" content=\"browser\">",
    )
    .expect("a file in the scratch directory");
    std::fs::write(
        dir.path().join("web.js"),
        "export default function init() {}",
    )
    .expect("a file in the scratch directory");
    std::fs::write(dir.path().join("web_bg.wasm"), b"\0asm\x01\0\0\0")
        .expect("a file in the scratch directory");
    dir
}

fn state() -> Arc<AppState> {
    let predictor = Predictor::shipped(&Device::flex()).expect("the built-in model loads");
    Arc::new(AppState::new(predictor).expect("the batching thread starts"))
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let response = app
        .clone()
        .oneshot(
            Request::get(uri)
                .body(Body::empty())
                .expect("a valid request"),
        )
        .await
        .expect("the router answers");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().expect("an ASCII header").to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a readable body");
    (status, content_type, body.to_vec())
}

#[tokio::test]
async fn the_folder_is_served_beside_the_api() {
    let dir = site();
    let web_dir = WebDir::open(dir.path()).unwrap();
    let app = router_with_page(state(), &ServerLimits::default(), Some(&web_dir));

    let (status, _, body) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("content=\"browser\"")
    );
    let (status, content_type, body) = get(&app, "/web_bg.wasm").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/wasm"));
    assert_eq!(body, b"\0asm\x01\0\0\0");
    let (_, content_type, _) = get(&app, "/web.js").await;
    assert!(content_type.unwrap().contains("javascript"));

    // The API is still there.
    let (status, content_type, body) = get(&app, "/api/model").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.unwrap().starts_with("application/json"));
    let info: serve::ModelInfo = serde_json::from_slice(&body).unwrap();
    assert_eq!(info.total_params, 843_658);

    // Nothing outside the folder, and missing files are a JSON 404.
    for outside in ["/../Cargo.toml", "/%2e%2e/Cargo.toml", "/missing.js"] {
        let (status, content_type, _) = get(&app, outside).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{outside}");
        assert!(content_type.unwrap().starts_with("application/json"));
    }
}

#[tokio::test]
async fn the_embedded_page_computes_on_the_server() {
    let app = router(state(), &ServerLimits::default());
    let (status, _, body) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(body).unwrap();
    // build-site.sh replaces exactly this marker in its copy.
    assert!(page.contains(r#"<meta name="mnist-cnn-runtime" content="server">"#));
}

#[test]
fn a_folder_without_the_page_is_refused_by_name() {
    let dir = site();
    std::fs::remove_file(dir.path().join("web_bg.wasm")).unwrap();
    match WebDir::open(dir.path()) {
        Err(
            err @ WebDirError::Missing {
                file: "web_bg.wasm",
                ..
            },
        ) => {
            assert!(err.to_string().contains("build-site.sh"), "{err}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        WebDir::open(dir.path().join("nope")),
        Err(WebDirError::NotADirectory(_))
    ));
}

#[test]
fn serve_with_a_wrong_web_dir_exits_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_serve"))
        .args(["--addr", "127.0.0.1:0", "--web-dir"])
        .arg(dir.path())
        .env("BURN_DEVICE", "flex")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("no index.html"),
        "{stderr}"
    );
}
