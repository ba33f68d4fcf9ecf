#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! Weights in and out in PyTorch's layout: the exported safetensors file loads back to the same
//! logits; a safetensors or `torch.save` file written here by hand, in torch's layout and names,
//! loads; and each kind of wrong file is refused with its own error, naming the tensor.

mod common;

use std::error::Error;
use std::path::Path;

use burn::config::Config;
use burn::tensor::Device;
use common::torch_file::{Entry, Values, write_state_dict};
use common::{digits, logits, max_abs_diff, shipped, torch_state_dict, write_safetensors};
use infer::export::safetensors_bytes;
use infer::model_file::{MAX_MODEL_BYTES, PYTORCH_FILE, SAFETENSORS_FILE};
use infer::predictor::CONFIG_FILE;
use infer::{InferError, Predictor};
use model::{Activation, MnistCnnConfig};
use safetensors::SafeTensors;

/// The error of loading `path` (which must fail).
fn load_error(path: &Path) -> InferError {
    Predictor::load(path, &Device::flex()).unwrap_err()
}

#[test]
fn exported_safetensors_are_pytorchs_layout_and_load_back_identically() {
    let shipped = shipped();
    let bytes = safetensors_bytes(shipped.net(), shipped.config()).unwrap();

    let file = SafeTensors::deserialize(&bytes).unwrap();
    let shapes: Vec<(String, Vec<usize>)> = {
        let mut v: Vec<_> = file
            .tensors()
            .into_iter()
            .map(|(name, t)| {
                assert_eq!(t.dtype(), safetensors::Dtype::F32, "{name}");
                (name, t.shape().to_vec())
            })
            .collect();
        v.sort();
        v
    };
    let expected = [
        ("conv1.bias", vec![32]),
        ("conv1.weight", vec![32, 1, 3, 3]),
        ("conv2.bias", vec![64]),
        ("conv2.weight", vec![64, 32, 3, 3]),
        ("fc1.bias", vec![512]),
        ("fc1.weight", vec![512, 1600]),
        ("fc2.bias", vec![10]),
        ("fc2.weight", vec![10, 512]),
    ]
    .map(|(n, s)| (n.to_string(), s));
    assert_eq!(shapes, expected);
    // fc1.weight holds the values of the hand-made PyTorch layout (Burn's, transposed).
    let torch = torch_state_dict(shipped.net());
    let fc1 = torch.iter().find(|e| e.name == "fc1.weight").unwrap();
    let Values::F32(want) = &fc1.values else {
        unreachable!()
    };
    let have: Vec<f32> = file
        .tensor("fc1.weight")
        .unwrap()
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(&have, want);

    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = header.metadata().as_ref().unwrap();
    assert_eq!(metadata["input_mean"], "0.1307");
    assert_eq!(metadata["input_std"], "0.3081");
    assert_eq!(metadata["format"], "pt");
    assert!(metadata["class_labels"].starts_with(r#"["0","1""#));

    // Round trip: a directory holding only model.safetensors, and the file itself.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(SAFETENSORS_FILE), &bytes).unwrap();
    let images = digits(16);
    let device = Device::flex();
    let want = logits(shipped.net(), &images, &device);
    for path in [dir.path().to_path_buf(), dir.path().join(SAFETENSORS_FILE)] {
        let loaded = Predictor::load(&path, &device).unwrap();
        assert_eq!(
            loaded.config(),
            shipped.config(),
            "config from the metadata"
        );
        assert_eq!(
            logits(loaded.net(), &images, &device),
            want,
            "{}",
            path.display()
        );
    }
}

#[test]
fn a_pytorch_state_dict_and_pytorch_made_safetensors_load() {
    let shipped = shipped();
    let device = Device::flex();
    let images = digits(16);
    let want = logits(shipped.net(), &images, &device);
    let dir = tempfile::tempdir().unwrap();

    let pt = dir.path().join(PYTORCH_FILE);
    write_state_dict(&pt, &torch_state_dict(shipped.net()));
    let st = dir.path().join("from-pytorch.safetensors");
    write_safetensors(&st, &torch_state_dict(shipped.net()), &[]);
    for path in [pt, st, dir.path().to_path_buf()] {
        // No config anywhere: the lecture's network, which the shipped model is.
        let loaded = Predictor::load(&path, &device).unwrap();
        assert_eq!(loaded.config(), &MnistCnnConfig::new());
        assert_eq!(
            logits(loaded.net(), &images, &device),
            want,
            "{}",
            path.display()
        );
    }
}

#[test]
fn a_config_json_beside_a_weights_file_describes_its_network() {
    let device = Device::flex();
    let config = MnistCnnConfig::new()
        .with_conv1_filters(4)
        .with_conv2_filters(8)
        .with_hidden_units(16)
        .with_activation(Activation::LeakyRelu { slope: 0.05 });
    let net = config.init(&device);
    let dir = tempfile::tempdir().unwrap();
    let pt = dir.path().join("small.pt");
    write_state_dict(&pt, &torch_state_dict(&net));

    // Without its config, the file is read as the lecture's network and does not fit.
    let err = load_error(&pt);
    assert!(
        matches!(&err, InferError::TensorShape { tensor, .. } if tensor == "conv1.weight"),
        "{err}"
    );
    assert!(err.to_string().contains("default configuration"), "{err}");

    config.save(dir.path().join(CONFIG_FILE)).unwrap();
    let loaded = Predictor::load(&pt, &device).unwrap();
    assert_eq!(loaded.config(), &config);
    let images = digits(4);
    assert_eq!(
        logits(loaded.net(), &images, &device),
        logits(&net, &images, &device)
    );
}

/// The shipped state_dict with `change` applied, written as `dir/name`.
fn write_pt(dir: &Path, name: &str, change: impl FnOnce(&mut Vec<Entry>)) -> std::path::PathBuf {
    let mut entries = torch_state_dict(shipped().net());
    change(&mut entries);
    let path = dir.join(name);
    write_state_dict(&path, &entries);
    path
}

/// The error of loading [`write_pt`]'s file (in a fresh directory, kept alive with it).
fn spoiled_pt(name: &str, change: impl FnOnce(&mut Vec<Entry>)) -> (tempfile::TempDir, InferError) {
    let dir = tempfile::tempdir().unwrap();
    let err = load_error(&write_pt(dir.path(), name, change));
    (dir, err)
}

fn named(err: &InferError, tensor_name: &str) -> bool {
    err.to_string().contains(tensor_name)
}

#[test]
fn each_malformed_file_has_its_typed_error() {
    // float64 weights.
    let (_d, err) = spoiled_pt("f64.pt", |entries| {
        let first = &mut entries[0];
        let Values::F32(v) = &first.values else {
            unreachable!()
        };
        first.values = Values::F64(v.iter().map(|&x| f64::from(x)).collect());
    });
    assert!(
        matches!(&err, InferError::TensorDType { dtype, .. } if dtype == "float64"),
        "{err}"
    );
    assert!(named(&err, "conv1.weight"), "{err}");

    // A wrong shape.
    let (_d, err) = spoiled_pt("shape.pt", |entries| {
        let fc2 = entries.iter_mut().find(|e| e.name == "fc2.weight").unwrap();
        fc2.shape = vec![10, 256];
        fc2.values = Values::F32(vec![0.0; 2560]);
    });
    assert!(
        matches!(&err, InferError::TensorShape { found, expected, .. }
            if **found == [10, 256] && **expected == [10, 512]),
        "{err}"
    );
    assert!(named(&err, "fc2.weight"), "{err}");

    // A missing tensor.
    let (_d, err) = spoiled_pt("missing.pt", |entries| {
        entries.retain(|e| e.name != "fc2.bias");
    });
    assert!(
        matches!(&err, InferError::MissingTensor { tensor, .. } if tensor == "fc2.bias"),
        "{err}"
    );

    // An extra tensor.
    let (_d, err) = spoiled_pt("extra.pt", |entries| {
        entries.push(Entry {
            name: "fc3.weight".into(),
            shape: vec![2],
            values: Values::F32(vec![0.0; 2]),
        });
    });
    assert!(
        matches!(&err, InferError::UnexpectedTensor { tensor, .. } if tensor == "fc3.weight"),
        "{err}"
    );

    // Another architecture: nothing of this network's.
    let (_d, err) = spoiled_pt("resnet.pt", |entries| {
        for (i, e) in entries.iter_mut().enumerate() {
            e.name = format!("features.{i}.weight");
        }
    });
    assert!(matches!(err, InferError::ForeignModel { .. }), "{err}");
    assert!(named(&err, "features.0.weight"), "{err}");

    // Truncated files.
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(write_pt(dir.path(), "whole.pt", |_| {})).unwrap();
    let cut = dir.path().join("cut.pt");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let err = load_error(&cut);
    assert!(matches!(err, InferError::NotPytorch { .. }), "{err}");
    assert!(err.source().unwrap().is::<burn::store::PytorchStoreError>());

    let shipped = shipped();
    let bytes = safetensors_bytes(shipped.net(), shipped.config()).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let err = load_error(&cut);
    assert!(matches!(err, InferError::NotSafetensors { .. }), "{err}");
    assert!(
        err.source()
            .unwrap()
            .is::<burn::store::SafetensorsStoreError>()
    );

    // A float64 safetensors file, and metadata that is not a configuration.
    let mut entries = torch_state_dict(shipped.net());
    let Values::F32(v) = &entries[7].values else {
        unreachable!()
    };
    entries[7].values = Values::F64(v.iter().map(|&x| f64::from(x)).collect());
    let f64_file = dir.path().join("f64.safetensors");
    write_safetensors(&f64_file, &entries, &[]);
    let err = load_error(&f64_file);
    assert!(matches!(err, InferError::TensorDType { .. }), "{err}");
    assert!(named(&err, &entries[7].name), "{err}");

    let bad_config = dir.path().join("bad-config.safetensors");
    write_safetensors(
        &bad_config,
        &torch_state_dict(shipped.net()),
        &[("model_config", "{")],
    );
    let err = load_error(&bad_config);
    assert!(matches!(err, InferError::MetadataConfig { .. }), "{err}");
    assert!(err.source().unwrap().is::<serde_json::Error>());

    // Too large (a sparse file: nothing is written or read), and not a model format.
    let huge = dir.path().join("huge.safetensors");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(MAX_MODEL_BYTES + 1)
        .unwrap();
    assert!(matches!(load_error(&huge), InferError::TooLarge { .. }));
    let keras = dir.path().join("model.h5");
    std::fs::write(&keras, b"").unwrap();
    assert!(matches!(
        load_error(&keras),
        InferError::UnknownFormat { .. }
    ));
}

/// artifacts/mnist-cnn/model.safetensors is the shipped model: re-export it when model.bpk
/// changes (artifacts/mnist-cnn/README.md has the command).
#[test]
fn the_committed_model_safetensors_is_the_shipped_model() {
    let shipped = shipped();
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/mnist-cnn/model.safetensors");
    let device = Device::flex();
    let committed = Predictor::load(file, &device).unwrap();
    let images = digits(16);
    assert_eq!(
        logits(committed.net(), &images, &device),
        logits(shipped.net(), &images, &device),
        "re-export artifacts/mnist-cnn/model.safetensors"
    );
}

/// `infer export --dtype f16`: every tensor float16, half the bytes of the float32 file; loading
/// gives float32 parameters, each within float16's rounding of the original, that predict the
/// same digits.
#[test]
fn f16_safetensors_halve_the_weights_and_load_back_as_f32() {
    use infer::export::{WeightDType, safetensors_bytes_as};
    let shipped = shipped();
    let full = safetensors_bytes(shipped.net(), shipped.config()).unwrap();
    let half = safetensors_bytes_as(shipped.net(), shipped.config(), WeightDType::F16).unwrap();
    let data_bytes = |bytes: &[u8]| -> usize {
        let file = SafeTensors::deserialize(bytes).unwrap();
        file.tensors().iter().map(|(_, t)| t.data().len()).sum()
    };
    for (name, t) in SafeTensors::deserialize(&half).unwrap().tensors() {
        assert_eq!(t.dtype(), safetensors::Dtype::F16, "{name}");
    }
    assert_eq!(2 * data_bytes(&half), data_bytes(&full));
    assert_eq!(data_bytes(&full), 4 * 843_658);
    let (_, header) = SafeTensors::read_metadata(&half).unwrap();
    assert!(header.metadata().as_ref().unwrap()["model_config"].contains("hidden_units"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SAFETENSORS_FILE);
    std::fs::write(&path, &half).unwrap();
    let loaded = Predictor::load(&path, &Device::flex()).unwrap();
    assert_eq!(
        loaded.net().fc1.weight.val().dtype(),
        burn::tensor::DType::F32
    );
    assert_eq!(
        loaded.net().conv1.weight.val().dtype(),
        burn::tensor::DType::F32
    );
    let (original, rounded) = (
        torch_state_dict(shipped.net()),
        torch_state_dict(loaded.net()),
    );
    let mut changed = 0;
    for (a, b) in original.iter().zip(&rounded) {
        let (Values::F32(a_values), Values::F32(b_values)) = (&a.values, &b.values) else {
            unreachable!()
        };
        assert_eq!(a.name, b.name);
        for (x, y) in a_values.iter().zip(b_values) {
            // Half of float16's unit in the last place (2^-11 relative), or its smallest
            // subnormal step near zero.
            let bound = x.abs() * 2f32.powi(-11) + 2f32.powi(-25);
            assert!((x - y).abs() <= bound, "{}: {x} -> {y}", a.name);
            changed += usize::from(x != y);
        }
    }
    assert!(
        changed > 100_000,
        "the weights were rounded: {changed} changed"
    );

    let images = digits(64);
    let device = Device::flex();
    let (want, have) = (
        logits(shipped.net(), &images, &device),
        logits(loaded.net(), &images, &device),
    );
    assert_eq!(common::labels(&have), common::labels(&want));
    assert!(
        max_abs_diff(&have, &want) < 0.05,
        "{}",
        max_abs_diff(&have, &want)
    );
}
