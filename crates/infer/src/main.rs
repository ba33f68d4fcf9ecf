//! `cargo run --release -p infer -- predict digit.png` / `-- eval` / `-- export`: the shipped
//! model (or any run's `model/` directory, or safetensors / PyTorch weights) on image files, the
//! MNIST test set, or a labelled folder; or the model written as ONNX and safetensors.
//!
//! The model: `--model-dir DIR`, else `MNIST_CNN_MODEL`, else the one built in (see
//! [`infer::ModelSource`]); stderr's first line says which.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use clap::{Parser, Subcommand, ValueEnum};
use data::Mnist;
use infer::folder::{LabelledFolder, read_labelled_folder};
use infer::{Confusion, ModelSource, Predictor, Robustness, open_image, predict_set};
use model::{IMAGE_PIXELS, Pixels};

/// Predict handwritten digits with the trained MNIST CNN.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Model: a directory (config.json + model.bpk, or model.safetensors, model.pt or
    /// model.onnx) or one such file [default: $MNIST_CNN_MODEL if set, else the built-in copy of artifacts/mnist-cnn]
    #[arg(long, global = true)]
    model_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Label and top-3 probabilities of each image (PNG or JPEG up to 4096 px a side,
    /// dark-on-light or light-on-dark)
    Predict {
        /// Image files
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// One JSON object per line instead of text ("file" is the path as given; bytes of a name
        /// that are not UTF-8 become U+FFFD)
        #[arg(long)]
        json: bool,
        /// Also write why the network chose its digit, as a PNG heat map over the 28x28 input
        /// (occlusion: red where hiding a 4x4 patch lowers the digit's probability, blue where
        /// it raises it); needs exactly one image
        #[arg(long, value_name = "PNG")]
        explain: Option<PathBuf>,
    },
    /// Accuracy, per-class accuracy and confusion matrix on the MNIST test set or on a folder of
    /// labelled images (DIR/<digit>/*.png)
    Eval {
        /// Directory with the MNIST IDX files (else MNIST_DIR, else the download cache)
        #[arg(long, conflicts_with = "images")]
        data_dir: Option<PathBuf>,
        /// Folder of labelled images, DIR/<digit>/<file>, instead of the MNIST test set
        #[arg(long)]
        images: Option<PathBuf>,
        /// Write confusion.png and misclassified.png into this directory (with --robustness,
        /// also robustness.json and robustness.png)
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
        /// Also measure the accuracy with every image perturbed, one family at a time, at each
        /// of its strengths: shift (0-4 px), rotation (±0-30°), scale (0.7-1.3), shear (±0-40°),
        /// Gaussian noise (σ 0-0.5), stroke thinning/thickening (-2..+2 px); prints a table
        #[arg(long)]
        robustness: bool,
        /// Seed of the perturbations (--robustness): the same seed, the same perturbed images
        #[arg(long, default_value_t = 0, requires = "robustness")]
        seed: u64,
        /// Another model's robustness.json (from its --report DIR), drawn beside this model in
        /// robustness.png
        #[arg(long, value_name = "FILE", requires_all = ["robustness", "report"])]
        compare: Option<PathBuf>,
    },
    /// Write the model for other stacks: model.onnx (ONNX Runtime, tract, a browser) and/or
    /// model.safetensors (PyTorch's layout and names), each with the input normalisation and the
    /// model configuration in its metadata
    Export {
        /// Which files to write
        #[arg(long, value_enum, default_value_t = ExportFormat::All)]
        format: ExportFormat,
        /// Directory to write into (created if missing; files of the same name are replaced)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Float type of model.safetensors: f16 halves the file (loading converts it back to
        /// f32); model.onnx is always f32
        #[arg(long, value_enum, default_value_t = ExportDType::F32)]
        dtype: ExportDType,
    },
}

/// The files `infer export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ExportFormat {
    /// model.onnx: opset 18, input `images` [batch, 1, 28, 28] (normalised), output `logits`
    Onnx,
    /// model.safetensors: the weights in PyTorch's layout and names (float32, or --dtype f16)
    Safetensors,
    /// Both
    All,
}

