//! `cargo run --release -p serve` then open http://127.0.0.1:8080 and draw a digit.
//!
//! The model: `--model-dir DIR`, else `MNIST_CNN_MODEL`, else the one built in (see
//! [`infer::ModelSource`]); the startup line says which. Ctrl-C or SIGTERM stops accepting,
//! lets in-flight requests finish for `--shutdown-grace` seconds, then exits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use fast_alloc as _;
use infer::ModelSource;
use serve::admission::{self, Admission};
use serve::{AppState, ServerLimits, WebDir, router_with_page};

/// Serve the draw-a-digit page and the prediction API.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0: any free port, printed at startup)
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Model directory (config.json + model.bpk) [default: $MNIST_CNN_MODEL if set, else the
    /// built-in copy of artifacts/mnist-cnn]
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Serve the page from this folder (built by crates/web/build-site.sh: the network runs in
    /// the browser, as WebAssembly) instead of the embedded page (which computes here); the
    /// JSON API is served beside it either way
    #[arg(long, value_name = "DIR")]
    web_dir: Option<PathBuf>,
    /// Decode-and-infer jobs at a time [default: the number of cores]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    workers: Option<u16>,
    /// Longest wait for a free job slot before answering 503, in seconds
    #[arg(long, default_value = "0.2", value_parser = seconds)]
    queue_wait: Duration,
    /// Most connections at once; more wait in the accept queue
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..))]
    max_connections: u16,
    /// Longest time for a request head, and longest idle time of a connection, in seconds
    #[arg(long, default_value = "10", value_parser = seconds)]
    header_timeout: Duration,
    /// Longest pause while receiving a request body, in seconds
    #[arg(long, default_value = "10", value_parser = seconds)]
    body_timeout: Duration,
    /// Longest time for a whole request, in seconds (then 408)
    #[arg(long, default_value = "30", value_parser = seconds)]
    request_timeout: Duration,
    /// After Ctrl-C or SIGTERM, how long in-flight requests may take, in seconds
    #[arg(long, default_value = "5", value_parser = seconds)]
    shutdown_grace: Duration,
}

/// A positive number of seconds, at most a day.
fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!("{text} s: give a number of seconds in (0, 86400]"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Longest wait, after the server stopped, for blocking jobs still running (one decode or one
/// inference, both bounded).
const BLOCKING_JOBS_GRACE: Duration = Duration::from_secs(1);

fn main() {
    let args = Args::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| {
            let result = runtime.block_on(run(args));
            runtime.shutdown_timeout(BLOCKING_JOBS_GRACE);
            result
        });
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<()> {
    let limits = ServerLimits {
        max_connections: args.max_connections.into(),
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        request_timeout: args.request_timeout,
        shutdown_grace: args.shutdown_grace,
    };
    let workers = args.workers.map_or_else(admission::cores, usize::from);
    let web_dir = args.web_dir.as_deref().map(WebDir::open).transpose()?;
    let source = ModelSource::resolve(args.model_dir)?;
    let predictor = source
        .load(&infer::default_device(infer::Workload::SingleImages))
        .with_context(|| format!("cannot load the model ({source})"))?;
    // Registered before serving, so that a signal never finds the default (kill) handler.
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    println!(
        "serving http://{} (model: {source})",
        listener.local_addr()?
    );
    match &web_dir {
        None => println!("page: embedded, computed on this server"),
        Some(dir) => println!(
            "page: {} (WebAssembly, computed in the browser; the API is served beside it)",
            dir.path().display()
        ),
    }
    let state = AppState {
        predictor,
        admission: Admission::new(workers, args.queue_wait),
    };
    let app = router_with_page(Arc::new(state), &limits, web_dir.as_ref());
    let stopped = serve::server::serve(listener, app, &limits, shutdown).await;
    if stopped.cut > 0 {
        eprintln!(
            "stopped: {} connection(s) still busy after {:?} were closed",
            stopped.cut, limits.shutdown_grace
        );
    }
    Ok(())
}

/// Completes on Ctrl-C or (Unix) SIGTERM.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    Ok(async move {
        #[cfg(unix)]
        let terminate = terminate.recv();
        #[cfg(not(unix))]
        let terminate = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate => {}
        }
        eprintln!("shutting down: no new connections, in-flight requests finish");
    })
}
