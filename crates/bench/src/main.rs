//! `cargo run --release -p bench [--features ndarray,wgpu] -- [--json out.json]`
//!
//! Per compiled backend: training throughput through the raw autodiff step and through a full
//! Learner epoch (so the Learner/data overhead shows as a percentage), at batch 64 and 256;
//! inference img/s at batch 1000; batch-1 latency (median, p99); peak RSS of the process.
//! Data are synthetic digits held in memory: throughput does not depend on pixel values.

use std::time::{Duration, Instant};

use anyhow::Result;
use burn::data::dataloader::batcher::Batcher;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use clap::Parser;
use data::{Location, Mnist, MnistBatch, MnistBatcher, MnistSet};
use model::MnistCnnConfig;
use serde::Serialize;
use train::step::Classifier;
use train::{ProgressStyle, RunDir, RunOptions, SelectedDevice, TrainingConfig};

#[derive(Parser)]
#[command(about = "Benchmark the MNIST CNN on every compiled backend")]
struct Args {
    /// Backends to measure (default: every compiled one)
    #[arg(long, value_delimiter = ',')]
    backends: Vec<String>,
    /// Training batch sizes
    #[arg(long, value_delimiter = ',', default_value = "64,256")]
    batch_sizes: Vec<usize>,
    /// Images per training measurement
    #[arg(long, default_value_t = 12_800)]
    train_images: usize,
    /// Batch-1 inference runs for the latency percentiles
    #[arg(long, default_value_t = 300)]
    latency_runs: usize,
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
    raw_step_img_per_s: f64,
    learner_epoch_img_per_s: Option<f64>,
    learner_overhead_percent: Option<f64>,
}

#[derive(Serialize, Debug)]
struct BackendResult {
    backend: String,
    device: String,
    train: Vec<TrainResult>,
    infer_batch_1000_img_per_s: f64,
    latency_batch_1_median_ms: f64,
    latency_batch_1_p99_ms: f64,
}

#[derive(Serialize, Debug)]
struct Report {
    threads: usize,
    results: Vec<BackendResult>,
    peak_rss_mib: f64,
}

