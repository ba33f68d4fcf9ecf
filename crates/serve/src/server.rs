//! The accept loop: a connection cap, a header-read timeout, and graceful shutdown with a deadline.
//!
//! `axum::serve` has none of these settings, so connections are served here with hyper's HTTP/1
//! builder, whose `header_read_timeout` closes a client that has not sent a whole request head in
//! time: slow ("slowloris") and idle clients, including idle keep-alive connections, since hyper
//! restarts the timer before every request head. The body and the whole request are bounded by
//! tower-http layers in [`crate::router`].

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use crate::BatchLimits;

/// Every limit of the server, in one place: [`ServerLimits::DEFAULT`] is what `serve`'s flags
/// default to (its `--help` shows these values) and what the library uses when not told otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// Most connections served at once. Further clients wait in the kernel's accept queue (they
    /// hold no descriptor of this process) until a connection ends; idle ones end after
    /// `header_timeout`, so a waiting client is served within a few header timeouts. Every
    /// connection may buffer one body of `body_limit`, so this also bounds memory.
    pub max_connections: usize,
    /// Largest request body in bytes: 413 from `content-length` before anything is read, and
    /// chunked bodies cut as they come (tower-http `RequestBodyLimitLayer`).
    pub body_limit: usize,
    /// Longest wait for a free decoding slot before 503 ([`crate::Admission`]).
    pub queue_wait: Duration,
    /// Most images in one batched forward ([`crate::ForwardBatcher`]).
    pub max_batch: usize,
    /// Longest a request's image waits for others to join its forward; only while other
    /// requests are being decoded, so a lone request is not delayed.
    pub batch_wait: Duration,
    /// Longest time for a whole request head, and longest idle time between requests.
    pub header_timeout: Duration,
    /// Longest pause while receiving a request body (tower-http `RequestBodyTimeoutLayer`: 408);
    /// a body that trickles in is bounded by `request_timeout`.
    pub body_timeout: Duration,
    /// Longest time for a whole request, answer included (tower-http `TimeoutLayer`: 408).
    pub request_timeout: Duration,
    /// After a shutdown signal, how long in-flight requests may take before they are cut.
    pub shutdown_grace: Duration,
}

impl ServerLimits {
    /// The defaults: 256 connections, 2 MiB bodies, 0.2 s queue wait, batches of up to 64 images
    /// waiting at most 1 ms, 10 s for a request head or a pause in a body, 30 s for a whole
    /// request, 5 s of grace at shutdown.
    pub const DEFAULT: Self = Self {
        max_connections: 256,
        body_limit: 2 << 20,
        queue_wait: Duration::from_millis(200),
        max_batch: 64,
        batch_wait: Duration::from_millis(1),
        header_timeout: Duration::from_secs(10),
        body_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
        shutdown_grace: Duration::from_secs(5),
    };

    /// The batching limits. The queue holds one image per connection, so it is never the
    /// bound a client meets first.
    pub fn batching(&self) -> BatchLimits {
        BatchLimits {
            max_batch: self.max_batch,
            max_wait: self.batch_wait,
            queue: self.max_connections,
        }
    }
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How the server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Connections still open when the grace period ended, closed without finishing.
    pub cut: usize,
}

/// Pause after a failed `accept` (out of descriptors, say) before the next try, so that the loop
/// does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets the open
/// connections finish their requests for at most `limits.shutdown_grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> Stopped {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &slots) => accepted,
        };
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
        let Ok((stream, slot)) = accepted else {
            tokio::time::sleep(ACCEPT_RETRY).await;
            continue;
        };
        connections.spawn(serve_connection(
            stream,
            app.clone(),
            limits.header_timeout,
            slot,
            stop_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    let cut = if drained.is_ok() {
        0
    } else {
        connections.len()
    };
    connections.abort_all();
    Stopped { cut }
}

/// Waits for a free connection slot, then for a client.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> io::Result<(TcpStream, OwnedSemaphorePermit)> {
    let slot = slots
        .clone()
        .acquire_owned()
        .await
        .map_err(io::Error::other)?;
    let (stream, _) = listener.accept().await?;
    // Answers are small and wanted at once.
    let _ = stream.set_nodelay(true);
    Ok((stream, slot))
}

async fn serve_connection(
    stream: TcpStream,
    app: Router,
    header_timeout: Duration,
    _slot: OwnedSemaphorePermit,
    mut stop: watch::Receiver<bool>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = stop.wait_for(|stop| *stop) => {}
    }
    // Finish the request in flight (if any), then close; the caller's deadline bounds this.
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}
