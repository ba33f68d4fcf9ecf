#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! ONNX in: the project's own export and graphs laid out as `torch.onnx.export` writes them
//! (built here node by node) load into the network with the same logits, and a graph that is not
//! this network is refused with an error naming the node.

mod common;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use common::torch_file::{Entry, Values};
use common::{digits, logits, max_abs_diff, shipped, torch_state_dict};
use infer::export::onnx_bytes;
use infer::{InferError, load_model};
use model::{Activation, MnistCnnConfig, Padding, Pooling};
use onnx_ir::{AttributeProto, AttributeType, Message, ModelProto, NodeProto, TensorProto};

/// The logits of the model at `path` against the shipped model's, on the example digits and
/// synthetic ones.
fn max_diff_to_shipped(path: &Path) -> f32 {
    let device = Device::flex();
    let (net, config) = load_model(path, &MnistCnnConfig::new(), &device).unwrap();
    assert_eq!(config, MnistCnnConfig::new());
    let images = digits(16);
    let shipped = shipped();
    max_abs_diff(
        &logits(&net, &images, &device),
        &logits(shipped.net(), &images, shipped.device()),
    )
}

fn load_error(path: &Path) -> InferError {
    load_model(path, &MnistCnnConfig::new(), &Device::flex()).unwrap_err()
}

#[test]
fn the_projects_own_export_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let predictor = shipped();
    let file = dir.path().join("model.onnx");
    std::fs::write(
        &file,
        onnx_bytes(predictor.net(), predictor.config(), predictor.device()).unwrap(),
    )
    .unwrap();
    assert!(max_diff_to_shipped(&file) < 1e-5);
    // A directory holding only model.onnx is that model.
    assert!(max_diff_to_shipped(dir.path()) < 1e-5);

    // Another configuration (leaky ReLU written out as relu(x) - slope * relu(-x), average
    // pooling, 'same' padding) comes back from the file's metadata.
    let device = Device::flex();
    let config = MnistCnnConfig::new()
        .with_conv1_filters(4)
        .with_conv2_filters(6)
        .with_hidden_units(16)
        .with_activation(Activation::LeakyRelu { slope: 0.1 })
        .with_pooling(Pooling::Avg)
        .with_padding(Padding::Same);
    let net = config.init(&device);
    let other = dir.path().join("other.onnx");
    std::fs::write(&other, onnx_bytes(&net, &config, &device).unwrap()).unwrap();
    let (back, back_config) = load_model(&other, &MnistCnnConfig::new(), &device).unwrap();
    assert_eq!(back_config, config);
    let images = digits(8);
    let diff = max_abs_diff(
        &logits(&back, &images, &device),
        &logits(&net, &images, &device),
    );
    assert!(diff < 1e-5, "{diff}");
}

/// A float32 initializer.
fn tensor(name: &str, shape: &[usize], values: &[f32]) -> TensorProto {
    let mut tensor = TensorProto::new();
    tensor.name = name.into();
    tensor.dims = shape.iter().map(|&d| d as i64).collect();
    tensor.data_type = 1;
    tensor.raw_data = values
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<u8>>()
        .into();
    tensor
}

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    let mut attribute = AttributeProto::new();
    attribute.name = name.into();
    attribute.type_ = AttributeType::INTS.into();
    attribute.ints = values.to_vec();
    attribute
}

fn int(name: &str, value: i64) -> AttributeProto {
    let mut attribute = AttributeProto::new();
    attribute.name = name.into();
    attribute.type_ = AttributeType::INT.into();
    attribute.i = value;
    attribute
}

fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attributes: Vec<AttributeProto>,
) -> NodeProto {
    let mut node = NodeProto::new();
    node.op_type = op.into();
    node.name = name.into();
    node.input = inputs.iter().map(|s| s.to_string()).collect();
    node.output = outputs.iter().map(|s| s.to_string()).collect();
    node.attribute = attributes;
    node
}

fn conv(name: &str, inputs: &[&str], output: &str) -> NodeProto {
    node(
        "Conv",
        name,
        inputs,
        &[output],
        vec![
            ints("dilations", &[1, 1]),
            int("group", 1),
            ints("kernel_shape", &[3, 3]),
            ints("pads", &[0, 0, 0, 0]),
            ints("strides", &[1, 1]),
        ],
    )
}

fn max_pool(name: &str, input: &str, output: &str) -> NodeProto {
    node(
        "MaxPool",
        name,
        &[input],
        &[output],
        vec![
            int("ceil_mode", 0),
            ints("kernel_shape", &[2, 2]),
            ints("strides", &[2, 2]),
        ],
    )
}