fn synthetic(n: usize, seed: u64) -> MnistSet {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let images = (0..n * 784).map(|_| (next() % 256) as u8).collect();
    let labels = (0..n).map(|_| (next() % 10) as u8).collect();
    MnistSet::from_parts(images, labels)
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

/// Images per second of forward + backward + Adam over pre-built batches.
fn raw_steps(device: &Device, set: &MnistSet, batch_size: usize) -> f64 {
    let device = device.clone().autodiff();
    let mut model = Classifier {
        net: MnistCnnConfig::new().init(&device),
    };
    let mut optim = AdamConfig::new().init();
    let batches = batches(set, batch_size, &device);
    let warmup = 3.min(batches.len());
    let mut step = |model: Classifier, batch: &MnistBatch| {
        let out = model.forward_classification(batch.clone());
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        let model = optim.step(1e-3, model, grads);
        (model, out.loss)
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
fn learner_epoch(selected: &SelectedDevice, set: &MnistSet, batch_size: usize) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let valid = 256;
    let mnist = Mnist {
        train: set.clone(),
        test: synthetic(256, 99),
        location: Location::DataDir("synthetic".into()),
    };
    let config = TrainingConfig::new(MnistCnnConfig::new())
        .with_epochs(1)
        .with_batch_size(batch_size)
        .with_valid_size(valid);
    let options = RunOptions {
        run_dir: RunDir::new(dir.path().join("run")),
        device: selected.clone(),
        resume: false,
        progress: ProgressStyle::Plain(Duration::from_secs(3600)),
    };
    options.run_dir.prepare(&config, false)?;
    let metrics = train::train_on(&config, &mnist, &options)?;
    // train_seconds covers the epoch plus a validation pass over 256 images and the final
    // test pass over 256: under 5% of the images, counted as overhead.
    Ok((set.len() - valid) as f64 / metrics.train_seconds)
}

fn inference(device: &Device, set: &MnistSet, latency_runs: usize) -> (f64, f64, f64) {
    let net = MnistCnnConfig::new().init(device);
    let pixels: Vec<u8> = (0..1000).flat_map(|i| set.image(i).to_vec()).collect();
    let run = |pixels: &[u8]| {
        let out: Vec<f32> = net
            .forward(data::images_to_tensor(pixels, device))
            .into_data()
            .try_into_vec()
            .unwrap();
        std::hint::black_box(out);
    };
    run(&pixels);
    let start = Instant::now();
    let reps = 5;
    for _ in 0..reps {
        run(&pixels);
    }
    let throughput = (reps * 1000) as f64 / start.elapsed().as_secs_f64();
    for i in 0..20 {
        run(set.image(i));
    }
    let mut latencies: Vec<f64> = (0..latency_runs)
        .map(|i| {
            let t = Instant::now();
            run(set.image(i % 1000));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    (throughput, pct(0.5), pct(0.99))
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

fn main() -> Result<()> {
    let args = Args::parse();
    let backends: Vec<String> = if args.backends.is_empty() {
        train::device::COMPILED_BACKENDS
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args.backends.clone()
    };
    let set = synthetic(args.train_images.max(1000), 1);
    let mut results = Vec::new();
    for backend in &backends {
        let selected = match backend.as_str() {
            "wgpu" => train::device::select(train::DeviceChoice::Gpu)?,
            "flex" => train::device::named("flex")?,
            "ndarray" => train::device::named("ndarray")?,
            other => anyhow::bail!("unknown backend {other}"),
        };
        let device = selected.device.clone();
        eprintln!("measuring {selected}");
        let mut train = Vec::new();
        for &batch_size in &args.batch_sizes {
            let raw = raw_steps(&device, &set, batch_size);
            let learner = if args.raw_only {
                None
            } else {
                Some(learner_epoch(&selected, &set, batch_size)?)
            };
            let overhead = learner.map(|l| 100.0 * (raw / l - 1.0));
            eprintln!("  batch {batch_size}: raw {raw:.0} img/s, learner {learner:?}");
            train.push(TrainResult {
                batch_size,
                raw_step_img_per_s: raw,
                learner_epoch_img_per_s: learner,
                learner_overhead_percent: overhead,
            });
        }
        let (throughput, median, p99) = inference(&device, &set, args.latency_runs);
        results.push(BackendResult {
            backend: backend.clone(),
            device: format!("{device:?}"),
            train,
            infer_batch_1000_img_per_s: throughput,
            latency_batch_1_median_ms: median,
            latency_batch_1_p99_ms: p99,
        });
    }
    let report = Report {
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        results,
        peak_rss_mib: peak_rss_mib(),
    };
    println!(
        "{:<8} {:>6} {:>12} {:>14} {:>9} {:>12} {:>10} {:>9}",
        "backend",
        "batch",
        "raw img/s",
        "learner img/s",
        "overhead",
        "infer img/s",
        "b1 median",
        "b1 p99"
    );
    for r in &report.results {
        for t in &r.train {
            println!(
                "{:<8} {:>6} {:>12.0} {:>14} {:>9} {:>12.0} {:>8.2}ms {:>7.2}ms",
                r.backend,
                t.batch_size,
                t.raw_step_img_per_s,
                t.learner_epoch_img_per_s
                    .map_or("-".into(), |v| format!("{v:.0}")),
                t.learner_overhead_percent
                    .map_or("-".into(), |v| format!("{v:.1}%")),
                r.infer_batch_1000_img_per_s,
                r.latency_batch_1_median_ms,
                r.latency_batch_1_p99_ms
            );
        }
    }
    println!(
        "peak RSS {:.0} MiB, {} threads available",
        report.peak_rss_mib, report.threads
    );
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}
