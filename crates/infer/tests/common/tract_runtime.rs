//! Running an ONNX model with tract (pure Rust), fed as the file's metadata says.

use std::sync::Arc;

use model::{IMAGE_SIZE, NUM_CLASSES, Pixels, normalize};
use tract_onnx::prelude::*;

/// A loaded, optimised ONNX model.
pub type Plan = Arc<TypedRunnableModel>;

/// `onnx` loaded and optimised; the batch axis stays symbolic.
pub fn plan(onnx: &[u8]) -> Plan {
    tract_onnx::onnx()
        .model_for_read(&mut &*onnx)
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap()
}

/// The logits of `images`, row after row, the pixels normalised with the model crate's
/// contract (the values the file's `input_mean` / `input_std` state).
pub fn logits(plan: &Plan, images: &[Pixels]) -> Vec<f32> {
    let pixels: Vec<f32> = images
        .as_flattened()
        .iter()
        .map(|&p| normalize(p))
        .collect();
    let input = Tensor::from_shape(&[images.len(), 1, IMAGE_SIZE, IMAGE_SIZE], &pixels).unwrap();
    let outputs = plan.run(tvec!(input.into_tvalue())).unwrap();
    assert_eq!(outputs[0].shape(), &[images.len(), NUM_CLASSES]);
    outputs[0]
        .try_as_plain_ram()
        .unwrap()
        .as_slice::<f32>()
        .unwrap()
        .to_vec()
}

/// The metadata entry `key` as tract exposes it.
pub fn property(plan: &Plan, key: &str) -> String {
    plan.model().properties[&format!("onnx.metadata_props.{key}")]
        .try_as_plain_ram()
        .unwrap()
        .to_scalar::<String>()
        .unwrap()
        .clone()
}
