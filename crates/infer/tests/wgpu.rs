//! The shipped model on wgpu and on flex over the same 1,000 MNIST test images
//! (`cargo test -p infer --features wgpu`, with `MNIST_DIR`).
#![cfg(feature = "wgpu")]

use std::path::Path;

use burn::tensor::Device;
use data::{Mnist, images_to_tensor};
use infer::Predictor;

#[test]
fn wgpu_and_flex_agree_on_the_shipped_model() {
    let dir = std::env::var_os("MNIST_DIR").expect("MNIST_DIR must point at the MNIST files");
    let set = Mnist::load_test(Some(Path::new(&dir))).unwrap();
    let pixels: Vec<u8> = (0..1000).flat_map(|i| set.image(i).to_vec()).collect();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/mnist-cnn");
    let logits = |device: Device| -> Vec<f32> {
        let predictor = Predictor::load(&shipped, &device).unwrap();
        predictor
            .net()
            .forward(images_to_tensor(&pixels, &device))
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
    let argmax = |row: &[f32]| (0..10).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
    let same = on_gpu
        .chunks(10)
        .zip(on_cpu.chunks(10))
        .filter(|(g, c)| argmax(g) == argmax(c))
        .count();
    assert_eq!(same, 1000, "predicted labels differ");
}
