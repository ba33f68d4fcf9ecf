//! One training spread over devices that other servers run, in one command:
//!
//! ```text
//! cargo run --release -p remote-devices --features remote -- --servers 2 --epochs 1
//! ```
//!
//! It starts `--servers` device servers on loopback ports (Burn's `RemoteServer` over WebSocket,
//! what `train`'s `serve-device` binary runs on another machine), opens them as
//! `train --devices remote:ws://HOST:PORT,...` does, and trains with Burn's MultiDevice strategy:
//! every batch is split across the servers, each computes its share's gradients, and this
//! process keeps the model and the optimiser. The servers are this program run again as child
//! processes (a hidden `--serve` mode), so the example needs no second terminal; across machines
//! the code is the same, only the addresses change. (Servers on threads of the training process
//! itself stall in Burn 0.22: the client and the server then share one process's device
//! runtime.)

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use burn::server::{RemoteServer, WebSocketTransport};
use burn::tensor::Device;
use clap::Parser;
use data::Mnist;
use model::MnistCnnConfig;
use train::DeviceList;
use train::MultiDeviceConfig;
use train::{ProgressStyle, RunDir, RunOptions, TrainingConfig, train_on};

/// At most this many servers: each is a full CPU device, and this machine's cores are shared.
const MAX_SERVERS: usize = 8;

/// How long a server process may take to report its address.
const START_LIMIT: Duration = Duration::from_secs(60);

#[derive(Parser)]
#[command(about = "Train the MNIST CNN across device servers on loopback (Burn's remote backend)")]
struct Args {
    /// Device servers to start and train on (1-8)
    #[arg(long, default_value_t = 2)]
    servers: usize,
    /// Epochs to train (1-100)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=100))]
    epochs: u16,
    /// Directory with the four MNIST IDX files [default: 2,000 synthetic digits, so the example
    /// runs offline in seconds]
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// Run directory to write (config, history, model) [default: a temporary directory]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Internal: serve one flex device on a free loopback port, print its address, serve until
    /// killed (how this program starts its servers)
    #[arg(long, hide = true)]
    serve: bool,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    if args.serve {
        return serve();
    }
    if !(1..=MAX_SERVERS).contains(&args.servers) {
        bail!("--servers must be 1 to {MAX_SERVERS}, not {}", args.servers);
    }
    // The validation split comes out of the training images: 5,000 of MNIST's 60,000 (train's
    // default), 200 of the 2,000 synthetic ones.
    let (mnist, valid_size) = match &args.mnist_dir {
        Some(dir) => (Mnist::load(Some(dir)).context("cannot read MNIST")?, 5_000),
        None => (data::synthetic::mnist(2_000, 500), 200),
    };

    // Each server serves one flex (CPU) device until this process drops it.
    let servers = (0..args.servers)
        .map(|_| Server::start())
        .collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = servers
        .iter()
        .map(|s| format!("remote:{}", s.address))
        .collect();
    println!("device servers: {}", names.join(", "));

    // The same parsing and connecting as `train --devices`.
    let mut devices = names
        .join(",")
        .parse::<DeviceList>()
        .context("cannot parse the device list")?
        .select()
        .context("cannot connect to the device servers")?
        .into_iter();

    // The global batch (64) is split across the devices; MultiDeviceConfig checks it divides.
    let mut config = TrainingConfig::new(MnistCnnConfig::new())
        .with_epochs(args.epochs.into())
        .with_valid_size(valid_size);
    if names.len() > 1 {
        let multi = MultiDeviceConfig::new(names.clone(), config.batch_size, config.lr)?;
        config = config.with_multi_device(Some(multi));
    }
    let scratch;
    let out = match args.out {
        Some(out) => out,
        None => {
            scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
            scratch.path().to_path_buf()
        }
    };
    let run = RunDir::new(&out)
        .prepare(&config, false)
        .with_context(|| format!("cannot prepare the run directory {}", out.display()))?;
    let options = RunOptions {
        device: devices.next().context("no device")?,
        progress: ProgressStyle::Plain(Duration::from_secs(10)),
        shards: None,
        extra_devices: devices.collect(),
    };
    let metrics = train_on(run, &mnist, &options).context("training failed")?;
    println!(
        "trained {} epoch(s) on {} remote device(s): test accuracy {:.2}%, model in {}",
        args.epochs,
        names.len(),
        100.0 * metrics.test_accuracy,
        out.join("model").display()
    );
    Ok(())
}

/// A device server: this program in `--serve` mode, killed when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    /// Starts one and waits for the address it prints.
    fn start() -> Result<Self> {
        let exe = std::env::current_exe().context("cannot find this program to start a server")?;
        let mut child = Command::new(exe)
            .arg("--serve")
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start a device server")?;
        let stdout = child.stdout.take().context("no pipe from the server")?;
        let (sender, first_line) = mpsc::channel();
        // Reads the address line, then keeps the pipe drained so the server never blocks on it.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            if let Some(line) = lines.next() {
                let _ = sender.send(line);
            }
            lines.for_each(drop);
        });
        let mut server = Self {
            child,
            address: String::new(),
        };
        server.address = first_line
            .recv_timeout(START_LIMIT)
            .context("the device server did not report its address")?;
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--serve`: one flex device on a free loopback port; prints `ws://ADDRESS`, then serves until
/// the parent kills it.
fn serve() -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot listen on loopback")?;
    let address = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "ws://{address}")?;
    out.flush()?;
    drop(out);
    RemoteServer::new([Device::flex()])
        .serve(WebSocketTransport::from_listener(listener))
        .context("the device server stopped")
}
