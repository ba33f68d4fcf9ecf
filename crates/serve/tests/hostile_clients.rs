//! Slow, idle and saturating clients against the real accept loop, over loopback: the header
//! timeout drops a client that trickles its request head, the connection cap holds with idle
//! sockets open and a new client is still served, a saturated server answers 503 at once, a slow
//! body gets a JSON 408.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use common::{ServerProcess, agent, seven_png};
use infer::Predictor;
use serve::{Admission, AppState, ServerLimits, router};

/// A server in this process with `limits` and `admission`; it stops when the runtime is dropped.
fn start(
    limits: ServerLimits,
    admission: Admission,
) -> (SocketAddr, Arc<AppState>, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let predictor = Predictor::shipped(&Device::flex()).unwrap();
    let state = Arc::new(AppState::with(predictor, admission, &limits).unwrap());
    let app = router(state.clone(), &limits);
    runtime.spawn(async move {
        serve::server::serve(listener, app, &limits, std::future::pending()).await;
    });
    (addr, state, runtime)
}

/// What the server sends within `deadline`, and whether it closed the connection by then.
fn read_for(stream: &mut TcpStream, deadline: Duration) -> (Vec<u8>, bool) {
    let start = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    while start.elapsed() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return (received, true),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (received, true),
        }
    }
    (received, false)
}

#[test]
fn a_client_trickling_its_request_head_is_dropped_after_the_header_timeout() {
    let header_timeout = Duration::from_secs(1);
    let limits = ServerLimits {
        header_timeout,
        ..ServerLimits::default()
    };
    let (addr, _state, _runtime) = start(limits, Admission::per_core());
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    // 45 bytes at one per 100 ms: 4.5 s, far slower than the header timeout.
    let head = b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n\r\n";
    let start = Instant::now();
    let mut received = Vec::new();
    let mut closed = false;
    let mut buf = [0u8; 1024];
    'send: for byte in head {
        if stream.write_all(&[*byte]).is_err() {
            closed = true;
            break;
        }
        loop {
            match stream.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break 'send;
                }
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    break;
                }
                Err(_) => {
                    closed = true;
                    break 'send;
                }
            }
        }
    }
    let elapsed = start.elapsed();
    let answer = String::from_utf8_lossy(&received);
    assert!(
        closed,
        "the whole head was sent and not cut; answer: {answer}"
    );
    assert!(
        !answer.starts_with("HTTP/1.1 200"),
        "the slow request was served: {answer}"
    );
    assert!(
        elapsed >= header_timeout && elapsed < header_timeout * 3,
        "closed after {elapsed:?} (header timeout {header_timeout:?})"
    );
}

#[test]
fn a_saturated_server_answers_503_with_retry_after_at_once() {
    let max_wait = Duration::from_millis(100);
    let (addr, state, _runtime) = start(ServerLimits::default(), Admission::new(2, max_wait));
    let url = format!("http://{addr}/api/predict");
    let agent = agent(Duration::from_secs(30));
    // Every slot taken, as by two long jobs.
    let held = state
        .admission
        .slots()
        .clone()
        .try_acquire_many_owned(2)
        .unwrap();
    let start = Instant::now();
    let mut response = agent
        .post(&url)
        .header("content-type", "image/png")
        .send(&seven_png()[..])
        .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert!(body["error"].as_str().unwrap().contains("busy"), "{body}");
    assert!(
        elapsed < max_wait + Duration::from_millis(900),
        "503 after {elapsed:?}"
    );
    // The page itself needs no slot.
    assert_eq!(
        agent
            .get(format!("http://{addr}/"))
            .call()
            .unwrap()
            .status(),
        200
    );

    drop(held);
    let mut response = agent
        .post(&url)
        .header("content-type", "image/png")
        .send(&seven_png()[..])
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["label"], 7);
}

#[test]
fn a_body_slower_than_the_body_timeout_gets_a_json_408() {
    let limits = ServerLimits {
        body_timeout: Duration::from_millis(500),
        ..ServerLimits::default()
    };
    let (addr, _state, _runtime) = start(limits, Admission::per_core());
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n\
              Content-Length: 1000\r\n\r\n0123456789",
        )
        .unwrap();
    let (answer, _) = read_for(&mut stream, Duration::from_secs(3));
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    assert!(answer.contains("\"error\""), "{answer}");
}

/// The built program with a cap of 4 connections and a 1 s header timeout: 16 idle sockets
/// never give it more than 4 connections' descriptors, and a new client is served once the idle
/// ones time out (each round of 4 takes one header timeout).
#[test]
fn idle_sockets_beyond_the_cap_hold_no_descriptors_and_a_new_client_is_served() {
    let server = ServerProcess::start(&["--max-connections", "4", "--header-timeout", "1"]);
    let agent = agent(Duration::from_secs(30));
    assert_eq!(
        agent
            .get(format!("{}/", server.base))
            .call()
            .unwrap()
            .status(),
        200
    );
    // Let the first client's connection go idle and time out, then count the baseline.
    std::thread::sleep(Duration::from_millis(1500));
    let baseline = server.open_fds();
    let idle: Vec<TcpStream> = (0..16)
        .map(|_| TcpStream::connect(server.addr()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let with_idle = server.open_fds();
    assert!(
        with_idle <= baseline + 4,
        "{with_idle} descriptors with 16 idle sockets open (baseline {baseline}, cap 4)"
    );
    let start = Instant::now();
    // A fresh agent: the first one's pooled connection was closed by the server.
    let response = common::agent(Duration::from_secs(30))
        .get(format!("{}/", server.base))
        .call()
        .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(response.status(), 200);
    // 16 idle sockets ahead of it, 4 at a time, 1 s each: about 4 s.
    assert!(elapsed < Duration::from_secs(8), "served after {elapsed:?}");
    drop(idle);
}

/// SIGTERM with two requests in flight: one whose body completes after the signal is answered;
/// one whose body never completes is cut at the deadline, and the process exits then.
#[test]
fn graceful_shutdown_finishes_in_flight_requests_within_its_deadline() {
    let grace = Duration::from_secs(2);
    let mut server = ServerProcess::start(&["--shutdown-grace", "2", "--body-timeout", "60"]);
    let png = seven_png();
    let head = format!(
        "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n\
         Content-Length: {}\r\n\r\n",
        png.len()
    );
    let mut finishing = TcpStream::connect(server.addr()).unwrap();
    let mut stalled = TcpStream::connect(server.addr()).unwrap();
    for stream in [&mut finishing, &mut stalled] {
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&png[..10]).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    let signalled = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    // New clients are no longer accepted.
    assert!(
        TcpStream::connect(server.addr()).is_err(),
        "a new connection was accepted after the signal"
    );
    finishing.write_all(&png[10..]).unwrap();
    let (answer, closed) = read_for(&mut finishing, Duration::from_secs(10));
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        closed,
        "the connection stays open after its answer: {answer}"
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"label\":7"), "{answer}");

    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < grace + Duration::from_secs(3),
            "still running {:?} after SIGTERM (grace {grace:?})",
            signalled.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() >= grace - Duration::from_millis(300),
        "exited after {:?}, before the stalled request's grace",
        signalled.elapsed()
    );
    assert!(read_for(&mut stalled, Duration::from_secs(1)).1);
}
