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
    /// Model directory (config.json + model.bpk), or a .safetensors, .pt or .onnx file (with
    /// --features onnx) [default: $MNIST_CNN_MODEL if set, else the
    /// built-in copy of artifacts/mnist-cnn]
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Serve the page from this folder (built by crates/web/build-site.sh: the network runs in
    /// the browser, as WebAssembly) instead of the embedded page (which computes here); the
    /// JSON API is served beside it either way
    #[arg(long, value_name = "DIR")]
    web_dir: Option<PathBuf>,
    /// Decoding jobs at a time [default: the number of cores]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    workers: Option<u16>,
    // The defaults below are `ServerLimits::DEFAULT`'s, the one place the limits are written.
    /// Longest wait for a free job slot before answering 503, in seconds
    #[arg(long, default_value_t = Seconds(DEFAULT.queue_wait))]
    queue_wait: Seconds,
    /// Most images in one batched forward, 1 to 1024 (1: one image per forward)
    #[arg(long, default_value_t = DEFAULT.max_batch as u16,
          value_parser = clap::value_parser!(u16).range(1..=serve::batching::MAX_BATCH as i64))]
    max_batch: u16,
    /// Longest a request's image waits for others decoded at the same time to join its forward,
    /// in seconds, 0 to 1 (a lone request never waits)
    #[arg(long, default_value_t = BatchWait(DEFAULT.batch_wait))]
    batch_wait: BatchWait,
    /// Most connections at once; more wait in the accept queue
    #[arg(long, default_value_t = DEFAULT.max_connections as u16,
          value_parser = clap::value_parser!(u16).range(1..))]
    max_connections: u16,
    /// Longest time for a request head, and longest idle time of a connection, in seconds
    #[arg(long, default_value_t = Seconds(DEFAULT.header_timeout))]
    header_timeout: Seconds,
    /// Longest pause while receiving a request body, in seconds
    #[arg(long, default_value_t = Seconds(DEFAULT.body_timeout))]
    body_timeout: Seconds,
    /// Longest time for a whole request, in seconds (then 408)
    #[arg(long, default_value_t = Seconds(DEFAULT.request_timeout))]
    request_timeout: Seconds,
    /// After Ctrl-C or SIGTERM, how long in-flight requests may take, in seconds
    #[arg(long, default_value_t = Seconds(DEFAULT.shutdown_grace))]
    shutdown_grace: Seconds,
}

const DEFAULT: ServerLimits = ServerLimits::DEFAULT;

/// A time limit given in seconds on the command line: positive, at most a day.
#[derive(Clone, Copy, Debug)]
struct Seconds(Duration);

impl std::str::FromStr for Seconds {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let secs = seconds(text)?;
        if !(secs > 0.0 && secs <= 86_400.0) {
            return Err(format!("{text} s: give a number of seconds in (0, 86400]"));
        }
        Ok(Self(Duration::from_secs_f64(secs)))
    }
}

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

/// A number of seconds, before each flag checks its range.
fn seconds(text: &str) -> Result<f64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))
}

/// `--batch-wait`: 0 (no waiting) up to [`serve::batching::MAX_BATCH_WAIT`].
#[derive(Clone, Copy, Debug)]
struct BatchWait(Duration);

impl std::str::FromStr for BatchWait {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let max = serve::batching::MAX_BATCH_WAIT.as_secs_f64();
        let secs = seconds(text)?;
        if !(0.0..=max).contains(&secs) {
            return Err(format!("{text} s: give a number of seconds in [0, {max}]"));
        }
        Ok(Self(Duration::from_secs_f64(secs)))
    }
}

impl std::fmt::Display for BatchWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

/// `println!`, except that a closed stdout (`serve | head -1`, a parent that stopped reading) is
/// ignored: `println!` would panic there and take the server down with it.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` for the server's notes, likewise ignoring a closed stderr.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Longest wait, after the server stopped, for blocking jobs still running (one decode or one
/// inference, both bounded).
const BLOCKING_JOBS_GRACE: Duration = Duration::from_secs(1);

fn main() {
    fast_alloc::init();
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
        queue_wait: args.queue_wait.0,
        max_batch: args.max_batch.into(),
        batch_wait: args.batch_wait.0,
        header_timeout: args.header_timeout.0,
        body_timeout: args.body_timeout.0,
        request_timeout: args.request_timeout.0,
        shutdown_grace: args.shutdown_grace.0,
        ..DEFAULT
    };
    let workers = args.workers.map_or_else(admission::cores, usize::from);
    let web_dir = args.web_dir.as_deref().map(WebDir::open).transpose()?;
    let source = ModelSource::resolve(args.model_dir)?;
    let predictor = source
        .load(&infer::default_device())
        .with_context(|| format!("cannot load the model ({source})"))?;
    // Registered before serving, so that a signal never finds the default (kill) handler.
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    say!(
        "serving http://{} (model: {source})",
        listener.local_addr()?
    );
    match &web_dir {
        None => say!("page: embedded, computed on this server"),
        Some(dir) => say!(
            "page: {} (WebAssembly, computed in the browser; the API is served beside it)",
            dir.path().display()
        ),
    }
    let state = AppState::with(
        predictor,
        Admission::new(workers, limits.queue_wait),
        &limits,
    )
    .context("cannot start the batching thread")?;
    let state = Arc::new(state);
    let app = router_with_page(state.clone(), &limits, web_dir.as_ref());
    let stopped = serve::server::serve(listener, app, &limits, shutdown).await;
    let batches = state.batcher.stats();
    if batches.batches > 0 {
        note!(
            "predicted {} images in {} forwards (largest batch {})",
            batches.images,
            batches.batches,
            batches.largest
        );
    }
    if stopped.cut > 0 {
        note!(
            "stopped: {} connection(s) still busy after {:?} were closed",
            stopped.cut,
            limits.shutdown_grace
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
        note!("shutting down: no new connections, in-flight requests finish");
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_flags_are_bounded() {
        let parse = |args: &[&str]| Args::try_parse_from([&["serve"], args].concat());
        for ok in [
            &["--batch-wait", "0"][..],
            &["--batch-wait", "1"],
            &["--max-batch", "1"],
            &["--max-batch", "1024"],
        ] {
            assert!(parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            &["--batch-wait", "1.5"][..],
            &["--batch-wait=-0.1"],
            &["--batch-wait", "NaN"],
            &["--max-batch", "0"],
            &["--max-batch", "1025"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let defaults = parse(&[]).expect("the defaults parse");
        assert_eq!(defaults.batch_wait.0, DEFAULT.batch_wait);
        assert_eq!(usize::from(defaults.max_batch), DEFAULT.max_batch);
    }
}
