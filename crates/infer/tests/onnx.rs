#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! The exported ONNX model run by a second, independent runtime: tract, pure Rust. Its logits
//! must be Burn's, at batch 1 and at batch 64 (the dynamic batch axis), and the file must say
//! how to feed it.

mod common;

use burn::tensor::Device;
use common::tract_runtime::{logits as tract_logits, plan as tract_plan, property};
use common::{digits, logits, max_abs_diff, shipped};
use infer::export::onnx_bytes;
use model::{Activation, MnistCnnConfig, Padding, Pooling};
use onnx_ir::{Message, ModelProto};

#[test]
fn the_shipped_model_runs_in_tract_with_burns_logits_at_batch_1_and_64() {
    let predictor = shipped();
    let onnx = onnx_bytes(predictor.net(), predictor.config(), predictor.device()).unwrap();
    let plan = tract_plan(&onnx);
    let images = digits(64);
    for batch in [&images[..1], &images[..]] {
        let burn = logits(predictor.net(), batch, predictor.device());
        let tract = tract_logits(&plan, batch);
        let diff = max_abs_diff(&burn, &tract);
        println!("batch {}: max |logit difference| {diff:e}", batch.len());
        assert!(diff <= 1e-4, "batch {}: {diff}", batch.len());
    }
    // A runtime sees the input contract.
    assert_eq!(property(&plan, "input_mean"), model::MEAN.to_string());
    assert_eq!(property(&plan, "input_std"), model::STD.to_string());
    let config: MnistCnnConfig = serde_json::from_str(&property(&plan, "model_config")).unwrap();
    assert_eq!(&config, predictor.config());
}

#[test]
fn the_graph_is_named_and_described() {
    let predictor = shipped();
    let onnx = onnx_bytes(predictor.net(), predictor.config(), predictor.device()).unwrap();
    let model = ModelProto::parse_from_bytes(&onnx).unwrap();
    assert_eq!(model.opset_import[0].version, 18);
    let graph = model.graph.as_ref().unwrap();
    assert_eq!(graph.input.len(), 1);
    assert_eq!(graph.output.len(), 1);
    let (input, output) = (&graph.input[0], &graph.output[0]);
    assert_eq!(
        (input.name.as_str(), output.name.as_str()),
        ("images", "logits")
    );
    let dims = |value: &onnx_ir::ValueInfoProto| -> Vec<String> {
        value
            .type_
            .tensor_type()
            .shape
            .dim
            .iter()
            .map(|d| {
                if d.has_dim_param() {
                    d.dim_param().to_string()
                } else {
                    d.dim_value().to_string()
                }
            })
            .collect()
    };
    assert_eq!(dims(input), ["batch", "1", "28", "28"]);
    assert_eq!(dims(output), ["batch", "10"]);
    // The renamed edges are the graph's: the first node reads `images`, the last writes `logits`.
    assert!(
        graph
            .node
            .iter()
            .any(|n| n.input.iter().any(|i| i == "images"))
    );
    assert!(
        graph
            .node
            .iter()
            .any(|n| n.output.iter().any(|o| o == "logits"))
    );
    let keys: Vec<&str> = model
        .metadata_props
        .iter()
        .map(|p| p.key.as_str())
        .collect();
    for key in [
        "model_config",
        "input",
        "input_shape",
        "input_mean",
        "input_std",
        "output",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    for key in ["class_labels", "burn_version"] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
}

/// Leaky ReLU has no ONNX lowering in burn-onnx; the portable forward spells it with ReLUs.
#[test]
fn leaky_relu_average_pooling_and_same_padding_export_too() {
    let device = Device::flex();
    let config = MnistCnnConfig::new()
        .with_conv1_filters(8)
        .with_conv2_filters(16)
        .with_hidden_units(32)
        .with_activation(Activation::LeakyRelu { slope: 0.1 })
        .with_pooling(Pooling::Avg)
        .with_padding(Padding::Same);
    let net = config.init(&device);
    let plan = tract_plan(&onnx_bytes(&net, &config, &device).unwrap());
    let images = digits(5);
    let diff = max_abs_diff(
        &logits(&net, &images, &device),
        &tract_logits(&plan, &images),
    );
    assert!(diff <= 1e-4, "{diff}");
}

/// artifacts/mnist-cnn/model.onnx is the shipped model: re-export it when model.bpk changes
/// (artifacts/mnist-cnn/README.md has the command).
#[test]
fn the_committed_model_onnx_is_the_shipped_model() {
    let predictor = shipped();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../artifacts/mnist-cnn/model.onnx");
    let plan = tract_plan(&std::fs::read(file).unwrap());
    let images = digits(64);
    let burn = logits(predictor.net(), &images, predictor.device());
    let diff = max_abs_diff(&burn, &tract_logits(&plan, &images));
    assert!(
        diff <= 1e-4,
        "{diff}: re-export artifacts/mnist-cnn/model.onnx"
    );
}
