//! Running the `infer` program on hostile input with its peak resident memory measured (the
//! kernel's own high-water mark, VmHWM), shared by the hostile-input tests (`#[path]`-included:
//! it needs the `infer` binary, which not every test target has).
#![allow(dead_code)]

use std::process::{Command, Output};
use std::time::Duration;

/// What the `infer` process may use, peak, on any of these inputs. Loading the model and
/// predicting a digit takes well under this; decoding one of the bombs without limits takes
/// 0.5 to 2 GB.
pub const RSS_LIMIT: u64 = 256 << 20;

/// A run that ends sooner may end before its memory is sampled (see [`infer_bounded`]).
pub const QUICK_EXIT: Duration = Duration::from_millis(300);

/// How long one `infer` run may take; the inputs here are refused or answered in about a second
/// (decoding one of the bombs unbounded, in a debug build, takes minutes).
pub const DEADLINE: Duration = Duration::from_secs(60);

/// `infer ARGS` (model: the built-in one, CPU) with its output and its peak resident memory,
/// sampled from `/proc/<pid>/status` (VmHWM, the kernel's own high-water mark) until it exits
/// (0 when it exited before the first sample).
pub fn infer_measured(args: &[&std::ffi::OsStr]) -> (Output, u64) {
    let mut peak = 0;
    let output = test_support::output_sampled_within(
        Command::new(env!("CARGO_BIN_EXE_infer"))
            .args(args)
            .env_remove("MNIST_DIR")
            .env_remove("MNIST_CNN_MODEL")
            .env("BURN_DEVICE", "flex"),
        DEADLINE,
        |pid| {
            if let Some(kb) = std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|status| vm_hwm_kb(&status))
            {
                peak = peak.max(kb * 1024);
            }
        },
    );
    (output, peak)
}

/// Like [`infer_measured`], for inputs where memory is the attack: the process must have been
/// measured, or have exited within [`QUICK_EXIT`], and stayed under [`RSS_LIMIT`]. Prints the
/// peak and the time, for the record.
pub fn infer_bounded(what: &str, args: &[&std::ffi::OsStr]) -> Output {
    let started = std::time::Instant::now();
    let (output, peak) = infer_measured(args);
    let took = started.elapsed();
    eprintln!("{what}: infer peak RSS {:.1} MiB, {took:.2?}", mib(peak));
    // A process refused within a few ms can exit between two samples. It cannot have built
    // the hundreds of MB the attacks here take in that time: each takes seconds to grow (the
    // 4 Mi EMPTY_LIST pickle: 2.1 s to 735 MB in a release build).
    assert!(
        peak > 0 || took < QUICK_EXIT,
        "no memory reading for infer {args:?} in {took:?}"
    );
    assert!(peak < RSS_LIMIT, "{what}: peak RSS {:.1} MiB", mib(peak));
    output
}

fn vm_hwm_kb(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `bytes` as MiB.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}
