//! `cargo run --release -p serve` then open http://127.0.0.1:8080 and draw a digit.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use infer::Predictor;
use serve::{AppState, router};

// mimalloc instead of the system allocator: Burn's CPU backends allocate a fresh buffer for every
// op's output, and glibc returns and re-faults those pages step after step (measured with
// crates/bench: ~5% training, ~10% inference throughput; see crates/bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SHIPPED_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../artifacts/mnist-cnn");

/// Serve the draw-a-digit page and the prediction API.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Model directory (config.json + model.bpk) [default: the shipped artifacts/mnist-cnn]
    #[arg(long)]
    model_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() {
    if let Err(err) = run(Args::parse()).await {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<()> {
    let model_dir = args
        .model_dir
        .unwrap_or_else(|| PathBuf::from(SHIPPED_MODEL));
    let predictor = Predictor::load(
        &model_dir,
        &infer::default_device(infer::Workload::SingleImages),
    )
    .with_context(|| format!("cannot load the model in {}", model_dir.display()))?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    println!(
        "serving http://{} (model {})",
        listener.local_addr()?,
        model_dir.display()
    );
    axum::serve(listener, router(Arc::new(AppState { predictor })))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server error")
}
