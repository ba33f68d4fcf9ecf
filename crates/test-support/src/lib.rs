//! What the workspace's integration tests share, so that each test file does not carry its own
//! copy: running a program under a deadline ([`output_within`], [`output_sampled_within`]) and
//! copying a directory tree ([`copy_dir`]). A dev-dependency of the crates whose tests run
//! their binaries; it depends on nothing but std.
//!
//! A test that runs a program must not hang the test run when the program hangs: the program is
//! killed at the deadline and the test fails, naming the program. Its output is read while it
//! runs, on threads of its own, so a program that writes more than a pipe holds (64 KiB) is not
//! blocked on a full pipe until the deadline.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often a running program is checked (and sampled).
const POLL: Duration = Duration::from_millis(5);

/// Runs `command` with stdout and stderr captured, and returns its output; panics when it
/// runs past `limit` (after killing it) or cannot be started.
pub fn output_within(command: &mut Command, limit: Duration) -> Output {
    output_sampled_within(command, limit, |_| {})
}

/// [`output_within`], calling `sample` with the program's process id at every check while it
/// runs (to read `/proc/<pid>/status`, say).
pub fn output_sampled_within(
    command: &mut Command,
    limit: Duration,
    mut sample: impl FnMut(u32),
) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            break status;
        }
        sample(child.id());
        if start.elapsed() > limit {
            kill(&mut child);
            panic!("{command:?} ran past its {limit:?}");
        }
        std::thread::sleep(POLL);
    };
    Output {
        status,
        stdout: stdout.join().expect("the stdout reader"),
        stderr: stderr.join().expect("the stderr reader"),
    }
}

/// Everything a pipe yields, read on a thread of its own.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error ends the output there; the status still tells what happened.
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Copies the directory tree `from` to `to` (created), files and subdirectories.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read the directory to copy") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy a file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_captured_and_a_large_one_does_not_block() {
        // 1 MiB on stdout: more than a pipe holds, so it must be read while the program runs.
        let out = output_within(
            Command::new("sh").args(["-c", "head -c 1048576 /dev/zero; echo err >&2; exit 3"]),
            Duration::from_secs(30),
        );
        assert_eq!(out.stdout.len(), 1 << 20);
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn a_program_past_its_deadline_is_killed_and_fails_the_test() {
        let started = Instant::now();
        let hung = std::panic::catch_unwind(|| {
            output_within(Command::new("sleep").arg("30"), Duration::from_millis(200))
        });
        assert!(hung.is_err(), "a hang must fail");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "killed at the deadline"
        );
    }

    #[test]
    fn samples_see_the_running_program() {
        let mut seen = Vec::new();
        let out = output_sampled_within(
            Command::new("sleep").arg("0.2"),
            Duration::from_secs(30),
            |pid| seen.push(pid),
        );
        assert!(out.status.success());
        assert!(!seen.is_empty() && seen.iter().all(|&pid| pid == seen[0]));
    }

    #[test]
    fn a_tree_is_copied_whole() {
        let dir = std::env::temp_dir().join(format!("test-support-copy-{}", std::process::id()));
        let (from, to) = (dir.join("from"), dir.join("to"));
        std::fs::create_dir_all(from.join("sub")).unwrap();
        std::fs::write(from.join("a.txt"), "a").unwrap();
        std::fs::write(from.join("sub/b.txt"), "b").unwrap();
        copy_dir(&from, &to);
        assert_eq!(std::fs::read_to_string(to.join("a.txt")).unwrap(), "a");
        assert_eq!(std::fs::read_to_string(to.join("sub/b.txt")).unwrap(), "b");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
