//! The built program under decompression bombs: each is refused from its header (4xx, no 5xx),
//! the page keeps answering within 1 s, and the server's peak memory stays small. Before the
//! limits, one such PNG took 2.0 GB and 19 s of CPU.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::bomb::{BOMB_SIDE, bomb_png};
use common::{ServerProcess, agent};

/// The bound on the server's memory with bombs in the mix.
const MAX_PEAK_RSS_MIB: f64 = 512.0;

/// A 218-byte-class truncated JPEG: a baseline frame header declaring 23000x23000, then nothing.
fn truncated_jpeg() -> Vec<u8> {
    let side = (BOMB_SIDE as u16).to_be_bytes();
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08];
    jpeg.extend_from_slice(&side);
    jpeg.extend_from_slice(&side);
    jpeg.extend_from_slice(&[0x01, 0x01, 0x11, 0x00]);
    jpeg.resize(218, 0);
    jpeg
}

#[test]
fn the_page_answers_within_a_second_while_bombs_are_refused() {
    let bomb = Arc::new(bomb_png(BOMB_SIDE));
    assert!(bomb.len() < 200_000, "bomb of {} bytes", bomb.len());
    let server = ServerProcess::start(&[]);
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..4)
        .map(|i| {
            let (bomb, stop, url) = (
                bomb.clone(),
                stop.clone(),
                format!("{}/api/predict", server.base),
            );
            let (body, content_type) = if i == 3 {
                (truncated_jpeg(), "image/jpeg")
            } else {
                (bomb.to_vec(), "image/png")
            };
            std::thread::spawn(move || {
                let agent = agent(Duration::from_secs(60));
                let mut statuses = BTreeMap::<u16, usize>::new();
                while !stop.load(Ordering::Relaxed) {
                    let response = agent
                        .post(&url)
                        .header("content-type", content_type)
                        .send(&body[..])
                        .unwrap();
                    *statuses.entry(response.status().as_u16()).or_default() += 1;
                }
                drop(bomb);
                statuses
            })
        })
        .collect();

    let page = agent(Duration::from_secs(10));
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut pages = 0;
    while start.elapsed() < Duration::from_secs(5) {
        let t0 = Instant::now();
        let response = page.get(format!("{}/", server.base)).call().unwrap();
        assert_eq!(response.status(), 200);
        slowest = slowest.max(t0.elapsed());
        pages += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    let mut statuses = BTreeMap::<u16, usize>::new();
    for sender in senders {
        for (status, n) in sender.join().unwrap() {
            *statuses.entry(status).or_default() += n;
        }
    }
    let peak = server.peak_rss_mib();
    eprintln!(
        "{pages} pages, slowest {slowest:?}; bomb answers {statuses:?}; peak RSS {peak:.0} MiB"
    );
    assert!(slowest < Duration::from_secs(1), "GET / took {slowest:?}");
    let bombs: usize = statuses.values().sum();
    assert!(
        bombs >= 8,
        "only {bombs} bombs answered in 5 s: {statuses:?}"
    );
    assert!(
        statuses
            .keys()
            .all(|&s| (400..500).contains(&s) || s == 503),
        "{statuses:?}"
    );
    assert!(
        statuses.contains_key(&413),
        "no bomb refused as too large: {statuses:?}"
    );
    assert!(peak < MAX_PEAK_RSS_MIB, "server peak RSS {peak:.0} MiB");
}
