//! Writes what an independent ONNX runtime needs to check this crate's export: for each case an
//! ONNX file, the digits to feed it and Burn's logits for them (`tests/onnx_runtime.py` runs the
//! files in ONNX Runtime and compares; `.ci/run`'s `onnx-runtime` stage runs both).
//!
//! ```sh
//! cargo run -p infer --example onnx_fixtures -- OUT_DIR [--mnist-dir DIR]
//! python3 crates/infer/tests/onnx_runtime.py OUT_DIR
//! ```
//!
//! Cases: the shipped model exported now, a network with leaky ReLU, average pooling and 'same'
//! padding (the portable forward's rewrites), and the committed `artifacts/mnist-cnn/model.onnx`,
//! each on 64 digits (the hand-drawn ones of examples/digits, then synthetic ones); with
//! `--mnist-dir`, also the shipped model on the 10,000 MNIST test images. Each case is
//! `NAME.onnx`, `NAME.pixels` (`u8`, `[n, 28, 28]`, white on black), `NAME.logits` (`f32`
//! little-endian, `[n, 10]`) and, for MNIST, `NAME.labels`, listed in `cases.json` with the
//! metadata the file must carry.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use infer::Predictor;
use infer::export::{onnx_bytes, write_file};
use model::{Activation, MnistCnn, MnistCnnConfig, Padding, Pixels, Pooling, images_to_tensor};

/// How many digits each case is run on: the hand-drawn ones, then synthetic ones (a batch of 64
/// exercises the dynamic batch axis; the runtime also runs the first digit alone).
const DIGITS: usize = 64;

fn main() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let (out, mnist_dir) = match args.as_slice() {
        [out] => (out.clone(), None),
        [out, flag, dir] if flag.as_os_str() == "--mnist-dir" => (out.clone(), Some(dir.clone())),
        _ => bail!("usage: onnx_fixtures OUT_DIR [--mnist-dir DIR]"),
    };
    let device = Device::flex();
    let digits = digits(DIGITS)?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");

    let shipped = Predictor::shipped(&device)?;
    let small = MnistCnnConfig::new()
        .with_conv1_filters(8)
        .with_conv2_filters(16)
        .with_hidden_units(32)
        .with_activation(Activation::LeakyRelu { slope: 0.1 })
        .with_pooling(Pooling::Avg)
        .with_padding(Padding::Same);
    let small_net = small.init(&device);
    let committed = std::fs::read(root.join("artifacts/mnist-cnn/model.onnx"))
        .context("reading artifacts/mnist-cnn/model.onnx")?;

    let shipped_onnx = onnx_bytes(shipped.net(), shipped.config(), &device)?;
    let mut cases = vec![
        Case {
            name: "shipped",
            onnx: shipped_onnx.clone(),
            net: shipped.net(),
            config: shipped.config(),
            images: digits.clone(),
            labels: None,
        },
        Case {
            name: "leaky_avg_same",
            onnx: onnx_bytes(&small_net, &small, &device)?,
            net: &small_net,
            config: &small,
            images: digits.clone(),
            labels: None,
        },
        Case {
            name: "committed",
            onnx: committed,
            net: shipped.net(),
            config: shipped.config(),
            images: digits,
            labels: None,
        },
    ];
    if let Some(dir) = mnist_dir {
        let set = data::Mnist::load_test(Some(&dir))?;
        let images = (0..set.len())
            .map(|i| Pixels::try_from(set.image(i)).context("an MNIST image is 28x28"))
            .collect::<Result<_>>()?;
        cases.push(Case {
            name: "shipped_mnist_test",
            onnx: shipped_onnx,
            net: shipped.net(),
            config: shipped.config(),
            images,
            labels: Some(set.labels().to_vec()),
        });
    }
    let mut listed = Vec::new();
    for case in cases {
        listed.push(case.write(&out, &device)?);
    }
    let manifest = serde_json::to_vec_pretty(&serde_json::json!({ "cases": listed }))?;
    let path = write_file(&out, "cases.json", &manifest)?;
    println!("{}", path.display());
    Ok(())
}

/// One model and the digits to run it on.
struct Case<'a> {
    name: &'static str,
    onnx: Vec<u8>,
    /// The network the ONNX file was exported from, for Burn's logits.
    net: &'a MnistCnn,
    config: &'a MnistCnnConfig,
    images: Vec<Pixels>,
    /// The true digits, where known (MNIST).
    labels: Option<Vec<u8>>,
}

impl Case<'_> {
    /// Writes the case's files into `out`; returns its entry of `cases.json`.
    fn write(&self, out: &Path, device: &Device) -> Result<serde_json::Value> {
        let name = self.name;
        write_file(out, &format!("{name}.onnx"), &self.onnx)?;
        write_file(out, &format!("{name}.pixels"), self.images.as_flattened())?;
        let mut logits = Vec::with_capacity(self.images.len() * model::NUM_CLASSES * 4);
        // Chunks keep the forward's activations small whatever the image count.
        for chunk in self.images.chunks(1000) {
            for value in batch_logits(self.net, chunk, device)? {
                logits.extend(value.to_le_bytes());
            }
        }
        write_file(out, &format!("{name}.logits"), &logits)?;
        if let Some(labels) = &self.labels {
            write_file(out, &format!("{name}.labels"), labels)?;
        }
        Ok(serde_json::json!({
            "name": name,
            "images": self.images.len(),
            "labels": self.labels.is_some(),
            "metadata": {
                "input_mean": model::MEAN.to_string(),
                "input_std": model::STD.to_string(),
                "model_config": serde_json::to_string(self.config)?,
            },
        }))
    }
}

/// The hand-drawn digits of examples/digits, preprocessed, then synthetic digits up to `count`.
fn digits(count: usize) -> Result<Vec<Pixels>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg"))
        .collect();
    files.sort();
    let mut digits = Vec::with_capacity(count);
    for file in files.iter().take(count) {
        digits.push(infer::preprocess(&infer::open_image(file)?)?);
    }
    let synthetic = data::synthetic::digits(count - digits.len(), 3);
    for i in 0..synthetic.len() {
        digits.push(
            synthetic
                .image(i)
                .try_into()
                .context("a synthetic digit is 28x28")?,
        );
    }
    Ok(digits)
}

/// Burn's logits for `images`, row after row.
fn batch_logits(net: &MnistCnn, images: &[Pixels], device: &Device) -> Result<Vec<f32>> {
    net.forward(images_to_tensor(images, device))
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|err| anyhow::anyhow!("logits are not f32: {err:?}"))
}
