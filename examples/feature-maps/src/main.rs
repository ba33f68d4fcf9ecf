//! ```text
//! cargo run --release -p feature-maps -- examples/digits/seven.png --out feature-maps/
//! ```
//! writes `filters.png`, `conv1.png` and `conv2.png`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::tensor::Device;
use clap::Parser;
use infer::{Predictor, open_image, preprocess};

#[derive(Parser)]
#[command(about = "Render the CNN's filters and the feature maps of one digit as PNG grids")]
struct Args {
    /// PNG or JPEG of one digit
    image: PathBuf,
    /// Output directory
    #[arg(long, default_value = "feature-maps")]
    out: PathBuf,
    /// Directory holding config.json and model.bpk
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../artifacts/mnist-cnn"))]
    model_dir: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let predictor = Predictor::load(&args.model_dir, &Device::flex())
        .with_context(|| format!("loading the model from {}", args.model_dir.display()))?;
    let digit = preprocess(&open_image(&args.image)?)?;
    let rendered = feature_maps::render(predictor.net(), &digit);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    for (name, img) in [
        ("filters.png", &rendered.filters),
        ("conv1.png", &rendered.conv1),
        ("conv2.png", &rendered.conv2),
    ] {
        let path = args.out.join(name);
        img.save(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("{} ({}x{})", path.display(), img.width(), img.height());
    }
    Ok(())
}