fn values(entry: &Entry) -> &[f32] {
    match &entry.values {
        Values::F32(values) => values,
        _ => unreachable!("torch_state_dict holds float32"),
    }
}

/// The shipped network as `torch.onnx.export(model, x, "model.onnx")` writes it from the
/// README's PyTorch module: initializers named after the modules, `Flatten`, `Gemm` with
/// `transB = 1` (PyTorch's `[out, in]` Linear weights), node names like `/conv1/Conv`.
fn torch_named() -> ModelProto {
    let mut graph = onnx_ir::GraphProto::new();
    graph.initializer = torch_state_dict(shipped().net())
        .iter()
        .map(|e| tensor(&e.name, &e.shape, values(e)))
        .collect();
    let gemm = |name: &str, layer: &str, input: &str, output: &str| {
        node(
            "Gemm",
            name,
            &[input, &format!("{layer}.weight"), &format!("{layer}.bias")],
            &[output],
            vec![int("transB", 1)],
        )
    };
    graph.node = vec![
        conv(
            "/conv1/Conv",
            &["input", "conv1.weight", "conv1.bias"],
            "/conv1/Conv_output_0",
        ),
        node(
            "Relu",
            "/Relu",
            &["/conv1/Conv_output_0"],
            &["/Relu_output_0"],
            vec![],
        ),
        max_pool("/pool/MaxPool", "/Relu_output_0", "/pool/MaxPool_output_0"),
        conv(
            "/conv2/Conv",
            &["/pool/MaxPool_output_0", "conv2.weight", "conv2.bias"],
            "/conv2/Conv_output_0",
        ),
        node(
            "Relu",
            "/Relu_1",
            &["/conv2/Conv_output_0"],
            &["/Relu_1_output_0"],
            vec![],
        ),
        max_pool(
            "/pool_1/MaxPool",
            "/Relu_1_output_0",
            "/pool_1/MaxPool_output_0",
        ),
        node(
            "Flatten",
            "/Flatten",
            &["/pool_1/MaxPool_output_0"],
            &["/Flatten_output_0"],
            vec![int("axis", 1)],
        ),
        gemm(
            "/fc1/Gemm",
            "fc1",
            "/Flatten_output_0",
            "/fc1/Gemm_output_0",
        ),
        node(
            "Relu",
            "/Relu_2",
            &["/fc1/Gemm_output_0"],
            &["/Relu_2_output_0"],
            vec![],
        ),
        gemm("/fc2/Gemm", "fc2", "/Relu_2_output_0", "output"),
    ];
    let mut model = ModelProto::new();
    model.ir_version = 8;
    model.producer_name = "pytorch".into();
    model.graph = Some(graph).into();
    model
}