fn main() -> ExitCode {
    fast_alloc::init();
    match run(Args::parse()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<ExitCode> {
    if let Command::Predict {
        images,
        explain: Some(_),
        ..
    } = &args.command
        && images.len() != 1
    {
        bail!(
            "--explain draws one image's heat map: give one image (got {})",
            images.len()
        );
    }
    if let Command::Predict {
        explain: Some(out), ..
    } = &args.command
        && !out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        bail!(
            "--explain writes a PNG: name the file *.png (got {})",
            model::quote_path(out)
        );
    }
    let source = ModelSource::resolve(args.model_dir)?;
    let device = infer::default_device();
    let predictor = source
        .load(&device)
        .with_context(|| format!("cannot load the model ({source})"))?;
    // On stderr: stdout holds only results (one JSON object per line with --json).
    eprintln!("model: {source}");
    for note in predictor.notes() {
        eprintln!("note: {note}");
    }
    match args.command {
        Command::Predict {
            images,
            json,
            explain: Some(out),
        } => {
            explain(&predictor, &images[0], &out, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Predict {
            images,
            json,
            explain: None,
        } => Ok(predict(&predictor, &images, json)),
        Command::Eval {
            data_dir,
            images,
            report,
            robustness,
            seed,
            compare,
        } => {
            // A wrong --compare file fails before the minutes of measuring.
            let compare = compare.as_deref().map(read_report).transpose()?;
            let robustness = robustness.then(|| RobustnessRequest {
                seed,
                compare,
                model: source.to_string(),
            });
            eval(
                &predictor,
                data_dir.as_deref(),
                images.as_deref(),
                report.as_deref(),
                robustness.as_ref(),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { format, out, dtype } => {
            let dtype = match dtype {
                ExportDType::F32 => infer::export::WeightDType::F32,
                ExportDType::F16 => infer::export::WeightDType::F16,
            };
            export(&predictor, format, dtype, &out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes the files of `format` into `out` (the safetensors weights in `dtype`) and lists them.
fn export(
    predictor: &Predictor,
    format: ExportFormat,
    dtype: infer::export::WeightDType,
    out: &Path,
) -> Result<()> {
    use infer::export::{ONNX_FILE, onnx_bytes, safetensors_bytes_as, write_file};
    let (net, config) = (predictor.net(), predictor.config());
    let mut written = Vec::new();
    if matches!(format, ExportFormat::Onnx | ExportFormat::All) {
        let bytes = onnx_bytes(net, config, predictor.device())?;
        written.push((write_file(out, ONNX_FILE, &bytes)?, bytes.len()));
    }
    if matches!(format, ExportFormat::Safetensors | ExportFormat::All) {
        let bytes = safetensors_bytes_as(net, config, dtype)?;
        let name = infer::model_file::SAFETENSORS_FILE;
        written.push((write_file(out, name, &bytes)?, bytes.len()));
    }
    for (path, size) in written {
        println!("wrote {} ({size} bytes)", path.display());
    }
    Ok(())
}

/// The float type of the exported safetensors weights (`--dtype`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ExportDType {
    /// float32, the weights as trained
    F32,
    /// float16 (IEEE half precision)
    F16,
}

/// Predicts each file; a bad file is reported and the others still predicted.
fn predict(predictor: &Predictor, files: &[PathBuf], json: bool) -> ExitCode {
    let mut failed = false;
    for file in files {
        match open_image(file).and_then(|img| predictor.predict_image(&img)) {
            Ok(p) => {
                if json {
                    // A name that is not UTF-8 is written lossily (U+FFFD for the bytes that
                    // are not), as JSON strings must be; the other fields are unchanged.
                    let line = serde_json::json!({
                        "file": file.to_string_lossy(),
                        "label": p.label,
                        "probabilities": p.probabilities,
                    });
                    println!("{line}");
                } else {
                    let top: Vec<String> = p
                        .top(3)
                        .iter()
                        .map(|(d, prob)| format!("{d} {:.1}%", 100.0 * prob))
                        .collect();
                    println!("{}: {} ({})", file.display(), p.label, top.join(", "));
                }
            }
            Err(err) => {
                // The error names the file already.
                eprintln!("error: {:#}", anyhow::Error::from(err));
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Predicts `file` and writes the occlusion heat map of that prediction to `out`.
fn explain(predictor: &Predictor, file: &Path, out: &Path, json: bool) -> Result<()> {
    let image = open_image(file)?;
    let pixels = infer::preprocess(&image).with_context(|| model::quote_path(file))?;
    let prediction = predictor.predict(&pixels);
    let start = std::time::Instant::now();
    let map = predictor.explain_digit(&pixels, prediction.label);
    let ms = start.elapsed().as_secs_f64() * 1e3;
    infer::save_image(&infer::explain::heat_map_image(&map), out)?;
    let copies = map.drops.len();
    if json {
        let line = serde_json::json!({
            "file": file.to_string_lossy(),
            "label": prediction.label,
            "probabilities": prediction.probabilities,
            "explain": out.to_string_lossy(),
            "occluded_copies": copies,
            "ms": ms,
        });
        println!("{line}");
    } else {
        println!(
            "{}: {} ({:.1}%); why: {} (red: hiding those pixels lowers P({}), blue: raises it; \
             {copies} occluded copies in one batch, {ms:.0} ms)",
            file.display(),
            map.label,
            100.0 * map.probability,
            out.display(),
            map.label,
        );
    }
    Ok(())
}

/// What `eval --robustness` was asked for.
struct RobustnessRequest {
    seed: u64,
    /// `--compare`'s report, drawn beside this model's.
    compare: Option<Robustness>,
    /// The model's name in the report and the plot's legend.
    model: String,
}

/// The largest `--compare` file read: a report is about 6 KB.
const MAX_REPORT_BYTES: u64 = 1 << 20;

fn eval(
    predictor: &Predictor,
    data_dir: Option<&Path>,
    images: Option<&Path>,
    report: Option<&Path>,
    robustness: Option<&RobustnessRequest>,
) -> Result<()> {
    let (set, source) = match images {
        Some(dir) => {
            let LabelledFolder {
                set,
                files,
                failures,
            } = read_labelled_folder(dir)?;
            for failure in failures {
                eprintln!("skipped: {:#}", anyhow::Error::from(failure));
            }
            (set, format!("{} ({} images)", dir.display(), files.len()))
        }
        None => {
            let set = Mnist::load_test(data_dir).context("cannot load the MNIST test set")?;
            let n = set.len();
            (set, format!("MNIST test set ({n} images)"))
        }
    };
    if set.is_empty() {
        bail!("nothing to evaluate");
    }
    let predicted = predict_set(predictor.net(), &set, predictor.device());
    let confusion = Confusion::from_predictions(set.labels(), &predicted)?;
    println!("evaluated on {source}");
    println!(
        "accuracy: {:.2}% ({} of {})",
        100.0 * confusion.accuracy(),
        confusion.correct(),
        confusion.total()
    );
    let per_class: Vec<String> = confusion
        .per_class_accuracy()
        .iter()
        .enumerate()
        .map(|(d, a)| format!("{d}: {:.2}%", 100.0 * a))
        .collect();
    println!("per class: {}", per_class.join(", "));
    print!("{}", confusion.to_text());
    if let Some(dir) = report {
        let wrong: Vec<(&Pixels, u8, u8)> = (0..set.len())
            .filter(|&i| predicted[i] != set.labels()[i])
            .map(|i| (pixels_of(set.image(i)), set.labels()[i], predicted[i]))
            .collect();
        infer::report::write_report(dir, &confusion, &wrong)?;
        let shown = wrong.len().min(infer::report::MAX_MISCLASSIFIED_SHOWN);
        println!(
            "report: {} ({} misclassified, {shown} shown)",
            dir.display(),
            wrong.len()
        );
    }
    if let Some(request) = robustness {
        robustness_report(predictor, &set, &source, request, report)?;
    }
    Ok(())
}

/// `eval --robustness`: the table on stdout; with `--report DIR`, robustness.json and
/// robustness.png (beside `--compare`'s model, if given) in DIR.
fn robustness_report(
    predictor: &Predictor,
    set: &data::MnistSet,
    set_name: &str,
    request: &RobustnessRequest,
    report: Option<&Path>,
) -> Result<()> {
    use infer::robustness::JSON_FILE;
    use infer::robustness_plot::{PNG_FILE, render};
    let measured = infer::robustness(
        predictor.net(),
        set,
        predictor.device(),
        request.seed,
        &request.model,
        set_name,
    )?;
    print!("{}", measured.to_text());
    let Some(dir) = report else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let json = dir.join(JSON_FILE);
    let text = serde_json::to_string_pretty(&measured).context("cannot serialise the report")?;
    std::fs::write(&json, text + "\n")
        .with_context(|| format!("cannot write {}", json.display()))?;
    let reports: Vec<&Robustness> = std::iter::once(&measured)
        .chain(request.compare.as_ref())
        .collect();
    let png = dir.join(PNG_FILE);
    infer::save_image(&render(&reports)?, &png)?;
    println!("robustness: {} and {}", json.display(), png.display());
    Ok(())
}

/// A robustness.json written by `eval --robustness --report`, read with a size bound.
fn read_report(path: &Path) -> Result<Robustness> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        bail!(
            "{}: larger than {MAX_REPORT_BYTES} bytes, not a robustness report",
            path.display()
        );
    }
    serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{}: not a robustness report (robustness.json)",
            path.display()
        )
    })
}

/// One image of a set as [`Pixels`].
fn pixels_of(image: &[u8]) -> &Pixels {
    let ([pixels], []) = image.as_chunks::<IMAGE_PIXELS>() else {
        unreachable!("an MnistSet image holds IMAGE_PIXELS bytes");
    };
    pixels
}
