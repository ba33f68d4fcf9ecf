//! `cargo run --release -p bench [--features ndarray,wgpu] -- [--json out.json]`
//! (`--train-backends`, `--infer-backends` pick a subset; `compare.sh` runs it against PyTorch.)
//!
//! Per compiled backend: training throughput through the raw autodiff step and through a full
//! Learner epoch (so the Learner/data overhead shows as a percentage), at batch 64 and 256;
//! inference img/s at batch 1000; batch-1 latency (median, p99); the latency of "why this digit"
//! (`model::occlusion_map`: the image and its 169 occluded copies in one batch); peak RSS of the
//! process; the machine's limit for the products, a 2048x2048 sgemm through `gemm` (peak.rs), and
//! the training step's rate in GFLOP/s against it.
//! Data are synthetic digits held in memory: throughput does not depend on pixel values.

mod ops;
#[cfg(feature = "flex")]
mod peak;

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use burn::data::dataloader::batcher::Batcher;
use burn::tensor::Device;
use burn::train::TrainStep;
use clap::Parser;
use data::synthetic::digits;
use data::{Location, Mnist, MnistBatch, MnistBatcher, MnistSet};
use model::{MnistCnnConfig, Pixels, images_to_tensor};
use serde::Serialize;
use train::Classifier;
use train::{Backend, ProgressStyle, RunDir, RunOptions, SelectedDevice, TrainingConfig};

#[derive(Parser)]
#[command(about = "Benchmark the MNIST CNN on every compiled backend")]
struct Args {
    /// Backends to train on [default: every compiled one; none if given without a value]
    #[arg(long, value_enum, value_delimiter = ',', num_args = 0..)]
    train_backends: Option<Vec<Backend>>,
    /// Backends to run inference on [default: every compiled one; none if given without a value]
    #[arg(long, value_enum, value_delimiter = ',', num_args = 0..)]
    infer_backends: Option<Vec<Backend>>,
    /// Training batch sizes
    #[arg(long, value_delimiter = ',', default_value = "64,256")]
    batch_sizes: Vec<usize>,
    /// Images per training measurement
    #[arg(long, default_value_t = 12_800)]
    train_images: usize,
    /// Batch-1 inference runs for the latency percentiles
    #[arg(long, default_value_t = 300)]
    latency_runs: usize,
    /// Shards per training batch [default: as `train` picks for the backend]
    #[arg(long)]
    shards: Option<usize>,
    /// Instead of the benchmark: time each op of one training step (see ops.rs)
    #[arg(long)]
    ops: bool,
    /// Data-loader workers of the Learner epoch [default: train's, 1]; 0 builds batches on the
    /// training thread
    #[arg(long)]
    workers: Option<usize>,
    /// Skip the Learner epoch measurement
    #[arg(long)]
    raw_only: bool,
    /// Also write the results as JSON here
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

#[derive(Serialize, Debug)]
struct TrainResult {
    batch_size: usize,
    shards: usize,
    raw_step_img_per_s: f64,
    learner_epoch_img_per_s: Option<f64>,
    learner_overhead_percent: Option<f64>,
}

#[derive(Serialize, Debug)]
struct BackendResult {
    backend: Backend,
    device: String,
    train: Vec<TrainResult>,
    infer: Option<InferResult>,
}

#[derive(Serialize, Debug)]
struct InferResult {
    batch_1000_img_per_s: f64,
    latency_batch_1_median_ms: f64,
    latency_batch_1_p99_ms: f64,
    explain_median_ms: f64,
    explain_p99_ms: f64,
}

/// Timings of one measurement, in milliseconds.
struct Latency {
    median: f64,
    p99: f64,
}

/// Median and p99 of `runs` calls of `f`, after `warmup` unmeasured ones.
fn latency(warmup: usize, runs: usize, mut f: impl FnMut(usize)) -> Latency {
    (0..warmup).for_each(&mut f);
    let mut ms: Vec<f64> = (0..runs.max(1))
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    Latency {
        median: pct(0.5),
        p99: pct(0.99),
    }
}

#[derive(Serialize, Debug)]
struct Report {
    threads: usize,
    results: Vec<BackendResult>,
    peak_rss_mib: f64,
    /// Best GFLOP/s of a 2048x2048 f32 product on flex (`gemm` on rayon's pool); absent in a
    /// build without flex.
    sgemm_2048_gflops: Option<f64>,
    /// FLOPs of one training step's matrix products per image ([`model::shape::ProductFlops`]).
    training_flops_per_image: u64,
}

fn batches(set: &MnistSet, batch_size: usize, device: &Device) -> Vec<MnistBatch> {
    (0..set.len() / batch_size)
        .map(|b| {
            let items = (b * batch_size..(b + 1) * batch_size)
                .map(|i| set.item(i))
                .collect();
            MnistBatcher.batch(items, device)
        })
        .collect()
}

/// Images per second of forward + backward + the default optimiser over pre-built batches: the
/// Learner's training step (`TrainStep::step`, sharded as in training) without the Learner.
fn raw_steps(selected: &SelectedDevice, set: &MnistSet, batch_size: usize, shards: usize) -> f64 {
    let device = selected.device.clone().autodiff();
    let config = TrainingConfig::new(MnistCnnConfig::new());
    let mut model = Classifier::new(config.model.init(&device), shards);
    let mut optim = config.optimizer.init();
    let batches = batches(set, batch_size, &device);
    let warmup = 3.min(batches.len());
    let mut step = |model: Classifier, batch: &MnistBatch| {
        let out = TrainStep::step(&model, batch.clone());
        let model = optim.step(config.lr, model, out.grads);
        (model, out.item.loss)
    };
    for batch in &batches[..warmup] {
        model = step(model, batch).0;
    }
    let start = Instant::now();
    let mut last = None;
    for batch in &batches[warmup..] {
        let (m, loss) = step(model, batch);
        model = m;
        last = Some(loss);
    }
    if let Some(loss) = last {
        let _: f32 = loss.into_scalar(); // wait for the device
    }
    ((batches.len() - warmup) * batch_size) as f64 / start.elapsed().as_secs_f64()
}

/// Images per second of one epoch through `train::train_on` (Learner, data loader, metrics).
fn learner_epoch(
    selected: &SelectedDevice,
    set: &MnistSet,
    batch_size: usize,
    shards: usize,
    workers: Option<usize>,
) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let valid = 256;
    let mnist = Mnist {
        train: set.clone(),
        test: digits(256, 99),
        location: Location::DataDir("synthetic".into()),
    };
    let config = TrainingConfig::new(MnistCnnConfig::new())
        .with_epochs(1)
        .with_batch_size(batch_size)
        .with_valid_size(valid);
    let config = match workers {
        Some(workers) => config.with_workers(workers),
        None => config,
    };
    let run = RunDir::new(dir.path().join("run")).prepare(&config, false)?;
    let options = RunOptions {
        device: selected.clone(),
        progress: ProgressStyle::Plain(Duration::from_secs(3600)),
        shards: Some(shards),
        extra_devices: Vec::new(),
    };
    let metrics = train::train_on(run, &mnist, &options)?;
    // train_seconds covers the epoch plus a validation pass over 256 images and the final
    // test pass over 256: under 5% of the images, counted as overhead.
    Ok((set.len() - valid) as f64 / metrics.train_seconds)
}

