//! The shipped model on wgpu and on flex over the same 1,000 MNIST test images
//! (`cargo test -p train --features wgpu --test wgpu_inference`, with `MNIST_DIR`).
//!
//! An inference test, kept with `train`'s GPU tests so that CI's GPU stage builds one package:
//! `-p infer` would add its image decoders, ONNX exporter and the tract runtime (its test
//! dependency) to that stage's second build of Burn.
#![cfg(feature = "wgpu")]
#![allow(clippy::unwrap_used)]

use std::path::Path;

use burn::tensor::Device;
use data::Mnist;
use infer::Predictor;
use model::{IMAGE_PIXELS, NUM_CLASSES, images_to_tensor};

#[test]
fn wgpu_and_flex_agree_on_the_shipped_model() {
    let dir = std::env::var_os("MNIST_DIR").expect("MNIST_DIR must point at the MNIST files");
    let set = Mnist::load_test(Some(Path::new(&dir))).unwrap();
    let pixels: Vec<u8> = (0..1000).flat_map(|i| set.image(i).to_vec()).collect();
    let images = pixels.as_chunks::<IMAGE_PIXELS>().0;
    let logits = |device: Device| -> Vec<f32> {
        let predictor = Predictor::shipped(&device).unwrap();
        predictor
            .net()
            .forward(images_to_tensor(images, &device))
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap()
    };
    let gpu = Device::wgpu(Default::default());
    println!("wgpu device: {gpu:?}");
    let (on_gpu, on_cpu) = (logits(gpu), logits(Device::flex()));
    let max_diff = on_gpu
        .iter()
        .zip(&on_cpu)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    println!("max |logit difference| over 1000 images: {max_diff:e}");
    assert!(max_diff < 1e-3, "logits differ by {max_diff}");
    let argmax = |row: &[f32]| {
        (0..NUM_CLASSES)
            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
            .unwrap()
    };
    let same = on_gpu
        .chunks(NUM_CLASSES)
        .zip(on_cpu.chunks(NUM_CLASSES))
        .filter(|(g, c)| argmax(g) == argmax(c))
        .count();
    assert_eq!(same, 1000, "predicted labels differ");
}
