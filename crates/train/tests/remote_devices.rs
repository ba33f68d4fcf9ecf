//! Training on devices of other processes: two `serve-device` servers on loopback, reached as
//! `--devices remote:ws://...,remote:ws://...` through Burn's remote backend and MultiDevice
//! strategy. Needs `train`'s `remote` feature, which `cargo test --workspace` leaves off (Burn's
//! network stack would nearly double its build): CI's `remote` stage runs it, alone `cargo test
//! -p train --features remote --test remote_devices`.

#![cfg(feature = "remote")]
#![allow(clippy::unwrap_used)]

mod multi;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use burn::tensor::Device;
use train::DeviceList;
use train::read_history;
use train::{Backend, OptimizerKind, SelectedDevice, TrainingConfig};

/// How long a server may take to print its address.
const START_LIMIT: Duration = Duration::from_secs(60);

/// How long one test's training may take (~10 s when it works): a hung connection fails the
/// test instead of holding the whole test run.
const RUN_LIMIT: Duration = Duration::from_secs(240);

/// Runs `work` on its own thread and waits at most [`RUN_LIMIT`] for it. On a timeout the test
/// fails, and the servers the test holds are killed as it unwinds.
fn within_limit(work: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        work();
        let _ = done.send(());
    });
    match finished.recv_timeout(RUN_LIMIT) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("training ran over {RUN_LIMIT:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("the training thread panicked (its message is above)")
        }
    }
}

/// A `serve-device` process on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_serve-device"))
            .args(["--bind", "127.0.0.1:0", "--device", "cpu"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (first, lines) = mpsc::channel();
        // Reads the address line, then keeps the pipe drained so the server never blocks on it.
        std::thread::spawn(move || {
            let mut first = Some(first);
            for line in stdout.lines().map_while(Result::ok) {
                match first.take() {
                    Some(sender) => sender.send(line).unwrap(),
                    None => eprintln!("serve-device: {line}"),
                }
            }
        });
        let line = lines
            .recv_timeout(START_LIMIT)
            .expect("serve-device printed its address");
        let address = line
            .rsplit_once(" on ")
            .map(|(_, address)| address.to_string())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        assert!(address.starts_with("ws://127.0.0.1:"), "{line}");
        Self { child, address }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The devices of `servers`, opened as `train --devices` opens them.
fn remote_devices(servers: &[Server]) -> (Vec<SelectedDevice>, Vec<String>) {
    let names: Vec<String> = servers
        .iter()
        .map(|s| format!("remote:{}", s.address))
        .collect();
    let devices = names
        .join(",")
        .parse::<DeviceList>()
        .unwrap()
        .select()
        .unwrap();
    assert!(devices.iter().all(|d| d.backend == Backend::Remote));
    (devices, names)
}

fn flex() -> SelectedDevice {
    SelectedDevice {
        device: Device::flex(),
        backend: Backend::Flex,
    }
}

#[test]
fn two_remote_devices_take_the_same_first_step_as_one_local_device() {
    let servers = [Server::start(), Server::start()];
    let (devices, names) = remote_devices(&servers);
    within_limit(move || first_steps_match(devices, names));
}

fn first_steps_match(devices: Vec<SelectedDevice>, names: Vec<String>) {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mnist = multi::step_data();
    for optimizer in [OptimizerKind::Sgd, OptimizerKind::Adam] {
        let dir = tempfile::tempdir().unwrap();
        let init = multi::write_initial_weights(dir.path());
        let config = multi::one_step_config(&init, optimizer);
        let one = dir.path().join("one");
        let two = dir.path().join("two");
        multi::train_on_devices(config.clone(), vec![flex()], &["flex"], &one, &mnist);
        multi::train_on_devices(config, devices.clone(), &names, &two, &mnist);

        let difference = multi::relative_update_difference(
            &multi::initial_weights(&init),
            &multi::exported_weights(&one),
            &multi::exported_weights(&two),
        );
        println!(
            "{optimizer:?}: first update on 2 remote devices vs 1 local, relative difference {difference:.3e}"
        );
        assert!(difference < 1e-3, "{optimizer:?}: {difference}");
    }
}

#[test]
fn two_remote_devices_lower_the_loss_and_export_a_model_infer_loads() {
    let servers = [Server::start(), Server::start()];
    let (devices, names) = remote_devices(&servers);
    within_limit(move || trains_and_exports(devices, names));
}

fn trains_and_exports(devices: Vec<SelectedDevice>, names: Vec<String>) {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir().unwrap();
    let config = TrainingConfig::new(multi::small_net().with_dropout(0.1))
        .with_epochs(3)
        .with_batch_size(32)
        .with_valid_size(80)
        .with_lr(3e-3);
    let mnist = data::synthetic::mnist(400, 100);
    let metrics = multi::train_on_devices(config, devices, &names, dir.path(), &mnist);

    let history = read_history(&dir.path().join("history.jsonl")).unwrap();
    let (first, last) = (history[0].train_loss, history[2].train_loss);
    println!("2 remote devices: train loss {first:.4} (epoch 1) -> {last:.4} (epoch 3)");
    assert!(last < first * 0.7, "loss did not fall: {history:?}");
    assert!(metrics.test_accuracy > 0.5, "{metrics:?}");
    assert_eq!(metrics.backend, Backend::Remote);
    let predictor = infer::Predictor::load(dir.path().join("model"), &Device::flex()).unwrap();
    assert_eq!(predictor.config().hidden_units, 32);
}

#[test]
fn an_unreachable_server_is_a_connect_error() {
    // Bound and never listening: every dial is refused.
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = socket.local_addr().unwrap();
    drop(socket);
    let list: DeviceList = format!("remote:ws://{address}").parse().unwrap();
    let err = list.select().unwrap_err();
    assert!(
        matches!(err, train::DeviceError::RemoteConnect { .. }),
        "{err:?}"
    );
}
