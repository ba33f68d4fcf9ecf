//! Loopback load test of a running server:
//! `cargo run --release -p serve --example load -- http://127.0.0.1:8080 --requests 1000`.
//! Sends the PNG of a digit from several threads and reports latency percentiles.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let mut requests = 1000usize;
    let mut threads = 4usize;
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse().ok());
        match (flag.as_str(), value) {
            ("--requests", Some(v)) => requests = v,
            ("--threads", Some(v)) => threads = v,
            _ => {
                eprintln!("usage: load [URL] [--requests N] [--threads N]");
                std::process::exit(2);
            }
        }
    }
    // Compiled in, so the load test runs from any directory.
    let png = include_bytes!("../../../examples/digits/seven.png").to_vec();
    let url = format!("{base}/api/predict");
    let start = Instant::now();
    let per_thread = requests.div_ceil(threads);
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (png, url) = (png.clone(), url.clone());
            let n = per_thread.min(requests.saturating_sub(t * per_thread));
            std::thread::spawn(move || {
                (0..n)
                    .map(|_| {
                        let t0 = Instant::now();
                        let ok = ureq::post(&url)
                            .header("content-type", "image/png")
                            .send(&png[..])
                            .is_ok();
                        (t0.elapsed().as_secs_f64() * 1e3, ok)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<(f64, bool)> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("a request thread panicked"))
        .collect();
    let wall = start.elapsed().as_secs_f64();
    let failures = results.iter().filter(|r| !r.1).count();
    let mut ms: Vec<f64> = results.iter().map(|r| r.0).collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    println!(
        "{} requests, {threads} threads, {failures} failed: median {:.2} ms, p99 {:.2} ms, max {:.2} ms, {:.0} req/s",
        ms.len(),
        pct(0.5),
        pct(0.99),
        ms[ms.len() - 1],
        ms.len() as f64 / wall
    );
    if failures > 0 {
        std::process::exit(1);
    }
}
