//! `cargo run --release -p train -- [FLAGS]`: trains the MNIST CNN and exports it.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use burn::config::Config;
use clap::Parser;
use model::{Activation, MnistCnnConfig, Padding, Pooling};
use train::device::{self, DeviceChoice};
use train::{LrSchedule, OptimizerKind, ProgressStyle, RunDir, RunOptions, TrainingConfig};

// mimalloc instead of the system allocator: Burn's CPU backends allocate a fresh buffer for every
// op's output, and glibc returns and re-faults those pages step after step (measured with
// crates/bench: ~5% training, ~10% inference throughput; see crates/bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Train the lecture's MNIST CNN with Burn. Every hyper-parameter flag overrides the default,
/// or the value in --config when one is given.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None, allow_negative_numbers = true)]
struct Args {
    /// Passes over the training split [default: 12, which reaches >= 99.2% test accuracy]
    #[arg(long)]
    epochs: Option<usize>,
    /// Images per optimiser step [default: 64]
    #[arg(long)]
    batch_size: Option<usize>,
    /// Initial learning rate [default: 0.001]
    #[arg(long)]
    lr: Option<f64>,
    /// Optimiser: adam, adamw or sgd (momentum 0.9) [default: adam]
    #[arg(long)]
    optimizer: Option<OptimizerKind>,
    /// Learning-rate schedule: constant, or cosine annealing to 0 over the run [default: cosine]
    #[arg(long)]
    lr_schedule: Option<LrSchedule>,
    /// Seed of initialisation, shuffling, the validation split and augmentation [default: 42]
    #[arg(long)]
    seed: Option<u64>,
    /// Data-loader worker threads [default: 1]
    #[arg(long)]
    workers: Option<usize>,
    /// Training images held out for validation / model selection [default: 5000]
    #[arg(long)]
    valid_size: Option<usize>,
    /// Randomly shift (±2 px) and rotate (±10°) training images
    #[arg(long)]
    augment: bool,
    /// Stop when validation loss has not improved for this many epochs [default: off]
    #[arg(long, value_name = "PATIENCE")]
    early_stopping: Option<usize>,

    /// Activation: relu or leaky-relu [default: relu]
    #[arg(long)]
    activation: Option<String>,
    /// Negative slope of leaky-relu [default: 0.01]
    #[arg(long)]
    leaky_slope: Option<f64>,
    /// Pooling: max or avg [default: max]
    #[arg(long)]
    pooling: Option<Pooling>,
    /// Convolution padding: valid (28->26->13->11->5) or same (28->28->14->14->7) [default: valid]
    #[arg(long)]
    padding: Option<Padding>,
    /// Dropout probability before the last layer [default: 0.5]
    #[arg(long)]
    dropout: Option<f64>,
    /// Units of the hidden dense layer [default: 512]
    #[arg(long)]
    hidden_units: Option<usize>,

    /// Directory with the four MNIST IDX files (.gz or raw); else MNIST_DIR, else the cache
    /// (~/.cache/mnist-cnn/mnist, downloaded on first use)
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Where the run writes [default: a new folder runs/<UTC time>]
    #[arg(long)]
    artifact_dir: Option<PathBuf>,
    /// Continue the run in --artifact-dir from its last checkpoint (with its saved config)
    #[arg(long, requires = "artifact_dir")]
    resume: bool,
    /// Rerun a saved training configuration (a run's config.json); flags override it
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    config: Option<PathBuf>,
    /// auto (GPU if compiled in, else CPU; BURN_DEVICE=flex|ndarray|wgpu can choose), cpu or gpu
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// Split each batch into N shards trained in parallel (same update as the whole batch)
    /// [default: one per CPU thread on a CPU backend (RAYON_NUM_THREADS), 1 on a GPU]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    shards: Option<u16>,
    /// Print plain progress lines even on a terminal (instead of Burn's dashboard)
    #[arg(long)]
    plain: bool,
}

impl Args {
    /// The configuration: the base (default, --config or the resumed run's) with flags applied.
    fn config(&self, base: TrainingConfig) -> Result<TrainingConfig> {
        let mut c = base;
        let m = &mut c.model;
        if self.activation.is_some() || self.leaky_slope.is_some() {
            let slope = self.leaky_slope.unwrap_or(match m.activation {
                Activation::LeakyRelu { slope } => slope,
                Activation::Relu => Activation::DEFAULT_LEAKY_SLOPE,
            });
            let name = self.activation.as_deref().unwrap_or(m.activation.name());
            m.activation = Activation::from_name(name, slope)?;
        }
        set(&mut m.pooling, self.pooling);
        set(&mut m.padding, self.padding);
        set(&mut m.dropout, self.dropout);
        set(&mut m.hidden_units, self.hidden_units);
        set(&mut c.epochs, self.epochs);
        set(&mut c.batch_size, self.batch_size);
        set(&mut c.lr, self.lr);
        set(&mut c.optimizer, self.optimizer);
        set(&mut c.lr_schedule, self.lr_schedule);
        set(&mut c.seed, self.seed);
        set(&mut c.workers, self.workers);
        set(&mut c.valid_size, self.valid_size);
        c.augment |= self.augment;
        if self.early_stopping.is_some() {
            c.early_stopping = self.early_stopping;
        }
        c.validate()?;
        Ok(c)
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

fn main() {
    if let Err(err) = run(Args::parse()) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let run_dir = match &args.artifact_dir {
        Some(dir) => RunDir::new(dir),
        None => RunDir::fresh(std::path::Path::new("runs")),
    };
    let base = if args.resume {
        TrainingConfig::load(run_dir.config())
            .with_context(|| format!("cannot read {}", run_dir.config().display()))?
    } else if let Some(path) = &args.config {
        TrainingConfig::load(path)
            .with_context(|| format!("cannot read --config {}", path.display()))?
    } else {
        TrainingConfig::new(MnistCnnConfig::new())
    };
    let config = args.config(base)?;
    let device = device::select(args.device)?;
    let progress = if std::io::stdout().is_terminal() && !args.plain {
        ProgressStyle::Tui
    } else {
        ProgressStyle::Plain(Duration::from_secs(5))
    };
    println!("device: {device}");
    println!("run directory: {}", run_dir.path().display());
    println!("{}", config.model.summary());
    let options = RunOptions {
        run_dir: run_dir.clone(),
        device,
        resume: args.resume,
        progress,
        shards: args.shards.map(usize::from),
    };
    let metrics = train::train(&config, args.data_dir.as_deref(), &options)?;
    println!(
        "test accuracy: {:.2}% ({} images), model from epoch {} of {}, {:.1}s per epoch on {}",
        100.0 * metrics.test_accuracy,
        metrics.test_images,
        metrics.selected_epoch,
        metrics.epochs,
        metrics.seconds_per_epoch,
        metrics.backend
    );
    println!("model: {}", run_dir.model_dir().display());
    println!("metrics: {}", run_dir.metrics().display());
    Ok(())
}
