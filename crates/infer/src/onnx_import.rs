//! Weights from an ONNX file: the project's own export (`infer export`), or one that
//! `torch.onnx.export` wrote from the same network in PyTorch.
//!
//! The graph is read with the protobuf types that onnx-ir already compiles for the export (no
//! second ONNX stack). Weights are found by the nodes that use them, not by their names: PyTorch
//! names initializers after the module (`conv1.weight`) or leaves them anonymous
//! (`onnx::Conv_12`), and Burn's exporter names them after its trace. The two `Conv` nodes are
//! the convolutions, in graph order; the two `Gemm` nodes (or `MatMul` followed by the `Add` of
//! the bias) are the dense layers. Every other node must be one this network computes
//! (activation, pooling, flatten, softmax), checked against the configuration: anything else is
//! an error that names the node. The weights, in PyTorch's layout, then take the safetensors
//! path (the same tensor checks, the same finite-weight check).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use burn::tensor::Device;
use model::{Activation, MnistCnn, MnistCnnConfig, Padding, Pooling};
use onnx_ir::{AttributeProto, Message, ModelProto, NodeProto, TensorProto};

use crate::InferError;
use crate::bounded_file::read_bounded;
use crate::import::{ConfigOrigin, config_of, expected_tensors, from_safetensors_bytes};
use crate::metadata::MODEL_CONFIG_KEY;

/// The largest ONNX file read: 64 MiB, a quarter of the other model files' bound. Protobuf
/// keeps a packed integer field (a tensor's `int64_data`, an attribute's `ints`) as 8 bytes per
/// 1-byte varint, so a parsed file can take 8x its size: 512 MiB at most here. The lecture's
/// network is a 3.4 MB file; 64 MiB holds 16 Mi parameters (e.g. 'same' padding with 2,048
/// hidden units, about 26 MB).
pub const MAX_ONNX_BYTES: u64 = 64 << 20;

/// The most nodes a graph of this network may have: the project's export has about 15 (30 with
/// leaky ReLU written out), PyTorch's with a dynamic flatten about 20. More is not this network,
/// and the bound keeps every check below small.
pub const MAX_NODES: usize = 256;

/// The parameters of each layer in graph order (two `Conv`, then two dense layers), named as
/// PyTorch's `state_dict` names them.
const LAYERS: [(&str, &str); 4] = [
    ("conv1.weight", "conv1.bias"),
    ("conv2.weight", "conv2.bias"),
    ("fc1.weight", "fc1.bias"),
    ("fc2.weight", "fc2.bias"),
];

/// ONNX's `TensorProto.DataType` FLOAT, the only element type read.
const FLOAT: i32 = 1;
/// ONNX's `TensorProto.DataLocation` EXTERNAL: the data lives in another file.
const EXTERNAL: i32 = 1;

/// Loads an ONNX model of this network. Its configuration: the `model_config` in the model's
/// `metadata_props` (`infer export` puts it there), else a `config.json` beside the file, else
/// `fallback`.
pub(crate) fn onnx(
    path: &Path,
    fallback: &MnistCnnConfig,
    device: &Device,
) -> Result<(MnistCnn, MnistCnnConfig), InferError> {
    let bytes = read_bounded(path, MAX_ONNX_BYTES)?;
    let model = ModelProto::parse_from_bytes(&bytes).map_err(|e| InferError::NotOnnx {
        path: path.into(),
        reason: e.to_string(),
    })?;
    drop(bytes);
    // Protobuf reads almost any bytes as *some* message: a file without a graph is not a model.
    let Some(graph) = model.graph.as_ref().filter(|g| !g.node.is_empty()) else {
        return Err(InferError::NotOnnx {
            path: path.into(),
            reason: "it holds no graph".into(),
        });
    };
    if graph.node.len() > MAX_NODES {
        return Err(InferError::OnnxGraph {
            path: path.into(),
            problem: format!(
                "{} nodes, more than the {MAX_NODES} a graph of this network may have",
                graph.node.len()
            ),
        });
    }
    let embedded = model
        .metadata_props
        .iter()
        .find(|entry| entry.key == MODEL_CONFIG_KEY)
        .map(|entry| entry.value.as_str());
    let (config, origin) = config_of(embedded, path, fallback)?;
    let mut constants: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .chain(graph.node.iter().filter_map(constant_node))
        .collect();
    // Exporters pass weights through nodes that keep their values in order: PyTorch's through an
    // `Identity`, Burn's reshapes each bias to `[1, out]` for the `Add`. Their outputs are the
    // same constants (a vector's values keep their meaning under any reshape).
    for node in &graph.node {
        if let (Some(input), Some(output)) = (node.input.first(), node.output.first())
            && let Some(&tensor) = constants.get(input.as_str())
            && passes_values_through(node, tensor)
        {
            constants.insert(output.as_str(), tensor);
        }
    }
    let reader = Graph {
        path,
        config: &config,
        origin: &origin,
        nodes: &graph.node,
        constants,
    };
    let weights = reader.weights()?;
    let net = from_safetensors_bytes(
        safetensors_bytes(path, &weights)?,
        path,
        &config,
        &origin,
        device,
    )?;
    Ok((net, config))
}