/// Batch-1000 throughput, batch-1 latency and occlusion ("why this digit") latency.
fn inference(device: &Device, set: &MnistSet, latency_runs: usize) -> (f64, Latency, Latency) {
    let net = MnistCnnConfig::new().init(device);
    let images: Vec<Pixels> = (0..1000).map(|i| set.item(i).image).collect();
    let run = |images: &[Pixels]| {
        let out: Vec<f32> = net
            .forward(images_to_tensor(images, device))
            .into_data()
            .try_into_vec()
            .expect("f32 logits");
        std::hint::black_box(out);
    };
    // Three unmeasured batches, then the median of ten: on a GPU the first batches of a new
    // shape compile and tune kernels (one warm-up and a mean of five measured 351 img/s on an
    // H200 whose occlusion batches of 170 ran at ~36,000 img/s), and a median is not moved by
    // one late tuning run. pytorch_reference.py measures the same way.
    let batch = latency(3, 10, |_| run(&images));
    let throughput = 1000.0 / (batch.median / 1e3);
    let single = latency(20, latency_runs, |i| {
        run(std::slice::from_ref(&images[i % images.len()]));
    });
    // A batch of 170 per call: a third of the batch-1 runs (100 by default, so that the p99 is
    // not simply the slowest run).
    let explain = latency(5, latency_runs / 3, |i| {
        std::hint::black_box(model::occlusion_map(
            &net,
            &images[i % images.len()],
            device,
        ));
    });
    (throughput, single, explain)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() -> std::process::ExitCode {
    fast_alloc::init();
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    // `--infer-backends` without a value measures no inference (e.g. under a profiler).
    let chosen = |list: &Option<Vec<Backend>>| -> Vec<Backend> {
        list.clone()
            .unwrap_or_else(|| train::COMPILED_BACKENDS.to_vec())
    };
    let train_backends = chosen(&args.train_backends);
    let infer_backends = chosen(&args.infer_backends);
    if args.ops {
        let mut profiles = Vec::new();
        for &backend in &train_backends {
            if backend.is_gpu() {
                anyhow::bail!("--ops profiles a CPU backend (flex or ndarray), not {backend}");
            }
            let selected = backend.select()?;
            for &batch_size in &args.batch_sizes {
                let profile = ops::profile(&selected.device, batch_size);
                println!("{selected}");
                ops::print(&profile);
                profiles.push(profile);
            }
            let profile = ops::forward_profile(&selected.device, 1);
            println!(
                "{selected}: inference of one image, {:.3} ms measured; ops below sum to {:.3} ms",
                profile.full_step_ms, profile.ops_total_ms
            );
            ops::print_ops(&profile);
            profiles.push(profile);
        }
        if let Some(path) = &args.json {
            std::fs::write(path, serde_json::to_string_pretty(&profiles)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        return Ok(());
    }
    let mut backends = train_backends.clone();
    backends.extend(infer_backends.iter().cloned());
    backends.sort();
    backends.dedup();
    let set = digits(args.train_images.max(1000), 1);
    let mut results = Vec::new();
    // Every backend is checked (and the GPU probed) before the first measurement starts.
    let selected_devices = backends
        .iter()
        .map(|b| b.select())
        .collect::<Result<Vec<_>, _>>()?;
    for (backend, selected) in backends.iter().zip(selected_devices) {
        let device = selected.device.clone();
        eprintln!("measuring {selected}");
        let mut train = Vec::new();
        let shards = args
            .shards
            .unwrap_or_else(|| train::default_shards(&selected));
        if train_backends.contains(backend) {
            for &batch_size in &args.batch_sizes {
                let raw = raw_steps(&selected, &set, batch_size, shards);
                let learner = if args.raw_only {
                    None
                } else {
                    Some(learner_epoch(
                        &selected,
                        &set,
                        batch_size,
                        shards,
                        args.workers,
                    )?)
                };
                let overhead = learner.map(|l| 100.0 * (raw / l - 1.0));
                eprintln!("  batch {batch_size}: raw {raw:.0} img/s, learner {learner:?}");
                train.push(TrainResult {
                    batch_size,
                    shards,
                    raw_step_img_per_s: raw,
                    learner_epoch_img_per_s: learner,
                    learner_overhead_percent: overhead,
                });
            }
        }
        let infer = infer_backends.contains(backend).then(|| {
            let (throughput, single, explain) = inference(&device, &set, args.latency_runs);
            InferResult {
                batch_1000_img_per_s: throughput,
                latency_batch_1_median_ms: single.median,
                latency_batch_1_p99_ms: single.p99,
                explain_median_ms: explain.median,
                explain_p99_ms: explain.p99,
            }
        });
        results.push(BackendResult {
            backend: *backend,
            device: format!("{device:?}"),
            train,
            infer,
        });
    }
    let report = Report {
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        results,
        peak_rss_mib: peak_rss_mib(),
        sgemm_2048_gflops: sgemm_peak(),
        training_flops_per_image: model::shape::ProductFlops::of(&MnistCnnConfig::new()).training(),
    };
    print_table(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The sgemm peak on flex, where flex is compiled in.
fn sgemm_peak() -> Option<f64> {
    #[cfg(feature = "flex")]
    {
        eprintln!("measuring the sgemm peak ({0}x{0} on flex)", peak::SIDE);
        Some(peak::sgemm_gflops(5))
    }
    #[cfg(not(feature = "flex"))]
    None
}

fn print_table(report: &Report) {
    println!(
        "{:<8} {:>6} {:>12} {:>14} {:>9}",
        "backend", "batch", "raw img/s", "learner img/s", "overhead"
    );
    for r in &report.results {
        for t in &r.train {
            println!(
                "{:<8} {:>6} {:>12.0} {:>14} {:>9}",
                r.backend,
                t.batch_size,
                t.raw_step_img_per_s,
                t.learner_epoch_img_per_s
                    .map_or("-".into(), |v| format!("{v:.0}")),
                t.learner_overhead_percent
                    .map_or("-".into(), |v| format!("{v:.1}%")),
            );
        }
    }
    println!(
        "{:<8} {:>16} {:>12} {:>12} {:>15} {:>12}",
        "backend", "infer b1000 img/s", "b1 median", "b1 p99", "explain median", "explain p99"
    );
    for r in &report.results {
        if let Some(i) = &r.infer {
            println!(
                "{:<8} {:>16.0} {:>10.3}ms {:>10.3}ms {:>13.1}ms {:>10.1}ms",
                r.backend,
                i.batch_1000_img_per_s,
                i.latency_batch_1_median_ms,
                i.latency_batch_1_p99_ms,
                i.explain_median_ms,
                i.explain_p99_ms
            );
        }
    }
    let mflop = report.training_flops_per_image as f64 / 1e6;
    if let Some(peak) = report.sgemm_2048_gflops {
        println!("sgemm 2048x2048 on flex (gemm): {peak:.1} GFLOP/s");
    }
    for r in &report.results {
        for t in &r.train {
            let rate = t.raw_step_img_per_s * mflop / 1e3;
            let share = report.sgemm_2048_gflops.map_or(String::new(), |peak| {
                format!(", {:.2} of the sgemm peak", rate / peak)
            });
            println!(
                "{} train step batch {}: {rate:.1} GFLOP/s ({mflop:.2} MFLOP/image){share}",
                r.backend, t.batch_size
            );
        }
    }
    println!(
        "peak RSS {:.0} MiB, {} threads available",
        report.peak_rss_mib, report.threads
    );
}
