//! `cargo run --release -p train -- [FLAGS]`: trains the MNIST CNN and exports it.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use model::{Activation, ActivationKind, MnistCnnConfig, Padding, Pooling};
use train::DeviceChoice;
use train::DeviceList;
use train::MultiDeviceConfig;
use train::{
    LrSchedule, OptimizerConfig, OptimizerKind, ProgressStyle, RunDir, RunOptions, TrainingConfig,
};

/// Train the lecture's MNIST CNN with Burn. Every hyper-parameter flag overrides the default,
/// or the value in --config when one is given.
///
/// The `[default: X]` of the hyper-parameter flags is added at runtime from `TrainingConfig`'s
/// own defaults (see [`help_defaults`]), so that the help cannot drift from the configuration.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None, allow_negative_numbers = true)]
struct Args {
    /// Passes over the training split (the default reaches >= 99.2% test accuracy on MNIST)
    #[arg(long)]
    epochs: Option<usize>,
    /// Images per optimiser step
    #[arg(long)]
    batch_size: Option<usize>,
    /// Initial learning rate
    #[arg(long)]
    lr: Option<f64>,
    /// Optimiser, with its default hyper-parameters (a --config file can set them)
    #[arg(long)]
    optimizer: Option<OptimizerKind>,
    /// Learning-rate schedule: constant, or cosine annealing to 0 over the run
    #[arg(long)]
    lr_schedule: Option<LrSchedule>,
    /// Epochs of linear warm-up from lr/100 to lr before the schedule (fractional allowed, e.g.
    /// 0.5; at least 0, fewer than --epochs); the schedule then runs over the remaining steps
    #[arg(long, value_name = "N")]
    warmup_epochs: Option<f64>,
    /// Seed of initialisation, shuffling, the validation split and augmentation
    #[arg(long)]
    seed: Option<u64>,
    /// Data-loader worker threads (0: batches built on the training thread)
    #[arg(long)]
    workers: Option<usize>,
    /// Training images held out for validation / model selection
    #[arg(long)]
    valid_size: Option<usize>,
    /// Randomly shift (±2 px) and rotate (±10°) training images
    #[arg(long)]
    augment: bool,
    /// Stop when validation loss has not improved for this many epochs
    #[arg(long, value_name = "PATIENCE")]
    early_stopping: Option<usize>,

    /// Activation
    #[arg(long)]
    activation: Option<ActivationKind>,
    /// Negative slope of leaky-relu
    #[arg(long)]
    leaky_slope: Option<f64>,
    /// Pooling
    #[arg(long)]
    pooling: Option<Pooling>,
    /// Convolution padding: valid (28->26->13->11->5) or same (28->28->14->14->7)
    #[arg(long)]
    padding: Option<Padding>,
    /// Dropout probability before the last layer
    #[arg(long)]
    dropout: Option<f64>,
    /// Units of the hidden dense layer
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
    /// Start from these weights instead of a random initialisation: a model directory, or a
    /// .bpk, .safetensors, PyTorch .pt or .onnx file (with --features onnx) of the same network
    /// (saved in config.json)
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    init_from: Option<PathBuf>,
    /// auto: the GPU if compiled in, else the CPU (BURN_DEVICE=flex|ndarray|wgpu can choose)
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Train on several devices at once through Burn's MultiDevice strategy, the first being
    /// the main one: comma-separated cpu, flex, ndarray, gpu, gpu:N (N-th discrete GPU) or
    /// remote:ws://HOST:PORT (a `serve-device` process; feature `remote`). --batch-size stays
    /// the global batch (each device takes batch/N, its loss scaled by 1/N: the same
    /// optimisation as one device); one entry trains as --device does
    //
    // Parsed in `run`, not by clap: clap's error would repeat the whole value, which can be
    // tens of KB; ours quotes at most `model::MAX_QUOTED_CHARS` of it.
    #[arg(long, value_name = "LIST", conflicts_with = "device")]
    devices: Option<String>,
    /// Split each batch into N shards trained in parallel (same update as the whole batch)
    /// [default: one per CPU thread on a CPU backend (RAYON_NUM_THREADS), 1 on a GPU]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    shards: Option<u16>,
    /// Print plain progress lines even on a terminal (instead of Burn's dashboard)
    #[arg(long)]
    plain: bool,
}

