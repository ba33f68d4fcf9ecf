//! The network as an ONNX model (opset 18) through `burn-onnx`, which records the forward pass
//! on a capture device and lowers it; this module then names the graph's input and output and
//! adds the metadata, which the exporter has no options for.

use burn::tensor::{Device, Tensor};
use burn_onnx::export::{AxisSpec, InputSpec, OnnxExporter, Opset};
use model::{IMAGE_SIZE, MnistCnn, MnistCnnConfig};
use onnx_ir::{Message, ModelProto};

use super::ExportError;
use crate::metadata::{INPUT_NAME, OUTPUT_NAME, describe};

/// Name of the dynamic batch axis of the input and the output.
const BATCH_AXIS: &str = "batch";

/// `net` (of `config`, on the real, non-autodiff `device`) as the bytes of an ONNX model:
/// input `images` `[batch, 1, 28, 28]` (normalised pixels, see [`model::images_to_tensor`]),
/// output `logits` `[batch, 10]`, the batch axis dynamic, [`describe`]'s entries in
/// `metadata_props`.
///
/// Normalisation stays outside the graph, as in PyTorch: the metadata says how
/// (`input_mean`, `input_std`), and the graph computes exactly what `MnistCnn::forward` does.
pub fn onnx_bytes(
    net: &MnistCnn,
    config: &MnistCnnConfig,
    device: &Device,
) -> Result<Vec<u8>, ExportError> {
    // Two traces with different batch sizes tell the exporter which axis is the batch.
    let images = |batch| Tensor::<4>::zeros([batch, 1, IMAGE_SIZE, IMAGE_SIZE], device);
    let specs = [InputSpec::new([
        AxisSpec::dynamic(BATCH_AXIS),
        AxisSpec::Static,
        AxisSpec::Static,
        AxisSpec::Static,
    ])];
    let traced = OnnxExporter::new()
        .opset(Opset::V18)
        .export_dynamic(net, images(1), images(2), &specs, |net, images| {
            net.forward_portable(images)
        })
        .map_err(ExportError::Onnx)?;
    finish(traced.as_bytes(), config).map_err(ExportError::OnnxGraph)
}

/// Renames the traced graph's single input and output (`tensor_<id>` as traced) to
/// [`INPUT_NAME`] and [`OUTPUT_NAME`], names the output's batch axis like the input's, and adds
/// the description of `config`.
fn finish(bytes: &[u8], config: &MnistCnnConfig) -> Result<Vec<u8>, String> {
    let mut model = ModelProto::parse_from_bytes(bytes).map_err(|e| e.to_string())?;
    let graph = model
        .graph
        .as_mut()
        .ok_or("the exported model has no graph")?;
    let ([input], [output]) = (graph.input.as_mut_slice(), graph.output.as_mut_slice()) else {
        return Err(format!(
            "expected one input and one output, the graph has {} and {}",
            graph.input.len(),
            graph.output.len()
        ));
    };
    let renames = [
        (
            std::mem::replace(&mut input.name, INPUT_NAME.into()),
            INPUT_NAME,
        ),
        (
            std::mem::replace(&mut output.name, OUTPUT_NAME.into()),
            OUTPUT_NAME,
        ),
    ];
    input.doc_string = "normalised pixels: (p / 255 - input_mean) / input_std".into();
    output.doc_string = "class scores; softmax gives the probabilities".into();
    if let Some(first) = output
        .type_
        .as_mut()
        .and_then(|t| t.mut_tensor_type().shape.as_mut())
        .and_then(|shape| shape.dim.first_mut())
    {
        first.set_dim_param(BATCH_AXIS.into());
    }
    // Every edge that used the old names (value_info holds only the graph's inputs and outputs).
    for node in &mut graph.node {
        for name in node.input.iter_mut().chain(node.output.iter_mut()) {
            if let Some((_, new)) = renames.iter().find(|(old, _)| old == name) {
                *name = (*new).into();
            }
        }
    }
    let entries = describe(config);
    let start = model.metadata_props.len();
    model
        .metadata_props
        .resize_with(start + entries.len(), Default::default);
    for (prop, (key, value)) in model.metadata_props[start..].iter_mut().zip(entries) {
        prop.key = key.into();
        prop.value = value;
    }
    model.doc_string = format!(
        "mnist-cnn: the lecture's MNIST CNN, {} parameters, exported by `infer export`",
        config.summary().total_params()
    );
    model.write_to_bytes().map_err(|e| e.to_string())
}
