//! Classify one image file with a trained MNIST CNN:
//!
//! ```text
//! cargo run --release -p classify -- examples/digits/seven.png
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use burn::tensor::Device;
use clap::Parser;
use infer::{ModelSource, open_image};

#[derive(Parser)]
#[command(about = "Classify a picture of a handwritten digit")]
struct Args {
    /// PNG or JPEG of one digit, any size, dark ink on light paper or the other way round
    image: PathBuf,
    /// Directory holding config.json and model.bpk [default: $MNIST_CNN_MODEL if set, else the
    /// model built into `infer`]
    #[arg(long)]
    model_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line: the context, then each cause.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    // The backend is a runtime device; flex is Burn's pure-Rust CPU backend.
    let device = Device::flex();

    // --model-dir, else MNIST_CNN_MODEL, else the shipped model compiled into `infer`. A model
    // directory is rebuilt from config.json, with the weights of model.bpk.
    let source = ModelSource::resolve(args.model_dir)?;
    let predictor = source
        .load(&device)
        .with_context(|| format!("cannot load the model ({source})"))?;
    println!("model: {source}");

    // Grayscale, invert if needed, crop, scale to 20 px and centre: the way MNIST was made.
    let image = open_image(&args.image)?;
    let prediction = predictor.predict_image(&image)?;

    println!("{}: {}", args.image.display(), prediction.label);
    for (digit, probability) in prediction.top(3) {
        println!("  {digit}: {:5.1}%", 100.0 * probability);
    }
    Ok(())
}
