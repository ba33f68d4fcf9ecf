//! `cargo run --release -p train --features remote --bin serve-device -- [--bind ADDR] [--device D]`:
//! serves this machine's device to `train --devices remote:ws://HOST:PORT,...` on other
//! processes or machines, with Burn's own `RemoteServer` over WebSocket. The training process
//! keeps the model, the autodiff graph and the optimiser; this one only runs the tensor
//! operations it is sent, until Ctrl+C or SIGTERM.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};

use anyhow::{Context, Result, bail};
use burn::server::{RemoteServer, WebSocketTransport};
use clap::Parser;
use train::DeviceSpec;

/// Serve this machine's device to `train --devices remote:ws://HOST:PORT,...`.
///
/// WebSocket is unencrypted and unauthenticated: bind a public address only on a trusted
/// network.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// Address and port to listen on: 127.0.0.1:PORT for this machine only, 0.0.0.0:PORT for
    /// others (port 0: any free port, printed)
    #[arg(long, default_value = "127.0.0.1:3000")]
    bind: SocketAddr,
    /// The device to serve: cpu, flex, ndarray, gpu or gpu:N (as in train's --devices)
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
}

fn main() {
    fast_alloc::init();
    if let Err(err) = run(Args::parse()) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    if let DeviceSpec::Remote(_) = args.device {
        bail!("serve-device serves a device of this machine, not a remote one");
    }
    let selected = args.device.select()?;
    let listener =
        TcpListener::bind(args.bind).with_context(|| format!("cannot listen on {}", args.bind))?;
    let address = listener
        .local_addr()
        .context("cannot read the listening address")?;
    // One line a script (or the remote test) reads the port from, written before serving.
    let mut out = std::io::stdout().lock();
    writeln!(out, "serving {selected} on ws://{address}")?;
    if address.ip().is_unspecified() {
        writeln!(
            out,
            "train with: --devices remote:ws://<this machine's address>:{}",
            address.port()
        )?;
    }
    if !address.ip().is_loopback() {
        writeln!(
            out,
            "warning: WebSocket is unencrypted and unauthenticated: serve on a trusted network only"
        )?;
    }
    out.flush()?;
    drop(out);
    RemoteServer::new([selected.device])
        .serve(WebSocketTransport::from_listener(listener))
        .context("the device server stopped")
}
