//! Classify one image file with a trained MNIST CNN:
//!
//! ```text
//! cargo run --release -p classify -- examples/digits/seven.png
//! ```

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::tensor::Device;
use clap::Parser;
use infer::{Predictor, open_image};

#[derive(Parser)]
#[command(about = "Classify a picture of a handwritten digit")]
struct Args {
    /// PNG or JPEG of one digit, any size, dark ink on light paper or the other way round
    image: PathBuf,
    /// Directory holding config.json and model.bpk
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../artifacts/mnist-cnn"))]
    model_dir: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();

    // The backend is a runtime device; flex is Burn's pure-Rust CPU backend.
    let device = Device::flex();

    // Rebuilds the network from config.json and loads the weights from model.bpk.
    let predictor = Predictor::load(&args.model_dir, &device)
        .with_context(|| format!("loading the model from {}", args.model_dir.display()))?;

    // Grayscale, invert if needed, crop, scale to 20 px and centre: the way MNIST was made.
    let image = open_image(&args.image)?;
    let prediction = predictor.predict_image(&image)?;

    println!("{}: {}", args.image.display(), prediction.label);
    for (digit, probability) in prediction.top(3) {
        println!("  {digit}: {:5.1}%", 100.0 * probability);
    }
    Ok(())
}