/// The same network with anonymous initializers (`onnx::Conv_17`), the dense layers as
/// `MatMul` (weights `[in, out]`, one passed through an `Identity`) + `Add`, and the flatten as
/// the dynamic `Shape` / `Gather` / `Unsqueeze` / `Concat` / `Reshape` of `x.view(x.size(0),
/// -1)`; no node names.
fn torch_anonymous() -> ModelProto {
    let entries = torch_state_dict(shipped().net());
    let get = |name: &str| entries.iter().find(|e| e.name == name).unwrap();
    let mut graph = onnx_ir::GraphProto::new();
    for (name, anonymous) in [
        ("conv1.weight", "onnx::Conv_17"),
        ("conv1.bias", "onnx::Conv_18"),
        ("conv2.weight", "onnx::Conv_20"),
        ("conv2.bias", "onnx::Conv_21"),
    ] {
        let e = get(name);
        graph
            .initializer
            .push(tensor(anonymous, &e.shape, values(e)));
    }
    for (layer, weight, bias) in [
        ("fc1", "onnx::MatMul_30", "fc1.bias"),
        ("fc2", "onnx::MatMul_31", "fc2.bias"),
    ] {
        let e = get(&format!("{layer}.weight"));
        let (out, inp) = (e.shape[0], e.shape[1]);
        let transposed: Vec<f32> = (0..inp)
            .flat_map(|i| (0..out).map(move |o| (i, o)))
            .map(|(i, o)| values(e)[o * inp + i])
            .collect();
        graph
            .initializer
            .push(tensor(weight, &[inp, out], &transposed));
        let b = get(&format!("{layer}.bias"));
        graph.initializer.push(tensor(bias, &b.shape, values(b)));
    }
    let shape_constant = |output: &str, values: &[i64]| {
        let mut t = TensorProto::new();
        t.data_type = 7; // int64
        t.dims = vec![values.len() as i64];
        t.int64_data = values.to_vec();
        let mut value = AttributeProto::new();
        value.name = "value".into();
        value.type_ = AttributeType::TENSOR.into();
        value.t = Some(t).into();
        node("Constant", "", &[], &[output], vec![value])
    };
    let constants = [
        shape_constant("c0", &[0]),
        shape_constant("c_minus_1", &[-1]),
    ];
    graph.node = constants.into_iter().collect();
    graph.node.extend([
        conv("", &["input.1", "onnx::Conv_17", "onnx::Conv_18"], "19"),
        node("Relu", "", &["19"], &["22"], vec![]),
        max_pool("", "22", "23"),
        conv("", &["23", "onnx::Conv_20", "onnx::Conv_21"], "24"),
        node("Relu", "", &["24"], &["25"], vec![]),
        max_pool("", "25", "26"),
        node("Shape", "", &["26"], &["27"], vec![]),
        node("Gather", "", &["27", "c0"], &["28"], vec![int("axis", 0)]),
        node("Unsqueeze", "", &["28", "c0"], &["29"], vec![]),
        node(
            "Concat",
            "",
            &["29", "c_minus_1"],
            &["32"],
            vec![int("axis", 0)],
        ),
        node("Reshape", "", &["26", "32"], &["33"], vec![]),
        node("MatMul", "", &["33", "onnx::MatMul_30"], &["34"], vec![]),
        node("Add", "", &["fc1.bias", "34"], &["35"], vec![]),
        node("Relu", "", &["35"], &["36"], vec![]),
        node(
            "Identity",
            "",
            &["onnx::MatMul_31"],
            &["onnx::MatMul_31_id"],
            vec![],
        ),
        node("MatMul", "", &["36", "onnx::MatMul_31_id"], &["37"], vec![]),
        node("Add", "", &["37", "fc2.bias"], &["38"], vec![]),
    ]);
    let mut model = ModelProto::new();
    model.ir_version = 7;
    model.graph = Some(graph).into();
    model
}

fn write(dir: &Path, name: &str, model: &ModelProto) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, model.write_to_bytes().unwrap()).unwrap();
    path
}

#[test]
fn torch_onnx_export_layouts_load_with_the_same_logits() {
    let dir = tempfile::tempdir().unwrap();
    let named = write(dir.path(), "named.onnx", &torch_named());
    let diff = max_diff_to_shipped(&named);
    assert!(diff < 1e-5, "{diff}");
    let anonymous = write(dir.path(), "anonymous.onnx", &torch_anonymous());
    let diff = max_diff_to_shipped(&anonymous);
    assert!(diff < 1e-5, "{diff}");
}

/// `torch_named()` changed by `change`, loaded: its error.
fn spoiled(change: impl FnOnce(&mut onnx_ir::GraphProto)) -> InferError {
    let dir = tempfile::tempdir().unwrap();
    let mut model = torch_named();
    change(model.graph.as_mut().unwrap());
    load_error(&write(dir.path(), "model.onnx", &model))
}

/// Whether `err` is about the node named `name` (quoted) with `op`, saying `words`.
fn about_node(err: &InferError, name: &str, op_type: &str, words: &str) -> bool {
    matches!(err, InferError::OnnxNode { node, op, problem, .. }
        if node == name && op == op_type && problem.contains(words))
}

