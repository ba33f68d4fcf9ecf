#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! What the interop tests share: digits to compare logits on, and the network's weights in
//! PyTorch's layout, built here by hand (not through the exporter's adapter) so that the tests
//! check the layout rather than repeat it.

#![allow(dead_code)]

pub mod torch_file;

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor};
use infer::Predictor;
use model::{MnistCnn, Pixels, images_to_tensor};
use torch_file::{Entry, Values};

/// The hand-drawn digits of examples/digits, preprocessed, then synthetic digits up to `count`.
pub fn digits(count: usize) -> Vec<Pixels> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg"))
        .collect();
    files.sort();
    let mut digits: Vec<Pixels> = files
        .iter()
        .map(|f| infer::preprocess(&infer::open_image(f).unwrap()).unwrap())
        .collect();
    let synthetic = data::synthetic::digits(count.saturating_sub(digits.len()), 3);
    for i in 0..synthetic.len() {
        digits.push(synthetic.image(i).try_into().unwrap());
    }
    digits.truncate(count);
    assert_eq!(digits.len(), count);
    digits
}

/// Burn's logits for `images`, row after row.
pub fn logits(net: &MnistCnn, images: &[Pixels], device: &Device) -> Vec<f32> {
    net.forward(images_to_tensor(images, device))
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

/// The label of each row of `logits`.
pub fn labels(logits: &[f32]) -> Vec<u8> {
    logits
        .chunks_exact(model::NUM_CLASSES)
        .map(|row| {
            (0u8..)
                .zip(row)
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0
        })
        .collect()
}

/// The largest absolute difference of two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The built-in model on flex.
pub fn shipped() -> Predictor {
    Predictor::shipped(&Device::flex()).unwrap()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

/// `[rows, cols]` row-major -> `[cols, rows]` row-major.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols)
        .flat_map(|c| (0..rows).map(move |r| values[r * cols + c]))
        .collect()
}

/// `net`'s parameters as PyTorch's `state_dict()` of the same network holds them: convolution
/// weights `[out, in, k, k]` as in Burn, Linear weights `[out, in]` (Burn keeps `[in, out]`).
pub fn torch_state_dict(net: &MnistCnn) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (name, conv) in [("conv1", &net.conv1), ("conv2", &net.conv2)] {
        entries.push(entry(
            format!("{name}.weight"),
            &conv.weight.dims(),
            values(conv.weight.val()),
        ));
        let bias = conv.bias.as_ref().unwrap();
        entries.push(entry(
            format!("{name}.bias"),
            &bias.dims(),
            values(bias.val()),
        ));
    }
    for (name, linear) in [("fc1", &net.fc1), ("fc2", &net.fc2)] {
        let [d_in, d_out] = linear.weight.dims();
        let weight = transpose(&values(linear.weight.val()), d_in, d_out);
        entries.push(entry(format!("{name}.weight"), &[d_out, d_in], weight));
        let bias = linear.bias.as_ref().unwrap();
        entries.push(entry(
            format!("{name}.bias"),
            &bias.dims(),
            values(bias.val()),
        ));
    }
    entries
}

fn entry(name: String, shape: &[usize], values: Vec<f32>) -> Entry {
    Entry {
        name,
        shape: shape.to_vec(),
        values: Values::F32(values),
    }
}

/// `entries` as a safetensors file with `metadata` (none if empty), as PyTorch's
/// `safetensors.torch.save_file(state_dict, path, metadata)` writes it.
pub fn write_safetensors(path: &Path, entries: &[Entry], metadata: &[(&str, &str)]) {
    let bytes: Vec<(String, Vec<u8>, safetensors::Dtype, Vec<usize>)> = entries
        .iter()
        .map(|e| match &e.values {
            Values::F32(v) => (
                e.name.clone(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                safetensors::Dtype::F32,
                e.shape.clone(),
            ),
            Values::F64(v) => (
                e.name.clone(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                safetensors::Dtype::F64,
                e.shape.clone(),
            ),
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(name, data, dtype, shape)| {
            let view = safetensors::tensor::TensorView::new(*dtype, shape.clone(), data).unwrap();
            (name.clone(), view)
        })
        .collect();
    let metadata = (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    std::fs::write(path, safetensors::serialize(views, metadata).unwrap()).unwrap();
}