/// One parameter tensor, named and laid out as PyTorch's `state_dict` has it.
struct Weight {
    name: &'static str,
    shape: Vec<usize>,
    values: Vec<f32>,
}

/// The output name and tensor of a `Constant` node that holds a tensor.
fn constant_node(node: &NodeProto) -> Option<(&str, &TensorProto)> {
    if node.op_type != "Constant" {
        return None;
    }
    let value = node.attribute.iter().find(|a| a.name == "value")?;
    Some((node.output.first()?.as_str(), value.t.as_ref()?))
}

/// Whether `node`'s output is its first input `tensor` itself: an `Identity`, or a reshape of a
/// vector (at most one axis longer than 1).
fn passes_values_through(node: &NodeProto, tensor: &TensorProto) -> bool {
    match node.op_type.as_str() {
        "Identity" => true,
        "Reshape" | "Unsqueeze" | "Squeeze" | "Flatten" => {
            tensor.dims.iter().filter(|&&d| d > 1).count() <= 1
        }
        _ => false,
    }
}

/// The graph of one file, read against one configuration.
struct Graph<'a> {
    path: &'a Path,
    config: &'a MnistCnnConfig,
    origin: &'a ConfigOrigin,
    nodes: &'a [NodeProto],
    /// Tensors by value name: initializers and the outputs of `Constant` nodes.
    constants: HashMap<&'a str, &'a TensorProto>,
}

/// A dense layer's weight as stored: `[out, in]` (PyTorch's, `Gemm` with `transB = 1`) or
/// `[in, out]` (`MatMul`, `Gemm` without `transB`).
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    OutIn,
    InOut,
}

