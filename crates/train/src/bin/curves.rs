//! `cargo run -p train --bin curves -- runs/<run>/history.jsonl [--out FILE]`: redraws a run's
//! `curves.png` (loss, accuracy, learning rate per epoch) from its history, e.g. after editing
//! it or for a run made before the curves existed.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;

/// Draw a training run's curves (loss, accuracy, learning rate per epoch) from its history.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// The run's history.jsonl
    history: PathBuf,
    /// Where to write the PNG [default: curves.png next to the history]
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn main() {
    if let Err(err) = run(Args::parse()) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let out = args
        .out
        .unwrap_or_else(|| args.history.with_file_name("curves.png"));
    let epochs = train::redraw(&args.history, &out).with_context(|| {
        format!(
            "cannot draw the curves of {}",
            model::quote_path(&args.history)
        )
    })?;
    let plural = if epochs == 1 { "" } else { "s" };
    println!("{} ({epochs} epoch{plural})", out.display());
    Ok(())
}
