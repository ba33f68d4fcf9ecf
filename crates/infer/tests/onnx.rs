#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! The exported ONNX graph: opset, names, shapes and the metadata that says how to feed it.
//!
//! That a second, independent runtime computes Burn's logits from the file is checked outside
//! `cargo test` (which stays offline and free of an ONNX runtime's build): the example
//! `onnx_fixtures` writes the exported models (the shipped one, a leaky-ReLU / average-pool /
//! 'same'-padding network, and the committed artifacts/mnist-cnn/model.onnx) with digits and
//! Burn's logits, and `tests/onnx_runtime.py` runs them in ONNX Runtime through the README's own
//! lines: logits within 1e-4 at batch 1 and 64. `.ci/run`'s `onnx-runtime` stage runs both.

mod common;

use common::shipped;
use infer::export::onnx_bytes;
use onnx_ir::{Message, ModelProto};

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
