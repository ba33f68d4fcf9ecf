//! The native reference for the browser build's end-to-end test (crates/serve/e2e/web.mjs):
//! for each raw RGBA file (a canvas's pixels, as the page handed them to the WebAssembly
//! module), the framed 28x28 input, the label, the logits and the occlusion heat map ("why this
//! digit") computed natively by `infer::Predictor` on the same weights, one JSON line per file.
//!
//! Usage: native_answer --width W --height H [--model-dir DIR] FILE.rgba...

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use infer::Predictor;
use model::images_to_tensor;
use preprocess::{Layout, Picture};

/// Largest RGBA file read: a 4096x4096 canvas.
const MAX_FILE_BYTES: u64 = 4096 * 4096 * 4;

fn main() {
    if let Err(err) = run() {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let (mut width, mut height, mut model_dir, mut files) = (None, None, None, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--width" => width = Some(value("--width")?.parse::<u32>()?),
            "--height" => height = Some(value("--height")?.parse::<u32>()?),
            "--model-dir" => model_dir = Some(PathBuf::from(value("--model-dir")?)),
            flag if flag.starts_with('-') => bail!("unknown flag {flag}"),
            file => files.push(PathBuf::from(file)),
        }
    }
    let (Some(width), Some(height)) = (width, height) else {
        bail!("usage: native_answer --width W --height H [--model-dir DIR] FILE.rgba...");
    };
    let device = Device::flex();
    let predictor = match &model_dir {
        Some(dir) => Predictor::load(dir, &device),
        None => Predictor::shipped(&device),
    }
    .context("cannot load the model")?;
    for file in files {
        let size = std::fs::metadata(&file)
            .with_context(|| format!("{}", file.display()))?
            .len();
        if size > MAX_FILE_BYTES {
            bail!(
                "{}: {size} bytes, more than {MAX_FILE_BYTES}",
                file.display()
            );
        }
        let rgba = std::fs::read(&file).with_context(|| format!("{}", file.display()))?;
        let picture = Picture::new(&rgba, width, height, Layout::Rgba)
            .with_context(|| format!("{}", file.display()))?;
        let pixels = preprocess::frame(&picture).with_context(|| format!("{}", file.display()))?;
        let prediction = predictor.predict(&pixels);
        let logits = model::stage_values::floats(
            predictor
                .net()
                .forward(images_to_tensor(std::slice::from_ref(&pixels), &device)),
        );
        let line = serde_json::json!({
            "file": file,
            "label": prediction.label,
            "logits": logits,
            "pixels": pixels.to_vec(),
            "heat": predictor.explain(&pixels).heat,
        });
        println!("{line}");
    }
    Ok(())
}
