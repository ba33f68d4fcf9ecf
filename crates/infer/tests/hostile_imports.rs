//! Hostile input, round 3 (issue 25): imported weights. Pickle bombs in a `.pt` refused within
//! a fixed memory bound, the common checkpoint dictionaries loaded from their `state_dict`
//! entry, a file whose metadata describes a huge network refused before that network is built,
//! user values quoted short in errors, and files that are not regular files refused instead of
//! blocking. Memory is the peak RSS of the `infer` process (see `common/process.rs`).
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/process.rs"]
mod process;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use common::torch_file::{write_checkpoint, write_pickle_only, write_state_dict};
use common::{torch_state_dict, write_safetensors};
use infer::{InferError, Predictor};
use process::{infer_bounded, infer_measured};

fn seven() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits/seven.png")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A protocol-2 pickle of `count` times `opcode`, then STOP.
fn bomb_pickle(opcode: u8, count: usize) -> Vec<u8> {
    let mut pickle = vec![0x80, 2];
    pickle.resize(2 + count, opcode);
    pickle.push(b'.');
    pickle
}

/// `infer --model-dir MODEL predict seven.png` under the memory bound; must fail.
fn refused_with_bounded_memory(what: &str, model: &Path) -> String {
    let seven = seven();
    let out = infer_bounded(
        what,
        &[
            "--model-dir".as_ref(),
            model.as_os_str(),
            "predict".as_ref(),
            seven.as_os_str(),
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    stderr
}

#[test]
fn a_pt_whose_pickle_inflates_to_4_mi_empty_lists_is_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("model.pt");
    write_pickle_only(&bomb, &bomb_pickle(b']', 4 << 20));
    let size = std::fs::metadata(&bomb).unwrap().len();
    assert!(size < 20_000, "small on disk: {size} bytes");
    let stderr = refused_with_bounded_memory("4 Mi EMPTY_LIST", &bomb);
    assert!(stderr.contains("pickle (data.pkl, inflated)"), "{stderr}");
    assert!(stderr.contains("refused before parsing"), "{stderr}");
    let err = Predictor::load(&bomb, &Device::flex()).unwrap_err();
    assert!(
        matches!(err, InferError::PytorchBound { limit, .. } if limit == infer::torch_zip::MAX_PICKLE_BYTES),
        "{err}"
    );
}

#[test]
fn a_pt_of_32_mi_marks_is_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("marks.pt");
    write_pickle_only(&bomb, &bomb_pickle(b'(', 32 << 20));
    let size = std::fs::metadata(&bomb).unwrap().len();
    assert!(size < 100_000, "small on disk: {size} bytes");
    let stderr = refused_with_bounded_memory("32 Mi MARK", &bomb);
    assert!(stderr.contains("data.pkl"), "{stderr}");
}

/// A file in no ZIP layout is a pickle from its first byte: read only up to the bound.
#[test]
fn a_bare_pickle_bomb_is_refused_by_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bare.pt");
    std::fs::write(&bomb, bomb_pickle(b']', 2 << 20)).unwrap();
    let stderr = refused_with_bounded_memory("2 Mi EMPTY_LIST, no ZIP", &bomb);
    assert!(stderr.contains("not torch.save's ZIP format"), "{stderr}");
    // A small one is still the reader's to judge.
    std::fs::write(&bomb, bomb_pickle(b']', 100)).unwrap();
    let err = Predictor::load(&bomb, &Device::flex()).unwrap_err();
    assert!(matches!(err, InferError::NotPytorch { .. }), "{err}");
}

#[test]
fn a_training_checkpoint_loads_from_its_state_dict_entry_with_a_note() {
    let device = Device::flex();
    let shipped = Predictor::shipped(&device).unwrap();
    let entries = torch_state_dict(shipped.net());
    let digits = common::digits(4);
    let dir = tempfile::tempdir().unwrap();
    for key in ["state_dict", "model_state_dict"] {
        let path = dir.path().join(format!("{key}.pt"));
        write_checkpoint(&path, key, &entries, 7);
        let loaded = Predictor::load(&path, &device).unwrap_or_else(|e| panic!("{key}: {e:#}"));
        assert_eq!(
            loaded.predict_batch(&digits),
            shipped.predict_batch(&digits),
            "{key}"
        );
        let notes = loaded.notes().join("\n");
        assert!(
            notes.contains(&format!("from its \"{key}\" entry")),
            "{notes}"
        );
        assert!(notes.contains("ignored: epoch, optimizer"), "{notes}");

        let seven = seven();
        let (out, _) = infer_measured(&[
            "--model-dir".as_ref(),
            path.as_os_str(),
            "predict".as_ref(),
            seven.as_os_str(),
        ]);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("note: "), "{stderr}");
        assert!(text(&out.stdout).contains("seven.png: 7"));
    }
    // A plain state_dict has nothing to say.
    let plain = dir.path().join("plain.pt");
    write_state_dict(&plain, &entries);
    assert!(Predictor::load(&plain, &device).unwrap().notes().is_empty());
    // Another key is still another network's file.
    let other = dir.path().join("other.pt");
    write_checkpoint(&other, "weights", &entries, 1);
    let err = Predictor::load(&other, &device).unwrap_err();
    assert!(matches!(err, InferError::ForeignModel { .. }), "{err}");
}

