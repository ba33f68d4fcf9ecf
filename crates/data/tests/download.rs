//! Downloads against a local HTTP server: mirror fallback, checksum verification, and no
//! partial file left in the cache.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use data::DataError;
use data::download::{Downloader, content_sha256};
use data::idx::{IdxKind, read_idx, write_idx};
use data::source::MnistFile;

/// Serves `routes` (path -> body; anything else is a 404) for `requests` requests.
fn serve(routes: Vec<(String, Vec<u8>)>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap();
            let request = String::from_utf8_lossy(&buf[..n]);
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            match routes.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => {
                    write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .unwrap();
                    stream.write_all(body).unwrap();
                }
                None => {
                    stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
                }
            }
        }
    });
    format!("http://{addr}/")
}

/// A gzipped labels file, its raw bytes' SHA-256.
fn labels_fixture(dir: &Path) -> (Vec<u8>, String) {
    write_idx(
        &dir.join("i.gz"),
        &dir.join("l.gz"),
        &[0; 784 * 3],
        &[1, 2, 3],
    )
    .unwrap();
    let gz = std::fs::read(dir.join("l.gz")).unwrap();
    let idx = read_idx(&dir.join("l.gz"), IdxKind::Labels).unwrap();
    (gz, content_sha256(&idx))
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn downloader(mirrors: Vec<String>) -> Downloader {
    Downloader {
        mirrors,
        progress: false,
    }
}

#[test]
fn falls_back_to_the_next_mirror_and_verifies() {
    let fixtures = tempfile::tempdir().unwrap();
    let (gz, sha) = labels_fixture(fixtures.path());
    let file = MnistFile {
        stem: "labels-idx1-ubyte",
        sha256: leak(sha),
        kind: IdxKind::Labels,
    };
    let broken = serve(vec![], 1);
    let good = serve(vec![("/labels-idx1-ubyte.gz".into(), gz.clone())], 1);
    let cache = tempfile::tempdir().unwrap();
    let path = downloader(vec![broken, good])
        .ensure(cache.path(), &file)
        .unwrap();
    assert_eq!(path, cache.path().join("labels-idx1-ubyte.gz"));
    assert_eq!(std::fs::read(&path).unwrap(), gz);
    // Present now: a second call needs no server at all.
    let again = downloader(vec!["http://127.0.0.1:9/".into()])
        .ensure(cache.path(), &file)
        .unwrap();
    assert_eq!(again, path);
    assert_eq!(
        std::fs::read_dir(cache.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[test]
fn checksum_mismatch_leaves_nothing_in_the_cache() {
    let fixtures = tempfile::tempdir().unwrap();
    let (gz, _) = labels_fixture(fixtures.path());
    let file = MnistFile {
        stem: "labels-idx1-ubyte",
        sha256: "00".repeat(32).leak(),
        kind: IdxKind::Labels,
    };
    let server = serve(vec![("/labels-idx1-ubyte.gz".into(), gz)], 1);
    let cache = tempfile::tempdir().unwrap();
    let err = downloader(vec![server])
        .ensure(cache.path(), &file)
        .unwrap_err();
    assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{err}");
    assert_eq!(
        std::fs::read_dir(cache.path()).unwrap().count(),
        0,
        "bad file left behind"
    );
}

#[test]
fn unreachable_mirrors_give_one_error_naming_the_files_and_the_ways_out() {
    let cache = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: refused at once.
    let err = downloader(vec!["http://127.0.0.1:9/".into()])
        .ensure(cache.path(), &data::source::TRAIN_IMAGES)
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DataError::Unavailable { .. }), "{msg}");
    for needle in [
        "train-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        "--data-dir",
        "MNIST_DIR",
    ] {
        assert!(msg.contains(needle), "{needle} missing from: {msg}");
    }
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
}
