//! The shipped model on the 10,000 real MNIST test images (`MNIST_DIR`): the forward pass with the
//! project's flex kernels (`model::kernels`) gives the same labels as Burn's standard ops, logits
//! within 1e-4, and the test accuracy recorded when the model was shipped. Ignored by default;
//! `.ci/run` runs the ignored tests with MNIST_DIR set.
#![cfg(feature = "flex")]
#![allow(clippy::unwrap_used)]

use burn::tensor::{Device, Tensor};
use infer::Predictor;
use model::{IMAGE_PIXELS, images_to_tensor};

fn logits(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len())
        .max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a)))
        .unwrap()
}

#[test]
#[ignore = "needs real MNIST in MNIST_DIR"]
fn shipped_model_gives_the_same_labels_with_the_flex_kernels() {
    let mnist_dir = std::env::var_os("MNIST_DIR").expect("MNIST_DIR must point at the MNIST files");
    let test = data::Mnist::load_test(Some(std::path::Path::new(&mnist_dir))).unwrap();
    assert_eq!(test.len(), 10_000);
    let device = Device::flex();
    let predictor = Predictor::shipped(&device).unwrap();
    let net = predictor.net();
    // The shipped model uses ReLU and max pooling: `forward` runs the project's convolution for
    // both layers and the fused kernel for both pools, `forward_portable` Burn's conv2d,
    // max_pool2d then relu, the code path before the kernels.
    assert!(matches!(net.pool, model::Pool::Max(_)) && net.activation == model::Activation::Relu);
    let (mut correct, mut max_diff) = (0usize, 0f32);
    for start in (0..test.len()).step_by(500) {
        let end = (start + 500).min(test.len());
        let pixels: Vec<u8> = (start..end)
            .flat_map(|i| test.image(i).iter().copied())
            .collect();
        let images = images_to_tensor(pixels.as_chunks::<IMAGE_PIXELS>().0, &device);
        let ours = logits(net.forward(images.clone()));
        let burns = logits(net.forward_portable(images));
        for (i, (a, b)) in ours.chunks(10).zip(burns.chunks(10)).enumerate() {
            let image = start + i;
            assert_eq!(argmax(a), argmax(b), "image {image}: labels differ");
            for (x, y) in a.iter().zip(b) {
                max_diff = max_diff.max((x - y).abs());
            }
            correct += usize::from(argmax(a) == usize::from(test.labels()[image]));
        }
    }
    println!("10,000 test images: max |logit difference| {max_diff:e}, {correct} correct");
    assert!(max_diff <= 1e-4, "logits differ by {max_diff}");
    let shipped: serde_json::Value =
        serde_json::from_str(include_str!("../../../artifacts/mnist-cnn/metrics.json")).unwrap();
    let accuracy = shipped["test_accuracy"].as_f64().unwrap();
    assert_eq!(correct, (accuracy * 10_000.0).round() as usize);
}
