//! The built `serve` program runs on its own, as `cargo install` leaves it: started from an empty
//! directory with no `MNIST_CNN_MODEL`, it answers with the model compiled into it.

mod common;

use std::process::{Child, Stdio};
use std::time::Duration;

use common::{STARTUP, ServerProcess, agent, serve_command, seven_png};

/// Longest wait for one HTTP answer.
const REQUEST: Duration = Duration::from_secs(30);

/// Kills the server however the test ends, so that a failed assertion leaks no process.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn installed_binary_serves_the_built_in_model_from_an_empty_directory() {
    let cwd = tempfile::tempdir().unwrap();
    // Port 0: the OS picks a free loopback port, which the startup line reports.
    let server = ServerProcess::spawn(
        serve_command()
            .args(["--addr", "127.0.0.1:0"])
            .current_dir(cwd.path()),
    );
    assert!(
        server
            .startup
            .ends_with("(model: built-in artifacts/mnist-cnn)"),
        "{}",
        server.startup
    );

    let mut response = agent(REQUEST)
        .post(format!("{}/api/predict", server.base))
        .header("content-type", "image/png")
        .send(&seven_png()[..])
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["label"], 7, "{body}");
}

/// A parent that stops reading (`serve | head -1`, or the load example, which read the first
/// line only) closes the server's stdout: its startup lines must not take it down. The pipe is
/// closed before the first line here, so every line the server writes meets it closed.
#[test]
fn a_closed_stdout_does_not_stop_the_server() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = serve_command()
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut server = Server(child);
    let agent = agent(REQUEST);
    let url = format!("http://127.0.0.1:{port}/api/model");
    let deadline = std::time::Instant::now() + STARTUP;
    let status = loop {
        if let Some(exit) = server.0.try_wait().unwrap() {
            panic!("the server exited ({exit}) with its stdout closed");
        }
        match agent.get(&url).call() {
            Ok(response) => break response.status(),
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(err) => panic!("no answer within {STARTUP:?}: {err}"),
        }
    };
    assert_eq!(status, 200);
    assert!(server.0.try_wait().unwrap().is_none(), "still serving");
}