/// The largest network a configuration may describe (about 64 Mi parameters, 257 MB of
/// weights) in a safetensors file's metadata, with the lecture network's tensors: refused by
/// the shapes before that network is built.
#[test]
fn a_huge_network_in_the_metadata_is_refused_before_it_is_built() {
    let big = model::MnistCnnConfig::new()
        .with_padding(model::Padding::Same)
        .with_conv2_filters(80)
        .with_hidden_units(model::MnistCnnConfig::MAX_HIDDEN_UNITS);
    big.validate().unwrap();
    let params = big.summary().total_params();
    assert!(params > 60_000_000, "{params}");
    let shipped = Predictor::shipped(&Device::flex()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.safetensors");
    let config = serde_json::to_string(&big).unwrap();
    write_safetensors(
        &path,
        &torch_state_dict(shipped.net()),
        &[("model_config", &config)],
    );
    let stderr = refused_with_bounded_memory("64 Mi parameters in the metadata", &path);
    assert!(stderr.contains("has shape"), "{stderr}");
}

#[test]
fn errors_quote_at_most_a_hundred_characters_of_a_tensor_name() {
    let shipped = Predictor::shipped(&Device::flex()).unwrap();
    let mut entries = torch_state_dict(shipped.net());
    let mut long = torch_state_dict(shipped.net()).pop().unwrap();
    long.name = "x".repeat(1 << 20);
    entries.push(long);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.safetensors");
    write_safetensors(&path, &entries, &[]);
    let err = Predictor::load(&path, &Device::flex()).unwrap_err();
    let message = format!("{:#}", anyhow::Error::from(err));
    assert!(message.len() < 400, "{} bytes", message.len());
    assert!(message.contains("more characters"), "{message}");
    let seven = seven();
    let (out, _) = infer_measured(&[
        "--model-dir".as_ref(),
        path.as_os_str(),
        "predict".as_ref(),
        seven.as_os_str(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.len() < 1000, "{} bytes", stderr.len());
    // And a path of a thousand characters.
    let long_dir = dir.path().join("d".repeat(200));
    let path = long_dir
        .join("e".repeat(200))
        .join("f".repeat(200))
        .join("model.pt");
    let err = Predictor::load(&path, &Device::flex()).unwrap_err();
    assert!(err.to_string().len() < 300, "{err}");
}

#[test]
fn a_fifo_as_a_model_file_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["model.pt", "model.safetensors", "model.bpk"] {
        let fifo = dir.path().join(name);
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // `infer_measured` fails the test if the process is still running after its deadline.
        let seven = seven();
        let (out, _) = infer_measured(&[
            "--model-dir".as_ref(),
            fifo.as_os_str(),
            "predict".as_ref(),
            seven.as_os_str(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        std::fs::remove_file(&fifo).unwrap();
    }
}

/// Found by the `safetensors_load` fuzz target: finite weights too large for float32 (1e37)
/// loaded, and every prediction was NaN. Refused at load now.
#[test]
fn weights_too_large_to_compute_with_are_refused_at_load() {
    let shipped = Predictor::shipped(&Device::flex()).unwrap();
    let mut entries = torch_state_dict(shipped.net());
    for entry in &mut entries {
        let count = entry.shape.iter().product();
        entry.values = common::torch_file::Values::F32(vec![1e37; count]);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.safetensors");
    write_safetensors(&path, &entries, &[]);
    let err = Predictor::load(&path, &Device::flex()).unwrap_err();
    assert!(matches!(err, InferError::NonFiniteOutput { .. }), "{err}");
    let crash = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus/safetensors_load/crash-94374dcf21f5892221018c597397f68e583c6e4e");
    let path = dir.path().join("crash.safetensors");
    std::fs::copy(crash, &path).unwrap();
    assert!(Predictor::load(&path, &Device::flex()).is_err());
}