/// The `[default: X]` of each flag that overrides a field of `TrainingConfig`, as `(arg id,
/// value)`, read from `defaults`.
fn help_defaults(defaults: &TrainingConfig) -> Vec<(&'static str, String)> {
    fn name(value: impl ValueEnum) -> String {
        value
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
    let m = &defaults.model;
    let slope = match m.activation {
        Activation::LeakyRelu { slope } => slope,
        Activation::Relu => Activation::DEFAULT_LEAKY_SLOPE,
    };
    vec![
        ("epochs", defaults.epochs.to_string()),
        ("batch_size", defaults.batch_size.to_string()),
        ("lr", defaults.lr.to_string()),
        ("optimizer", name(defaults.optimizer.kind())),
        ("lr_schedule", name(defaults.lr_schedule)),
        (
            "warmup_epochs",
            defaults
                .warmup_epochs
                .map_or("off".into(), |n| n.to_string()),
        ),
        ("seed", defaults.seed.to_string()),
        ("workers", defaults.workers.to_string()),
        ("valid_size", defaults.valid_size.to_string()),
        (
            "early_stopping",
            defaults
                .early_stopping
                .map_or("off".into(), |n| n.to_string()),
        ),
        ("activation", name(m.activation.kind())),
        ("leaky_slope", slope.to_string()),
        ("pooling", name(m.pooling)),
        ("padding", name(m.padding)),
        ("dropout", m.dropout.to_string()),
        ("hidden_units", m.hidden_units.to_string()),
    ]
}

/// The command line, its hyper-parameter flags' help ending in `[default: X]` from `defaults`.
/// Not clap's `default_value`: a flag left out must leave the `--config` base alone.
fn command(defaults: &TrainingConfig) -> clap::Command {
    help_defaults(defaults)
        .into_iter()
        .fold(Args::command(), |command, (id, value)| {
            command.mut_arg(id, |arg| {
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                arg.help(format!("{help} [default: {value}]"))
            })
        })
}

impl Args {
    /// The configuration: the base (default, --config or the resumed run's) with flags applied.
    fn config(&self, base: TrainingConfig) -> TrainingConfig {
        let mut c = base;
        let m = &mut c.model;
        if self.activation.is_some() || self.leaky_slope.is_some() {
            let slope = self.leaky_slope.unwrap_or(match m.activation {
                Activation::LeakyRelu { slope } => slope,
                Activation::Relu => Activation::DEFAULT_LEAKY_SLOPE,
            });
            let kind = self.activation.unwrap_or(m.activation.kind());
            m.activation = Activation::new(kind, slope);
        }
        set(&mut m.pooling, self.pooling);
        set(&mut m.padding, self.padding);
        set(&mut m.dropout, self.dropout);
        set(&mut m.hidden_units, self.hidden_units);
        set(&mut c.epochs, self.epochs);
        set(&mut c.batch_size, self.batch_size);
        set(&mut c.lr, self.lr);
        // Another optimiser starts from its defaults; the same one keeps the base's settings.
        if let Some(kind) = self.optimizer
            && kind != c.optimizer.kind()
        {
            c.optimizer = OptimizerConfig::new(kind);
        }
        set(&mut c.lr_schedule, self.lr_schedule);
        if self.warmup_epochs.is_some() {
            c.warmup_epochs = self.warmup_epochs;
        }
        set(&mut c.seed, self.seed);
        set(&mut c.workers, self.workers);
        set(&mut c.valid_size, self.valid_size);
        c.augment |= self.augment;
        if self.early_stopping.is_some() {
            c.early_stopping = self.early_stopping;
        }
        if self.init_from.is_some() {
            c.init_from.clone_from(&self.init_from);
        }
        c
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

fn main() {
    fast_alloc::init();
    let matches = command(&TrainingConfig::new(MnistCnnConfig::new())).get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    if let Err(err) = run(args) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let run_dir = match &args.artifact_dir {
        Some(dir) => RunDir::new(dir),
        None => RunDir::fresh(std::path::Path::new("runs")),
    };
    let device_list = args
        .devices
        .as_deref()
        .map(|list| {
            list.parse::<DeviceList>()
                .with_context(|| format!("--devices {}", model::quote(list)))
        })
        .transpose()?;
    let base = if args.resume {
        let path = run_dir.config();
        TrainingConfig::read(&path)
            .with_context(|| format!("cannot read {}", model::quote_path(&path)))?
    } else if let Some(path) = &args.config {
        let read = TrainingConfig::read(path)
            .and_then(|config| config.validate().map(|()| config))
            .with_context(|| format!("--config {}", model::quote_path(path)))?;
        if let Some(multi) = &read.multi_device
            && device_list.is_none()
        {
            println!("{}", multi_device_note(path, multi));
        }
        read
    } else {
        TrainingConfig::new(MnistCnnConfig::new())
    };
    let mut config = args.config(base);
    // Before anything is built or allocated (the device, --init-from's network, the data).
    config.validate()?;
    let mut devices = match &device_list {
        Some(list) => list.select()?,
        None => vec![train::select(args.device)?],
    }
    .into_iter();
    let device = devices.next().context("no device")?;
    let extra_devices: Vec<_> = devices.collect();
    config.multi_device = match &device_list {
        Some(list) if !extra_devices.is_empty() => {
            let names = list.specs().iter().map(ToString::to_string).collect();
            Some(MultiDeviceConfig::new(names, config.batch_size, config.lr)?)
        }
        _ => None,
    };
    if let (Some(path), false) = (&config.init_from, args.resume) {
        // Checked before the run directory is made, so that a wrong file leaves nothing behind.
        let (_, notes) = train::load_initial_noted(path, &config.model, &device.device)?;
        for note in notes {
            println!("note: {note}");
        }
    }
    let run = run_dir.prepare(&config, args.resume)?;
    let progress = if std::io::stdout().is_terminal() && !args.plain {
        ProgressStyle::Tui
    } else {
        ProgressStyle::Plain(Duration::from_secs(5))
    };
    println!("device: {device}");
    if let Some(multi) = &config.multi_device {
        for (extra, name) in extra_devices.iter().zip(&multi.devices[1..]) {
            println!("device: {extra} ({name})");
        }
        println!("{}", multi.summary());
    }
    println!("run directory: {}", run.dir().path().display());
    println!("{}", config.model.summary());
    let dir = run.dir().clone();
    let options = RunOptions {
        device,
        progress,
        shards: args.shards.map(usize::from),
        extra_devices,
    };
    let metrics = train::train(run, args.data_dir.as_deref(), &options)?;
    println!(
        "test accuracy: {:.2}% ({} images), model from epoch {} of {}, {:.1}s per epoch on {}",
        100.0 * metrics.test_accuracy,
        metrics.test_images,
        metrics.selected_epoch,
        metrics.epochs,
        metrics.seconds_per_epoch,
        metrics.backend
    );
    println!("model: {}", dir.model_dir().display());
    println!("metrics: {}", dir.metrics().display());
    // Drawn after every epoch already; drawn again here so that a failure is seen, as a warning:
    // the model is trained and exported either way.
    match train::redraw_within(&dir.history(), &dir.curves(), train::DRAW_DEADLINE) {
        Ok(_) => println!("curves: {}", dir.curves().display()),
        Err(err) => eprintln!(
            "warning: cannot draw {}: {:#}",
            dir.curves().display(),
            anyhow::Error::from(err)
        ),
    }
    Ok(())
}

/// The note `train --config FILE` prints when FILE has a `multi_device` block and no
/// `--devices` is given: the run trains on one device.
///
/// A note, not an error: the block only records how an earlier run split its global batch, and
/// a run on one device at the same global batch is the same optimisation (see
/// [`train::multi_device`]: each device's loss is scaled so that the summed gradient is the
/// global batch's), so a configuration made on several devices reruns unchanged on one; the
/// device list is a property of the machine, not of the experiment. The new run's
/// `config.json` has no block, as it used none.
fn multi_device_note(path: &std::path::Path, multi: &MultiDeviceConfig) -> String {
    let names = model::quote(&multi.devices.join(",")).into_owned();
    format!(
        "note: {} was trained on {} devices ({names}); without --devices this run trains on one device at the same global batch of {} (the same optimisation); pass --devices to split it again",
        model::quote_path(path),
        multi.devices.len(),
        multi.global_batch_size
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> TrainingConfig {
        TrainingConfig::new(MnistCnnConfig::new())
    }

    fn help_of(command: &clap::Command, id: &str) -> String {
        command
            .get_arguments()
            .find(|a| a.get_id() == id)
            .and_then(|a| a.get_help())
            .map(ToString::to_string)
            .unwrap_or_else(|| panic!("no help for --{id}"))
    }

    /// Every flag that overrides a configuration field shows a default; only these do not.
    #[test]
    fn every_hyper_parameter_flag_shows_its_default() {
        let not_config = [
            "augment",
            "data_dir",
            "artifact_dir",
            "resume",
            "config",
            "init_from",
            "device",
            "devices",
            "shards",
            "plain",
            "help",
            "version",
        ];
        let command = command(&defaults());
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if not_config.contains(&id) {
                continue;
            }
            let help = help_of(&command, id);
            assert!(help.contains("[default: "), "--{id}: {help}");
        }
    }

    /// Each shown default, passed back as the flag's value, leaves the default configuration
    /// unchanged: the help says what a run without the flag does.
    #[test]
    fn each_shown_default_is_the_configuration_default() {
        let defaults = defaults();
        let command = command(&defaults);
        for (id, value) in help_defaults(&defaults) {
            let help = help_of(&command, id);
            assert!(
                help.ends_with(&format!("[default: {value}]")),
                "--{id}: {help}"
            );
            if value == "off" {
                continue; // `None`: the flag's absence
            }
            let flag = format!("--{}", id.replace('_', "-"));
            let args = Args::try_parse_from(["train", flag.as_str(), value.as_str()])
                .unwrap_or_else(|e| panic!("{flag} {value}: {e}"));
            assert_eq!(args.config(defaults.clone()), defaults, "{flag} {value}");
        }
    }

    #[test]
    fn the_help_defaults_follow_the_configuration() {
        let changed = defaults()
            .with_epochs(3)
            .with_optimizer(OptimizerConfig::new(OptimizerKind::Sgd));
        let command = command(&changed);
        assert!(help_of(&command, "epochs").ends_with("[default: 3]"));
        assert!(help_of(&command, "optimizer").ends_with("[default: sgd]"));
    }

    #[test]
    fn flags_override_the_base_and_nothing_else() {
        let base = defaults()
            .with_epochs(3)
            .with_optimizer(OptimizerConfig::Adam(
                burn::optim::AdamConfig::new().with_beta_2(0.99),
            ));
        let args = Args::try_parse_from(["train", "--lr", "0.01", "--optimizer", "adam"]).unwrap();
        let config = args.config(base.clone());
        assert_eq!(
            config,
            base.clone().with_lr(0.01),
            "same optimiser: keeps its betas"
        );

        let args = Args::try_parse_from(["train", "--optimizer", "sgd"]).unwrap();
        assert_eq!(
            args.config(base.clone()).optimizer,
            OptimizerConfig::new(OptimizerKind::Sgd)
        );
        let args = Args::try_parse_from(["train", "--activation", "leaky-relu"]).unwrap();
        assert_eq!(
            args.config(base).model.activation,
            Activation::LeakyRelu {
                slope: Activation::DEFAULT_LEAKY_SLOPE
            }
        );
    }
}
