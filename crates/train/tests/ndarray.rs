//! The deprecated-but-supported ndarray backend trains the same model code
//! (`cargo test -p train --features ndarray`).
#![cfg(feature = "ndarray")]

mod common;

use train::read_history;
use train::{Backend, train_on};

#[test]
fn ndarray_trains_and_lowers_the_loss() {
    let device = Backend::Ndarray.select().unwrap();
    assert_eq!(device.backend, Backend::Ndarray);
    let dir = tempfile::tempdir().unwrap();
    let config = common::small_config().with_epochs(2);
    let run = common::prepare(dir.path(), &config, false);
    let metrics = train_on(
        run,
        &common::synthetic_mnist(),
        &common::run_options(device),
    )
    .unwrap();
    assert_eq!(metrics.backend, Backend::Ndarray);
    let history = read_history(&dir.path().join("history.jsonl")).unwrap();
    assert!(history[1].train_loss < history[0].train_loss, "{history:?}");
}
