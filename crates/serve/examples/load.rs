//! Mixed-traffic load test of the release server over loopback:
//!
//! ```sh
//! cargo build --release -p serve --bin serve --example load
//! nice target/release/examples/load                  # starts target/release/serve itself
//! target/release/examples/load http://127.0.0.1:8080 --pid 1234   # a server already running
//! ```
//!
//! `--clients` threads (32) each send requests back to back for `--seconds` (60): a PNG of a
//! digit, a JSON pixel array, junk bytes, and a decompression bomb (a 1-bit PNG declaring
//! 23000x23000 pixels, ~100 KB). It prints requests/s, p50/p99 latency of the valid requests
//! answered 200, the count of each status per kind, and the server's peak RSS (VmHWM, from
//! /proc). Exit status 1 if any answer was a 5xx other than 503 or a transport error.

#[path = "../tests/common/bomb.rs"]
mod bomb;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one request sends.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Png,
    Json,
    Junk,
    Bomb,
}

/// Share of each kind, in percent of requests.
const MIX: [(Kind, u32); 4] = [
    (Kind::Png, 45),
    (Kind::Json, 20),
    (Kind::Junk, 20),
    (Kind::Bomb, 15),
];

struct Options {
    base: Option<String>,
    pid: Option<u32>,
    server: Option<String>,
    clients: usize,
    seconds: u64,
}

fn usage() -> ! {
    eprintln!(
        "usage: load [URL --pid PID] [--server PATH] [--clients N] [--seconds S]\n\
         without URL, starts PATH (default: the serve program next to this example's folder)"
    );
    std::process::exit(2);
}

fn options() -> Options {
    let mut options = Options {
        base: None,
        pid: None,
        server: None,
        clients: 32,
        seconds: 60,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--pid" => options.pid = Some(value().parse().unwrap_or_else(|_| usage())),
            "--server" => options.server = Some(value()),
            "--clients" => options.clients = value().parse().unwrap_or_else(|_| usage()),
            "--seconds" => options.seconds = value().parse().unwrap_or_else(|_| usage()),
            url if url.starts_with("http://") => {
                options.base = Some(url.trim_end_matches('/').into())
            }
            _ => usage(),
        }
    }
    options
}

/// The started server, killed at the end. Its stdout stays open until then: closed after the
/// first line, the server's next startup line met a broken pipe.
struct Server {
    child: Child,
    _stdout: BufReader<ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(path: &str) -> (Server, String) {
    let mut child = Command::new(path)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {path}: {e}"));
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    stdout
        .read_line(&mut line)
        .expect("the server's startup line");
    let base = line
        .strip_prefix("serving ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected startup line: {line}"))
        .to_owned();
    (
        Server {
            child,
            _stdout: stdout,
        },
        base,
    )
}

fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// A small xorshift generator: each client its own, reproducible sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The bodies, made once.
struct Bodies {
    png: Vec<u8>,
    json: Vec<u8>,
    bomb: Vec<u8>,
}

/// A "1" as 784 gray levels: a vertical bar.
fn one_json() -> Vec<u8> {
    let pixels: Vec<u8> = (0..784)
        .map(|i| {
            if (13..16).contains(&(i % 28)) && (4..24).contains(&(i / 28)) {
                255
            } else {
                0
            }
        })
        .collect();
    format!(
        "{{\"pixels\": [{}]}}",
        pixels
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(",")
    )
    .into_bytes()
}

/// (kind, status or 0 for a transport error, milliseconds) of every request.
type Outcome = (Kind, u16, f64);

fn client(url: String, bodies: Arc<Bodies>, seed: u64, until: Instant) -> Vec<Outcome> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    );
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut outcomes = Vec::new();
    while Instant::now() < until {
        let mut pick = (rng.next() % 100) as u32;
        let kind = MIX
            .iter()
            .find(|(_, share)| {
                let hit = pick < *share;
                pick = pick.saturating_sub(*share);
                hit
            })
            .map_or(Kind::Png, |(kind, _)| *kind);
        let junk: Vec<u8>;
        let (content_type, body): (&str, &[u8]) = match kind {
            Kind::Png => ("image/png", &bodies.png),
            Kind::Json => ("application/json", &bodies.json),
            Kind::Bomb => ("image/png", &bodies.bomb),
            Kind::Junk => {
                let len = 16 + (rng.next() % 4096) as usize;
                junk = (0..len).map(|_| rng.next() as u8).collect();
                let content_type = ["image/png", "image/jpeg", "application/json", "text/plain"]
                    [(rng.next() % 4) as usize];
                (content_type, &junk)
            }
        };
        let t0 = Instant::now();
        let status = agent
            .post(&url)
            .header("content-type", content_type)
            .send(body)
            .and_then(|mut response| {
                // Read the answer whole, as a client would.
                response.body_mut().read_to_vec()?;
                Ok(response.status().as_u16())
            })
            .unwrap_or(0);
        outcomes.push((kind, status, t0.elapsed().as_secs_f64() * 1e3));
    }
    outcomes
}

