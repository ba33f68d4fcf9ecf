//! The example as a user runs it: a short training on two device servers (child processes), and
//! a bad flag refused with one line.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};
use std::time::Duration;

/// A remote connection that hangs must fail the test, not hold the test run.
const LIMIT: Duration = Duration::from_secs(300);

fn run(args: &[&str]) -> Output {
    test_support::output_within(
        Command::new(env!("CARGO_BIN_EXE_remote-devices")).args(args),
        LIMIT,
    )
}

#[test]
fn trains_on_two_device_servers() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("run");
    let output = run(&[
        "--servers",
        "2",
        "--epochs",
        "1",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("on 2 remote device(s): test accuracy"),
        "{stdout}"
    );
    let servers = stdout.lines().next().unwrap();
    assert_eq!(
        servers.matches("remote:ws://127.0.0.1:").count(),
        2,
        "{servers}"
    );
    // The run directory is train's: its history and an exported model.
    assert!(dir.join("history.jsonl").is_file());
    assert!(dir.join("model").join("model.bpk").is_file());
}

#[test]
fn too_many_servers_is_one_error_line() {
    let output = run(&["--servers", "9"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: --servers must be 1 to 8"),
        "{stderr}"
    );
}
