//! Behaviour of the module on the flex CPU backend: shapes, parameter count, and the lecture's
//! claims about convolutions, checked numerically.

use burn::module::Module;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use model::{Activation, MnistCnnConfig, Padding, Pooling};

fn device() -> Device {
    let device = Device::flex();
    device.seed(7);
    device
}

fn random_images(batch: usize, device: &Device) -> Tensor<4> {
    Tensor::random([batch, 1, 28, 28], Distribution::Normal(0.0, 1.0), device)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32 tensor")
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn shapes_after_every_layer_valid_padding() {
    let device = device();
    let model = MnistCnnConfig::new().init(&device);
    let maps = model.stages(random_images(3, &device));
    assert_eq!(maps.conv1.dims(), [3, 32, 26, 26]);
    assert_eq!(maps.conv2.dims(), [3, 64, 11, 11]);
    let pooled1 = match &model.pool {
        model::Pool::Max(pool) => pool.forward(maps.conv1.clone()),
        model::Pool::Avg(pool) => pool.forward(maps.conv1.clone()),
    };
    assert_eq!(pooled1.dims(), [3, 32, 13, 13]);
    assert_eq!(model.fc1.weight.dims(), [1600, 512]);
    assert_eq!(model.forward(random_images(3, &device)).dims(), [3, 10]);
}

#[test]
fn shapes_after_every_layer_same_padding() {
    let device = device();
    let config = MnistCnnConfig::new().with_padding(Padding::Same);
    let model = config.init(&device);
    let maps = model.stages(random_images(2, &device));
    assert_eq!(maps.conv1.dims(), [2, 32, 28, 28]);
    assert_eq!(maps.conv2.dims(), [2, 64, 14, 14]);
    assert_eq!(model.fc1.weight.dims(), [3136, 512]);
    assert_eq!(model.forward(random_images(2, &device)).dims(), [2, 10]);
}

/// `stages` shows every intermediate result with the shape the summary promises, and ends in
/// the logits `forward` computes, for the lecture's network and for other sizes and options.
#[test]
fn stages_follow_the_summary_and_end_in_the_logits() {
    let device = device();
    for config in [
        MnistCnnConfig::new(),
        MnistCnnConfig::new()
            .with_padding(Padding::Same)
            .with_pooling(Pooling::Avg)
            .with_activation(Activation::LeakyRelu { slope: 0.1 })
            .with_conv1_filters(4)
            .with_conv2_filters(6)
            .with_kernel_size(5)
            .with_hidden_units(20),
    ] {
        let model = config.init(&device);
        let images = random_images(2, &device);
        let stages = model.stages(images.clone());
        let shapes = model::shape::Shapes::of(&config);
        let chw = |[h, w, c]: [usize; 3]| [2, c, h, w];
        assert_eq!(stages.conv1.dims(), chw(shapes.conv1), "{config:?}");
        assert_eq!(stages.pool1.dims(), chw(shapes.pool1), "{config:?}");
        assert_eq!(stages.conv2.dims(), chw(shapes.conv2), "{config:?}");
        assert_eq!(stages.pool2.dims(), chw(shapes.pool2), "{config:?}");
        assert_eq!(stages.hidden.dims(), [2, config.hidden_units]);
        let logits = values(stages.logits);
        let diff = max_abs_diff(&logits, &values(model.forward(images.clone())));
        assert!(diff < 1e-5, "{config:?}: logits differ by {diff}");
    }
}

#[test]
fn parameter_count_matches_summary_and_lecture() {
    let device = device();
    let default = MnistCnnConfig::new();
    assert_eq!(default.init(&device).num_params(), 843_658);
    assert_eq!(default.summary().total_params(), 843_658);
    for config in [
        MnistCnnConfig::new().with_padding(Padding::Same),
        MnistCnnConfig::new().with_pooling(Pooling::Avg),
        MnistCnnConfig::new()
            .with_activation(Activation::LeakyRelu { slope: 0.01 })
            .with_conv1_filters(8)
            .with_conv2_filters(16)
            .with_kernel_size(5)
            .with_hidden_units(64),
    ] {
        assert_eq!(
            config.init(&device).num_params(),
            config.summary().total_params(),
            "{config:?}"
        );
    }
}

#[test]
fn invalid_configs_are_errors_not_panics() {
    for config in [
        MnistCnnConfig::new().with_conv1_filters(0),
        MnistCnnConfig::new().with_dropout(1.0),
        MnistCnnConfig::new().with_kernel_size(20),
        MnistCnnConfig::new()
            .with_padding(Padding::Same)
            .with_kernel_size(4),
        MnistCnnConfig::new().with_activation(Activation::LeakyRelu { slope: f64::NAN }),
    ] {
        assert!(config.validate().is_err(), "{config:?} should be rejected");
    }
    assert!(MnistCnnConfig::new().validate().is_ok());
}

/// Shifting the input by (dy, dx) shifts the first layer's feature map by the same amount:
/// the same filter is applied at every position (weight sharing).
#[test]
fn first_convolution_is_translation_equivariant() {
    let device = device();
    let model = MnistCnnConfig::new().init(&device);
    let (dy, dx) = (3usize, 2usize);
    let image = values(random_images(1, &device));
    let mut shifted = vec![0.0f32; 28 * 28];
    for y in dy..28 {
        for x in dx..28 {
            shifted[y * 28 + x] = image[(y - dy) * 28 + (x - dx)];
        }
    }
    let as_tensor =
        |v: Vec<f32>| Tensor::<4>::from_data(TensorData::new(v, [1, 1, 28, 28]), &device);
    let a = values(model.conv1.forward(as_tensor(image)));
    let b = values(model.conv1.forward(as_tensor(shifted)));
    // Output position (y, x) of the shifted image sees input rows y..y+3 of the shifted image,
    // i.e. rows y-dy.. of the original: compare wherever both windows are inside the image.
    let mut compared = 0;
    for c in 0..32 {
        for y in dy..26 {
            for x in dx..26 {
                let original = a[c * 676 + (y - dy) * 26 + (x - dx)];
                let moved = b[c * 676 + y * 26 + x];
                assert!(
                    (original - moved).abs() < 1e-5,
                    "c{c} y{y} x{x}: {original} vs {moved}"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 32 * 23 * 24);
    // And the map did move: without the shift the same positions differ.
    assert!(max_abs_diff(&a[..676], &b[..676]) > 1e-2);
}

/// Two convolutions with no activation between them are one convolution: the composed kernel
/// is the "full" convolution of the two kernels (3x3 then 3x3 = 5x5), and the biases fold in.
#[test]
fn two_linear_convolutions_collapse_into_one() {
    let device = device();
    let model = MnistCnnConfig::new().init(&device);
    let w1 = values(model.conv1.weight.val()); // [32, 1, 3, 3]
    let b1 = values(model.conv1.bias.as_ref().unwrap().val()); // [32]
    let w2 = values(model.conv2.weight.val()); // [64, 32, 3, 3]
    let b2 = values(model.conv2.bias.as_ref().unwrap().val()); // [64]

    // composed[o][u][v] = sum_c sum_{a+p=u, b+q=v} w2[o][c][a][b] * w1[c][p][q]
    let mut w = vec![0.0f32; 64 * 5 * 5];
    let mut b = b2.clone();
    for o in 0..64 {
        for c in 0..32 {
            let mut w2_sum = 0.0;
            for a in 0..3 {
                for bb in 0..3 {
                    let k2 = w2[((o * 32 + c) * 3 + a) * 3 + bb];
                    w2_sum += k2;
                    for p in 0..3 {
                        for q in 0..3 {
                            w[(o * 5 + a + p) * 5 + bb + q] += k2 * w1[(c * 3 + p) * 3 + q];
                        }
                    }
                }
            }
            b[o] += w2_sum * b1[c];
        }
    }

    let input = random_images(2, &device);
    let two = values(model.conv2.forward(model.conv1.forward(input.clone())));
    let one = values(conv2d(
        input,
        Tensor::from_data(TensorData::new(w, [64, 1, 5, 5]), &device),
        Some(Tensor::from_data(TensorData::new(b, [64]), &device)),
        ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
    ));
    assert_eq!(one.len(), 2 * 64 * 24 * 24);
    let diff = max_abs_diff(&two, &one);
    assert!(diff < 1e-4, "max difference {diff}");
}

#[test]
fn softmax_rows_sum_to_one() {
    let device = device();
    let model = MnistCnnConfig::new().init(&device);
    let probs = values(model.probabilities(random_images(4, &device)));
    for row in probs.chunks(10) {
        let sum: f32 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "row sums to {sum}");
        assert!(row.iter().all(|p| (0.0..=1.0).contains(p)));
    }
}

#[test]
fn dropout_only_acts_while_training() {
    let device = device().autodiff();
    let model = MnistCnnConfig::new().init(&device);
    let input = random_images(4, &device);

    let training_a = values(model.forward(input.clone()));
    let training_b = values(model.forward(input.clone()));
    assert!(
        max_abs_diff(&training_a, &training_b) > 1e-4,
        "dropout had no effect in training"
    );

    let eval = model.valid();
    let eval_a = values(eval.forward(input.clone()));
    let eval_b = values(eval.forward(input));
    assert_eq!(eval_a, eval_b, "inference must be deterministic");
    assert!(max_abs_diff(&eval_a, &training_a) > 1e-4);
}

#[test]
fn first_convolution_as_matrix_product_equals_conv2d() {
    // The network computes conv1 as patches x weights (faster to train); it must be the very
    // layer `Conv2d::forward` computes, for both paddings, in value and in gradient.
    for padding in [Padding::Valid, Padding::Same] {
        let device = device().autodiff();
        let model = MnistCnnConfig::new()
            .with_padding(padding)
            .with_activation(Activation::LeakyRelu { slope: 0.1 })
            .init(&device);
        let images = random_images(3, &device);
        let reference = burn::nn::LeakyReluConfig::new()
            .with_negative_slope(0.1)
            .init()
            .forward(model.conv1.forward(images.clone()));
        let ours = model.stages(images).conv1;
        assert_eq!(ours.dims(), reference.dims(), "{padding:?}");
        let diff = max_abs_diff(&values(ours.clone()), &values(reference.clone()));
        assert!(diff < 1e-5, "{padding:?}: max diff {diff}");

        let weight_grad = |out: Tensor<4>| {
            let grads = (out.clone() * out).sum().backward();
            values(model.conv1.weight.grad(&grads).unwrap())
        };
        let diff = max_abs_diff(&weight_grad(ours), &weight_grad(reference));
        assert!(
            diff < 1e-3,
            "{padding:?}: weight gradients differ by {diff}"
        );
    }
}

#[test]
fn a_caller_drawn_dropout_mask_is_the_dropout() {
    let device = device().autodiff();
    let model = MnistCnnConfig::new().init(&device);
    let images = random_images(4, &device);
    let mask = model
        .dropout_mask(4, &device)
        .expect("dropout is active while training");
    assert_eq!(mask.dims(), [4, 512]);
    let kept: Vec<f32> = values(mask.clone());
    assert!(kept.iter().all(|&m| m == 0.0 || m == 1.0));
    let share = kept.iter().sum::<f32>() / kept.len() as f32;
    assert!(
        (0.4..0.6).contains(&share),
        "keep share {share} for p = 0.5"
    );

    // The same mask gives the same logits; rows of it give the rows of the batch.
    let a = values(model.forward_with_dropout_mask(images.clone(), Some(mask.clone())));
    let b = values(model.forward_with_dropout_mask(images.clone(), Some(mask.clone())));
    assert_eq!(a, b);
    let first_two = values(
        model.forward_with_dropout_mask(images.clone().narrow(0, 0, 2), Some(mask.narrow(0, 0, 2))),
    );
    assert!(max_abs_diff(&first_two, &a[..20]) < 1e-5);

    // No mask where dropout is off: inference devices and p = 0.
    assert!(model.valid().dropout_mask(4, &Device::flex()).is_none());
    let no_dropout = MnistCnnConfig::new().with_dropout(0.0).init(&device);
    assert!(no_dropout.dropout_mask(4, &device).is_none());
}

#[test]
fn forward_is_the_lectures_layer_order() {
    // forward() pools before activating where that is the same function (max pooling); check it
    // against the lecture's order spelled out layer by layer, for every pooling/activation.
    let device = device();
    for pooling in [Pooling::Max, Pooling::Avg] {
        for activation in [Activation::Relu, Activation::LeakyRelu { slope: 0.2 }] {
            let model = MnistCnnConfig::new()
                .with_pooling(pooling)
                .with_activation(activation)
                .init(&device);
            let act = |x: Tensor<4>| match activation {
                Activation::Relu => burn::tensor::activation::relu(x),
                Activation::LeakyRelu { slope } => burn::tensor::activation::leaky_relu(x, slope),
            };
            let pool = |x: Tensor<4>| match pooling {
                Pooling::Max => burn::nn::pool::MaxPool2dConfig::new([2, 2])
                    .init()
                    .forward(x),
                Pooling::Avg => burn::nn::pool::AvgPool2dConfig::new([2, 2])
                    .init()
                    .forward(x),
            };
            let images = random_images(3, &device);
            let x = pool(act(model.conv1.forward(images.clone())));
            let x = pool(act(model.conv2.forward(x))).flatten::<2>(1, 3);
            let x = model.fc1.forward(x);
            let x = match activation {
                Activation::Relu => burn::tensor::activation::relu(x),
                Activation::LeakyRelu { slope } => burn::tensor::activation::leaky_relu(x, slope),
            };
            let lecture = values(model.fc2.forward(x));
            let ours = values(model.forward(images));
            let diff = max_abs_diff(&ours, &lecture);
            assert!(diff < 1e-5, "{pooling:?} {activation:?}: {diff}");
        }
    }
}

#[test]
fn portable_forward_is_the_same_function() {
    // The forward pass `infer export` traces spells leaky ReLU with ReLUs and runs Burn's
    // convolution, where `forward` runs the project's flex kernel (model::kernels::conv2d, whose
    // sums run in another order): the same values up to float rounding, for every
    // pooling/activation.
    let device = device();
    for pooling in [Pooling::Max, Pooling::Avg] {
        for activation in [Activation::Relu, Activation::LeakyRelu { slope: 0.2 }] {
            let model = MnistCnnConfig::new()
                .with_pooling(pooling)
                .with_activation(activation)
                .init(&device);
            let images = random_images(3, &device);
            let portable = values(model.forward_portable(images.clone()));
            let native = values(model.forward(images));
            let diff = portable
                .iter()
                .zip(&native)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(diff < 1e-5, "{pooling:?} {activation:?}: differ by {diff}");
        }
    }
}
