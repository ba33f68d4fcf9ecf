//! The deprecated-but-supported ndarray backend trains the same model code
//! (`cargo test -p train --features ndarray`).
#![cfg(feature = "ndarray")]

mod common;

use train::history::read_history;
use train::train_on;

#[test]
fn ndarray_trains_and_lowers_the_loss() {
    let device = train::device::named("ndarray").unwrap();
    assert_eq!(device.backend, "ndarray");
    let dir = tempfile::tempdir().unwrap();
    let config = common::small_config().with_epochs(2);
    let options = common::run_options(dir.path(), device, false);
    options.run_dir.prepare(&config, false).unwrap();
    let metrics = train_on(&config, &common::synthetic_mnist(), &options).unwrap();
    assert_eq!(metrics.backend, "ndarray");
    let history = read_history(&dir.path().join("history.jsonl")).unwrap();
    assert!(history[1].train_loss < history[0].train_loss, "{history:?}");
}