fn main() {
    let options = options();
    let (server, base, pid) = match (&options.base, options.pid) {
        (Some(base), pid) => (None, base.clone(), pid),
        (None, _) => {
            let path = options.server.clone().unwrap_or_else(|| {
                let exe = std::env::current_exe().expect("this program's path");
                let dir = exe
                    .parent()
                    .and_then(|p| p.parent())
                    .expect("target/<profile>/examples");
                dir.join("serve").to_string_lossy().into_owned()
            });
            let (server, base) = start_server(&path);
            let pid = server.child.id();
            (Some(server), base, Some(pid))
        }
    };
    let bodies = Arc::new(Bodies {
        png: include_bytes!("../../../examples/digits/seven.png").to_vec(),
        json: one_json(),
        bomb: bomb::bomb_png(bomb::BOMB_SIDE),
    });
    println!(
        "load: {} clients for {} s against {base} (server pid {}); bomb PNG {} bytes declaring {}x{}",
        options.clients,
        options.seconds,
        pid.map_or("unknown".into(), |p| p.to_string()),
        bodies.bomb.len(),
        bomb::BOMB_SIDE,
        bomb::BOMB_SIDE
    );
    let url = format!("{base}/api/predict");
    let start = Instant::now();
    let until = start + Duration::from_secs(options.seconds);
    let clients: Vec<_> = (0..options.clients)
        .map(|i| {
            let (url, bodies) = (url.clone(), bodies.clone());
            std::thread::spawn(move || client(url, bodies, i as u64 + 1, until))
        })
        .collect();
    let outcomes: Vec<Outcome> = clients
        .into_iter()
        .flat_map(|c| c.join().expect("a client thread panicked"))
        .collect();
    let wall = start.elapsed().as_secs_f64();
    let peak = pid.and_then(peak_rss_mib);
    drop(server);

    let mut by_status = BTreeMap::<u16, usize>::new();
    let mut by_kind = BTreeMap::<Kind, BTreeMap<u16, usize>>::new();
    for &(kind, status, _) in &outcomes {
        *by_status.entry(status).or_default() += 1;
        *by_kind.entry(kind).or_default().entry(status).or_default() += 1;
    }
    let mut valid_ms: Vec<f64> = outcomes
        .iter()
        .filter(|(kind, status, _)| matches!(kind, Kind::Png | Kind::Json) && *status == 200)
        .map(|o| o.2)
        .collect();
    valid_ms.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        valid_ms
            .get(((valid_ms.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "requests: {} in {wall:.1} s = {:.0} req/s",
        outcomes.len(),
        outcomes.len() as f64 / wall
    );
    println!(
        "valid (PNG + JSON) answered 200: {} ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        valid_ms.len(),
        valid_ms.len() as f64 / wall,
        pct(0.5),
        pct(0.99),
        valid_ms.last().copied().unwrap_or(f64::NAN)
    );
    let show = |counts: &BTreeMap<u16, usize>| {
        counts
            .iter()
            .map(|(s, n)| {
                if *s == 0 {
                    format!("transport error: {n}")
                } else {
                    format!("{s}: {n}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("status counts: {}", show(&by_status));
    for (kind, counts) in &by_kind {
        println!("  {kind:?}: {}", show(counts));
    }
    match peak {
        Some(mib) => println!("server peak RSS (VmHWM): {mib:.0} MiB"),
        None => println!("server peak RSS: unknown (give --pid)"),
    }
    let bad = by_status.keys().any(|&s| s == 0 || (s >= 500 && s != 503));
    if bad {
        eprintln!("FAIL: transport errors or 5xx other than 503");
        std::process::exit(1);
    }
}