#[test]
fn a_graph_that_is_not_this_network_is_refused_naming_the_node() {
    let node_named = |g: &mut onnx_ir::GraphProto, name: &str| -> usize {
        g.node.iter().position(|n| n.name == name).unwrap()
    };

    let err = spoiled(|g| {
        let i = node_named(g, "/conv2/Conv");
        g.node[i].attribute.retain(|a| a.name != "strides");
        g.node[i].attribute.push(ints("strides", &[2, 2]));
    });
    assert!(
        about_node(&err, "'/conv2/Conv'", "Conv", "strides [2, 2]"),
        "{err}"
    );

    let err = spoiled(|g| {
        let i = node_named(g, "/Relu_1");
        g.node[i].op_type = "BatchNormalization".into();
    });
    assert!(
        about_node(
            &err,
            "'/Relu_1'",
            "BatchNormalization",
            "no BatchNormalization"
        ),
        "{err}"
    );

    let err = spoiled(|g| {
        let i = node_named(g, "/Relu");
        g.node[i].op_type = "LeakyRelu".into();
    });
    assert!(
        about_node(&err, "'/Relu'", "LeakyRelu", "uses ReLU"),
        "{err}"
    );

    let err = spoiled(|g| {
        let i = node_named(g, "/pool/MaxPool");
        g.node[i].op_type = "AveragePool".into();
    });
    assert!(
        about_node(&err, "'/pool/MaxPool'", "AveragePool", "Max"),
        "{err}"
    );

    // A third convolution.
    let err = spoiled(|g| {
        let extra = conv(
            "/conv3/Conv",
            &["/Relu_output_0", "conv1.weight", "conv1.bias"],
            "x",
        );
        g.node.push(extra);
    });
    assert!(
        matches!(&err, InferError::OnnxGraph { problem, .. } if problem.contains("3 convolutions")),
        "{err}"
    );

    // fc1 of another network (256 hidden units): the error names the node and the shape.
    let err = spoiled(|g| {
        let fc1 = g
            .initializer
            .iter_mut()
            .find(|t| t.name == "fc1.weight")
            .unwrap();
        *fc1 = tensor("fc1.weight", &[256, 1600], &vec![0.0; 256 * 1600]);
    });
    assert!(
        about_node(&err, "'/fc1/Gemm'", "Gemm", "[256, 1600]"),
        "{err}"
    );
    assert!(err.to_string().contains("[512, 1600]"), "{err}");

    // Weights kept in another file, or in float64.
    let err = spoiled(|g| {
        let w = g
            .initializer
            .iter_mut()
            .find(|t| t.name == "conv1.weight")
            .unwrap();
        w.data_location = protobuf::EnumOrUnknown::from_i32(1); // EXTERNAL
    });
    assert!(
        about_node(&err, "'/conv1/Conv'", "Conv", "external data"),
        "{err}"
    );
    let err = spoiled(|g| {
        let w = g
            .initializer
            .iter_mut()
            .find(|t| t.name == "conv2.bias")
            .unwrap();
        w.data_type = 11;
    });
    assert!(
        about_node(&err, "'/conv2/Conv'", "Conv", "element type 11"),
        "{err}"
    );

    // A stored tensor that no layer takes.
    let err = spoiled(|g| {
        g.initializer.push(tensor("scale", &[10], &[1.0; 10]));
        g.node
            .push(node("Relu", "/odd", &["scale"], &["odd"], vec![]));
    });
    assert!(about_node(&err, "'/odd'", "Relu", "'scale'"), "{err}");

    // A weight computed by the graph rather than stored.
    let err = spoiled(|g| {
        let i = node_named(g, "/fc2/Gemm");
        g.node[i].input[1] = "/Relu_2_output_0".into();
    });
    assert!(about_node(&err, "'/fc2/Gemm'", "Gemm", "computed"), "{err}");
}

#[test]
fn unreadable_and_oversized_graphs_are_refused_before_they_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let predictor = shipped();
    let bytes = onnx_bytes(predictor.net(), predictor.config(), predictor.device()).unwrap();
    let truncated = dir.path().join("truncated.onnx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(load_error(&truncated), InferError::NotOnnx { .. }));
    // Over the bound: refused by its size (a sparse file, nothing is read).
    let huge_file = dir.path().join("huge-file.onnx");
    std::fs::File::create(&huge_file)
        .unwrap()
        .set_len(infer::onnx_import::MAX_ONNX_BYTES + 1)
        .unwrap();
    assert!(matches!(
        load_error(&huge_file),
        InferError::TooLarge { .. }
    ));
    let empty = dir.path().join("empty.onnx");
    std::fs::write(&empty, b"").unwrap();
    let err = load_error(&empty);
    assert!(matches!(err, InferError::NotOnnx { .. }), "{err}");
    assert!(err.to_string().contains("no graph"), "{err}");

    let mut model = torch_named();
    let graph = model.graph.as_mut().unwrap();
    for i in 0..infer::onnx_import::MAX_NODES {
        let name = format!("r{i}");
        graph
            .node
            .push(node("Relu", &name, &["output"], &[&name], vec![]));
    }
    let err = load_error(&write(dir.path(), "huge.onnx", &model));
    assert!(
        matches!(&err, InferError::OnnxGraph { problem, .. } if problem.contains("266 nodes")),
        "{err}"
    );
}

#[test]
fn the_infer_program_reads_an_onnx_file_from_the_flag_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = write(dir.path(), "model.onnx", &torch_anonymous());
    let seven = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits/seven.png");
    for by_flag in [true, false] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_infer"));
        command.env_remove("MNIST_CNN_MODEL");
        if by_flag {
            command.arg("--model-dir").arg(&onnx);
        } else {
            command.env("MNIST_CNN_MODEL", &onnx);
        }
        let out = command.arg("predict").arg(&seven).output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{stderr}");
        assert!(stdout.contains("seven.png: 7 ("), "{stdout}");
    }
}
