//! ```text
//! cargo run --release -p feature-maps -- examples/digits/seven.png --out feature-maps/
//! ```
//! writes `filters.png`, `conv1.png` and `conv2.png`. The model: `--model-dir DIR`, else
//! `MNIST_CNN_MODEL`, else the one built into `infer` (see [`infer::ModelSource`]).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use burn::tensor::Device;
use clap::Parser;
use infer::{ModelSource, open_image, preprocess, save_image};

#[derive(Parser)]
#[command(about = "Render the CNN's filters and the feature maps of one digit as PNG grids")]
struct Args {
    /// PNG or JPEG of one digit
    image: PathBuf,
    /// Output directory
    #[arg(long, default_value = "feature-maps")]
    out: PathBuf,
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
    let source = ModelSource::resolve(args.model_dir)?;
    let predictor = source
        .load(&Device::flex())
        .with_context(|| format!("cannot load the model ({source})"))?;
    println!("model: {source}");
    let digit = preprocess(&open_image(&args.image)?)?;
    let rendered = feature_maps::render(predictor.net(), &digit);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the directory", args.out.display()))?;
    for (name, img) in [
        ("filters.png", &rendered.filters),
        ("conv1.png", &rendered.conv1),
        ("conv2.png", &rendered.conv2),
    ] {
        let path = args.out.join(name);
        // The error names the file: `<out>/conv1.png: cannot write the image: <why>`.
        save_image(img, &path)?;
        println!("{} ({}x{})", path.display(), img.width(), img.height());
    }
    Ok(())
}