impl<'a> Graph<'a> {
    /// The eight parameters, after every node has been checked.
    fn weights(&self) -> Result<Vec<Weight>, InferError> {
        let leaky = match self.config.activation {
            Activation::Relu => None,
            Activation::LeakyRelu { slope } => Some(slope),
        };
        let mut convs = Vec::new();
        let mut dense = Vec::new();
        let mut pools = 0;
        let mut leaky_nodes = 0;
        // `Add` nodes that are the bias of a `MatMul`, by index.
        let mut biases = HashSet::new();
        // Constants that became weights (any other large float constant is an error).
        let mut used = HashSet::new();
        for (index, node) in self.nodes.iter().enumerate() {
            let problem = |problem: String| self.node_error(index, problem);
            match node.op_type.as_str() {
                "Conv" => {
                    self.check_conv(index)?;
                    convs.push((
                        index,
                        self.input(index, 1)?,
                        self.input(index, 2)?,
                        Layout::OutIn,
                    ));
                }
                "Gemm" => {
                    for (name, want) in [("alpha", 1.0), ("beta", 1.0)] {
                        let value = float_attribute(node, name).unwrap_or(1.0);
                        if value != want {
                            return Err(problem(format!(
                                "{name} is {value}; a dense layer has {want}"
                            )));
                        }
                    }
                    if int_attribute(node, "transA").unwrap_or(0) != 0 {
                        return Err(problem(
                            "transA is set; a dense layer multiplies its input as it is".into(),
                        ));
                    }
                    let layout = match int_attribute(node, "transB").unwrap_or(0) {
                        0 => Layout::InOut,
                        _ => Layout::OutIn,
                    };
                    dense.push((index, self.input(index, 1)?, self.input(index, 2)?, layout));
                }
                "MatMul" => {
                    let output = node.output.first().map(String::as_str).unwrap_or_default();
                    let add = self
                        .nodes
                        .iter()
                        .enumerate()
                        .skip(index + 1)
                        .find(|(_, n)| n.op_type == "Add" && n.input.iter().any(|i| i == output));
                    let Some((add_index, add)) = add else {
                        return Err(problem(
                            "a matrix product without the Add of a bias; a dense layer has one"
                                .into(),
                        ));
                    };
                    let Some(bias) = add.input.iter().find(|i| *i != output) else {
                        return Err(
                            self.node_error(add_index, "adds a value to itself, not a bias".into())
                        );
                    };
                    biases.insert(add_index);
                    dense.push((index, self.input(index, 1)?, bias.as_str(), Layout::InOut));
                }
                "Add" if biases.contains(&index) => {}
                "MaxPool" | "AveragePool" => {
                    self.check_pool(index)?;
                    pools += 1;
                }
                "Relu" | "Flatten" | "Reshape" | "Shape" | "Gather" | "Unsqueeze" | "Squeeze"
                | "Concat" | "Constant" | "Identity" | "Softmax" | "LogSoftmax" | "Dropout" => {}
                "LeakyRelu" => {
                    let alpha = f64::from(float_attribute(node, "alpha").unwrap_or(0.01));
                    match leaky {
                        Some(slope) if (alpha - slope).abs() <= 1e-6 * slope.abs().max(1.0) => {}
                        Some(slope) => {
                            return Err(problem(format!(
                                "slope {alpha}; the network built from {} has {slope}",
                                self.origin
                            )));
                        }
                        None => {
                            return Err(problem(format!(
                                "leaky ReLU; the network built from {} uses ReLU",
                                self.origin
                            )));
                        }
                    }
                    leaky_nodes += 1;
                }
                // Leaky ReLU as the project's export writes it: relu(x) - slope * relu(-x).
                "Neg" | "Sub" | "Mul" if leaky.is_some() => {
                    if node.op_type == "Mul" {
                        self.check_slope(index, leaky.unwrap_or_default())?;
                    }
                    leaky_nodes += 1;
                }
                other => {
                    let what = match other {
                        "Neg" | "Sub" | "Mul" => format!(
                            "{other}, which only leaky ReLU needs; the network built from {} uses ReLU",
                            self.origin
                        ),
                        _ => format!("this network has no {} operation", model::quote(other)),
                    };
                    return Err(problem(what));
                }
            }
        }
        if leaky.is_some() && leaky_nodes == 0 {
            return Err(InferError::OnnxGraph {
                path: self.path.into(),
                problem: format!(
                    "the graph has no leaky ReLU, but the network built from {} uses one",
                    self.origin
                ),
            });
        }
        for (what, found) in [
            ("convolutions (Conv)", convs.len()),
            ("dense layers (Gemm, or MatMul + Add)", dense.len()),
            ("pooling layers", pools),
        ] {
            if found != 2 {
                return Err(InferError::OnnxGraph {
                    path: self.path.into(),
                    problem: format!("{found} {what}; this network has 2"),
                });
            }
        }
        let expected = expected_tensors(self.config);
        let mut weights = Vec::new();
        for ((weight_name, bias_name), (index, weight, bias, layout)) in
            LAYERS.into_iter().zip(convs.into_iter().chain(dense))
        {
            for (name, suffix, value, layout) in [
                (weight_name, "weight", weight, layout),
                (bias_name, "bias", bias, Layout::OutIn),
            ] {
                let want = expected
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, shape)| shape.clone())
                    .unwrap_or_default();
                let (mut shape, mut values) = self.values(index, value)?;
                if suffix == "bias" && shape.len() == 2 && shape[0] == 1 {
                    shape.remove(0);
                }
                if layout == Layout::InOut && shape.len() == 2 {
                    values = transpose(&values, shape[0], shape[1]);
                    shape.swap(0, 1);
                }
                if shape != want {
                    return Err(self.node_error(index, format!(
                        "{suffix} '{}' is {shape:?} in PyTorch's layout; the network built from {} needs {want:?}",
                        model::quote(value),
                        self.origin
                    )));
                }
                used.insert(value);
                weights.push(Weight {
                    name,
                    shape,
                    values,
                });
            }
        }
        // A weight tensor no layer took: the graph computes something this network does not.
        for (index, node) in self.nodes.iter().enumerate() {
            if node
                .output
                .first()
                .is_some_and(|output| self.constants.contains_key(output.as_str()))
            {
                // A constant passed through (or a `Constant`): checked where its output is used.
                continue;
            }
            for input in &node.input {
                if let Some(tensor) = self.constants.get(input.as_str())
                    && !used.contains(input.as_str())
                    && is_float(tensor)
                    && element_count(tensor).is_none_or(|n| n > 1)
                {
                    return Err(self.node_error(
                        index,
                        format!(
                            "uses the weight tensor '{}' {:?}, which no layer of this network has",
                            model::quote(input),
                            tensor.dims
                        ),
                    ));
                }
            }
        }
        Ok(weights)
    }

    /// Checks a `Conv` node's attributes against the configuration.
    fn check_conv(&self, index: usize) -> Result<(), InferError> {
        let node = &self.nodes[index];
        let k = self.config.kernel_size as i64;
        let problem = |problem: String| Err(self.node_error(index, problem));
        if int_attribute(node, "group").unwrap_or(1) != 1 {
            return problem(
                "a grouped convolution; this network's convolutions have one group".into(),
            );
        }
        for name in ["strides", "dilations"] {
            if let Some(values) = ints_attribute(node, name).filter(|v| v.iter().any(|&x| x != 1)) {
                return problem(format!(
                    "{name} {values:?}; this network's convolutions have 1"
                ));
            }
        }
        if let Some(kernel) = ints_attribute(node, "kernel_shape").filter(|v| *v != [k, k]) {
            return problem(format!(
                "kernel {kernel:?}; the network built from {} has {k}x{k}",
                self.origin
            ));
        }
        let auto_pad = string_attribute(node, "auto_pad").unwrap_or_else(|| "NOTSET".into());
        let pads = ints_attribute(node, "pads").unwrap_or_default();
        let same = (k - 1) / 2;
        let ok = match self.config.padding {
            Padding::Valid => {
                matches!(auto_pad.as_str(), "NOTSET" | "VALID") && pads.iter().all(|&p| p == 0)
            }
            Padding::Same => match auto_pad.as_str() {
                "SAME_UPPER" | "SAME_LOWER" => true,
                "NOTSET" => pads.len() == 4 && pads.iter().all(|&p| p == same),
                _ => false,
            },
        };
        if !ok {
            let want = match self.config.padding {
                Padding::Valid => "none ('valid')".to_string(),
                Padding::Same => format!("{same} on each side ('same')"),
            };
            return problem(format!(
                "padding {pads:?} (auto_pad {}); the network built from {} pads {want}",
                model::quote(&auto_pad),
                self.origin
            ));
        }
        Ok(())
    }

    /// Checks a pooling node: the configured kind, 2x2, stride 2, no padding, floor.
    fn check_pool(&self, index: usize) -> Result<(), InferError> {
        let node = &self.nodes[index];
        let problem = |problem: String| Err(self.node_error(index, problem));
        let kind = match node.op_type.as_str() {
            "MaxPool" => Pooling::Max,
            _ => Pooling::Avg,
        };
        if kind != self.config.pooling {
            return problem(format!(
                "the network built from {} pools with {:?}",
                self.origin, self.config.pooling
            ));
        }
        for (name, want) in [("kernel_shape", vec![2, 2]), ("strides", vec![2, 2])] {
            let found = ints_attribute(node, name).unwrap_or_default();
            if found != want {
                return problem(format!(
                    "{name} {found:?}; this network pools 2x2 with stride 2"
                ));
            }
        }
        let unpadded = ints_attribute(node, "pads")
            .unwrap_or_default()
            .iter()
            .all(|&p| p == 0)
            && matches!(
                string_attribute(node, "auto_pad").as_deref(),
                None | Some("NOTSET" | "VALID")
            );
        if !unpadded || int_attribute(node, "ceil_mode").unwrap_or(0) != 0 {
            return problem(
                "padded or rounded up; this network pools without padding, rounding down".into(),
            );
        }
        if ints_attribute(node, "dilations").is_some_and(|v| v.iter().any(|&x| x != 1)) {
            return problem("dilated; this network's pooling is not".into());
        }
        Ok(())
    }

    /// Checks the constant of a `Mul` in the written-out leaky ReLU: the configured slope.
    fn check_slope(&self, index: usize, slope: f64) -> Result<(), InferError> {
        let node = &self.nodes[index];
        let Some(name) = node
            .input
            .iter()
            .map(String::as_str)
            .find(|i| self.constants.contains_key(i))
        else {
            return Err(self.node_error(index, "multiplies two computed values; this network only scales by the leaky ReLU's slope".into()));
        };
        let (_, values) = self.values(index, name)?;
        match values.as_slice() {
            [value] if (f64::from(*value) - slope).abs() <= 1e-6 * slope.abs().max(1.0) => Ok(()),
            _ => Err(self.node_error(
                index,
                format!(
                    "scales by '{}', not by the slope {slope} of the network built from {}",
                    model::quote(name),
                    self.origin
                ),
            )),
        }
    }

    /// The value name at `position` of node `index`'s inputs.
    fn input(&self, index: usize, position: usize) -> Result<&'a str, InferError> {
        self.nodes[index]
            .input
            .get(position)
            .map(String::as_str)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| {
                self.node_error(
                    index,
                    format!(
                        "has no input {position}: a layer of this network has a weight and a bias"
                    ),
                )
            })
    }

    /// Shape and values of the float32 constant `name`, used by node `index`.
    fn values(&self, index: usize, name: &str) -> Result<(Vec<usize>, Vec<f32>), InferError> {
        let problem = |problem: String| Err(self.node_error(index, problem));
        let Some(tensor) = self.constants.get(name) else {
            return problem(format!(
                "its weight '{}' is computed, not stored in the file (an initializer or a Constant)",
                model::quote(name)
            ));
        };
        if tensor.data_location.value() == EXTERNAL {
            return problem(format!(
                "the weight '{}' is stored in another file (ONNX external data), which is not read",
                model::quote(name)
            ));
        }
        if tensor.data_type != FLOAT {
            return problem(format!(
                "the weight '{}' has ONNX element type {}, not float32 (1)",
                model::quote(name),
                tensor.data_type
            ));
        }
        let Some(count) = element_count(tensor) else {
            return problem(format!(
                "the weight '{}' has the shape {:?}",
                model::quote(name),
                tensor.dims
            ));
        };
        let shape = tensor.dims.iter().map(|&d| d as usize).collect();
        let values: Vec<f32> = if !tensor.raw_data.is_empty() {
            if tensor.raw_data.len() != count * 4 {
                return problem(format!(
                    "the weight '{}' has {} bytes of data for {count} float32 values",
                    model::quote(name),
                    tensor.raw_data.len()
                ));
            }
            tensor
                .raw_data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        } else if tensor.float_data.len() == count {
            tensor.float_data.clone()
        } else {
            return problem(format!(
                "the weight '{}' has {} values for the shape {:?}",
                model::quote(name),
                tensor.float_data.len(),
                tensor.dims
            ));
        };
        Ok((shape, values))
    }

    /// An error about node `index`, named by its name (or its position and operation).
    fn node_error(&self, index: usize, problem: String) -> InferError {
        let node = &self.nodes[index];
        let name = if node.name.is_empty() {
            format!("#{index}")
        } else {
            format!("'{}'", model::quote(&node.name))
        };
        InferError::OnnxNode {
            path: self.path.into(),
            node: name,
            op: model::quote(&node.op_type).into_owned(),
            problem,
        }
    }
}

