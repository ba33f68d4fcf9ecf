//! `cargo run --release -p serve` then open http://127.0.0.1:8080 and draw a digit.
//!
//! The model: `--model-dir DIR`, else `MNIST_CNN_MODEL`, else the one built in (see
//! [`infer::ModelSource`]); the startup line says which.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use fast_alloc as _;
use infer::ModelSource;
use serve::{AppState, router};

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
}

#[tokio::main]
async fn main() {
    if let Err(err) = run(Args::parse()).await {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<()> {
    let source = ModelSource::resolve(args.model_dir)?;
    let predictor = source
        .load(&infer::default_device(infer::Workload::SingleImages))
        .with_context(|| format!("cannot load the model ({source})"))?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    println!(
        "serving http://{} (model: {source})",
        listener.local_addr()?
    );
    axum::serve(listener, router(Arc::new(AppState { predictor })))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server error")
}
