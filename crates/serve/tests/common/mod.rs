//! What several test files share: the built `serve` program as a child process, its memory, and
//! the decompression bomb.
#![allow(dead_code)]

pub mod bomb;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Longest wait for the server's startup line (it loads the model first).
pub const STARTUP: Duration = Duration::from_secs(60);

/// The built `serve` program on the CPU, without the model variable of the environment the
/// tests run in.
pub fn serve_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_serve"));
    command
        .env_remove("MNIST_CNN_MODEL")
        // With `--features wgpu` the default device would be the GPU.
        .env("BURN_DEVICE", "flex");
    command
}

/// The built `serve` program, killed however the test ends.
pub struct ServerProcess {
    /// The child.
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its first stdout line (`serving URL ...`).
    pub startup: String,
    /// Its stdout after the startup line.
    pub lines: mpsc::Receiver<String>,
}

impl ServerProcess {
    /// Starts `serve --addr 127.0.0.1:0 ARGS` on the CPU and waits for its startup line.
    pub fn start(args: &[&str]) -> Self {
        Self::spawn(serve_command().args(["--addr", "127.0.0.1:0"]).args(args))
    }

    /// Starts `command` (a [`serve_command`] with its arguments) with its stdout piped to a
    /// reader thread, and waits for its startup line.
    pub fn spawn(command: &mut Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the serve program starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Self {
            child,
            base: String::new(),
            startup: String::new(),
            lines,
        };
        server.startup = match server.lines.recv_timeout(STARTUP) {
            Ok(line) => line,
            Err(err) => {
                let status = server.child.try_wait();
                panic!("no startup line within {STARTUP:?} ({err}); server status: {status:?}");
            }
        };
        server.base = server
            .startup
            .strip_prefix("serving ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected startup line: {}", server.startup))
            .to_owned();
        server
    }

    /// `host:port`, for raw sockets.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory so far (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        peak_rss_mib(self.pid()).expect("the server's /proc status")
    }

    /// Open file descriptors now.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .expect("the server's /proc fd folder")
            .count()
    }

    /// Sends SIGTERM (with the `kill` program: the tests use no unsafe code).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// VmHWM of a process, in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// An agent that reports every status as a response (not an error), with a deadline.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build(),
    )
}

/// The PNG of a 7 shipped with the examples.
pub fn seven_png() -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits/seven.png"),
    )
    .expect("examples/digits/seven.png")
}