/// The number of elements of `tensor`, if its dimensions are valid and the count is within
/// what a model file can hold ([`MnistCnnConfig::MAX_PARAMETERS`]).
fn element_count(tensor: &TensorProto) -> Option<usize> {
    tensor
        .dims
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(u64::try_from(d).ok()?))
        .filter(|&n| n <= MnistCnnConfig::MAX_PARAMETERS)
        .and_then(|n| usize::try_from(n).ok())
}

/// Whether `tensor` holds floating-point values (float32, float16, float64, bfloat16).
fn is_float(tensor: &TensorProto) -> bool {
    matches!(tensor.data_type, 1 | 10 | 11 | 16)
}

/// `values` (`rows x cols`, row-major) transposed.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// The weights as an in-memory safetensors file.
fn safetensors_bytes(path: &Path, weights: &[Weight]) -> Result<Vec<u8>, InferError> {
    let bytes: Vec<(&str, Vec<usize>, Vec<u8>)> = weights
        .iter()
        .map(|w| {
            (
                w.name,
                w.shape.clone(),
                w.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, shape, data)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .map(|view| (*name, view))
        })
        .collect::<Result<Vec<_>, _>>();
    views
        .and_then(|views| safetensors::serialize(views, None))
        .map_err(|e| InferError::OnnxGraph {
            path: path.into(),
            problem: format!("its weights could not be assembled: {e}"),
        })
}

fn attribute<'n>(node: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn int_attribute(node: &NodeProto, name: &str) -> Option<i64> {
    attribute(node, name).map(|a| a.i)
}

fn float_attribute(node: &NodeProto, name: &str) -> Option<f32> {
    attribute(node, name).map(|a| a.f)
}

fn ints_attribute(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attribute(node, name).map(|a| a.ints.clone())
}

fn string_attribute(node: &NodeProto, name: &str) -> Option<String> {
    attribute(node, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
}
