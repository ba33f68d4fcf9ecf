//! `bench --ops`: the cost of each tensor operation of one training step, on the backend's
//! plain (non-autodiff) device, with the shapes of the default network (computed from its
//! configuration by `model::shape`, as the summary and the page compute them).
//!
//! perf's call graphs cannot say which Burn op a kernel belongs to (the work runs on rayon's
//! threads, not under the op that queued it), so this times the ops themselves, as Burn's
//! autodiff runs them: the backward of a convolution is a transposed convolution (input
//! gradient) plus a convolution over swapped batch/channel axes (weight gradient), a linear
//! layer's backward is two matrix products, and so on. The sum is compared with a real step so
//! that the autodiff bookkeeping and the optimizer show up too.

use std::time::Instant;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::module::{
    conv_transpose2d, conv2d, conv2d_weight_backward, linear, max_pool2d, max_pool2d_with_indices,
    max_pool2d_with_indices_backward, unfold4d,
};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions, MaxPoolOptions, UnfoldOptions};
use burn::tensor::{Device, Distribution, Int, Tensor};
use model::kernels::max_pool::{
    PoolActivation, PoolShape, max_pool_activate, max_pool_activate_backward,
};
use model::kernels::{conv2d as model_conv2d, conv2d_runs_kernel, max_pool_activate as fused_pool};
use model::shape::Shapes;
use model::{Activation, IMAGE_PIXELS, IMAGE_SIZE, MnistCnnConfig, NUM_CLASSES, images_to_tensor};
use serde::Serialize;
use train::Classifier;

/// One row of the op profile.
#[derive(Serialize, Debug)]
pub struct OpTime {
    /// What the op is, in the network's terms.
    pub op: String,
    /// Median milliseconds per call.
    pub ms: f64,
}

/// The op profile of one step at `batch`.
#[derive(Serialize, Debug)]
pub struct OpProfile {
    /// Images per batch.
    pub batch: usize,
    /// Each op, slowest first.
    pub ops: Vec<OpTime>,
    /// Sum of `ops`.
    pub ops_total_ms: f64,
    /// Median of a real forward + backward through autodiff (no optimizer).
    pub autodiff_forward_backward_ms: f64,
    /// Median of a real step: forward + backward + Adam.
    pub full_step_ms: f64,
}

const REPS: usize = 15;

/// Median milliseconds of `f` over [`REPS`] runs after two warm-up runs.
fn time<T>(mut f: impl FnMut() -> T) -> f64 {
    for _ in 0..2 {
        std::hint::black_box(f());
    }
    let mut ms: Vec<f64> = (0..REPS)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms[REPS / 2]
}

/// Rows from `(op, ms)` pairs.
fn rows<S: Into<String>>(timed: impl IntoIterator<Item = (S, f64)>) -> Vec<OpTime> {
    timed
        .into_iter()
        .map(|(op, ms)| OpTime { op: op.into(), ms })
        .collect()
}

/// Profiles one training step of the default network on `device` (a CPU backend: its ops
/// finish before they return, so wall time per call is the op's cost).
pub fn profile(device: &Device, batch: usize) -> OpProfile {
    let b = batch;
    // Every shape from the default network's configuration (`model::shape`): sides of the
    // image, the two convolutions' and the two pools' outputs; channels; dense widths.
    let net = MnistCnnConfig::new();
    let shapes = Shapes::of(&net);
    let (c1, c2, k, hidden) = (
        net.conv1_filters,
        net.conv2_filters,
        net.kernel_size,
        net.hidden_units,
    );
    let (side, s1, q1, s2, q2) = (
        IMAGE_SIZE,
        shapes.conv1[0],
        shapes.pool1[0],
        shapes.conv2[0],
        shapes.pool2[0],
    );
    let (flat_len, classes) = (shapes.flatten, NUM_CLASSES);
    let rand = |shape: [usize; 4]| Tensor::<4>::random(shape, Distribution::Default, device);
    let rand2 = |shape: [usize; 2]| Tensor::<2>::random(shape, Distribution::Default, device);
    let rand1 = |n: usize| Tensor::<1>::random([n], Distribution::Default, device);
    let conv = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
    let pool = MaxPoolOptions::new([2, 2]);

    let x = rand([b, 1, side, side]);
    // conv2 on the autodiff device (to time its backward) and as a plain copy.
    let ad = device.clone().autodiff();
    let conv1_layer = Conv2dConfig::new([1, c1], [k, k]).init(device);
    let conv2_ad = Conv2dConfig::new([c1, c2], [k, k]).init(&ad);
    let conv2_layer = conv2_ad.valid();
    let weights = |conv: &Conv2d| {
        let bias = conv
            .bias
            .as_ref()
            .expect("Conv2dConfig adds a bias by default");
        (conv.weight.val(), bias.val())
    };
    let (w1, b1) = weights(&conv1_layer);
    let (w2, b2) = weights(&conv2_layer);
    let (wf1, bf1) = (rand2([flat_len, hidden]), rand1(hidden));
    let (wf2, bf2) = (rand2([hidden, classes]), rand1(classes));
    let targets = Tensor::<1, Int>::from_ints(
        (0..b)
            .map(|i| (i % classes) as i32)
            .collect::<Vec<_>>()
            .as_slice(),
        device,
    );

    // Forward values, to feed the ops downstream. Training computes conv1 as 3x3 patches x
    // weights, and pools before the ReLU (see model::network).
    let patches = || {
        unfold4d(
            x.clone(),
            [k, k],
            UnfoldOptions::new([1, 1], [0, 0], [1, 1]),
        )
    };
    let w1_matrix = w1.clone().reshape([1, c1, k * k]);
    let conv1_matmul = || {
        (w1_matrix.clone().matmul(patches()) + b1.clone().reshape([1, c1, 1]))
            .reshape([b, c1, s1, s1])
    };
    let a1 = conv1_matmul();
    let (p1, i1) = max_pool2d_with_indices(a1.clone(), pool.clone());
    let r1 = relu(p1.clone());
    let a2 = conv2d(r1.clone(), w2.clone(), Some(b2.clone()), conv.clone());
    let (p2, i2) = max_pool2d_with_indices(a2.clone(), pool.clone());
    let r2 = relu(p2.clone());
    let flat = r2.clone().flatten::<2>(1, 3);
    let h = relu(linear(flat.clone(), wf1.clone(), Some(bf1.clone())));
    let logits = linear(h.clone(), wf2.clone(), Some(bf2.clone()));
    // Upstream gradients of the same shapes as the real ones.
    let (g_logits, g_h, g_flat) = (
        rand2([b, classes]),
        rand2([b, hidden]),
        rand2([b, flat_len]),
    );
    let (g_a2, g_a1) = (rand([b, c2, s2, s2]), rand([b, c1, s1, s1]));
    let g_p1 = rand([b, c1, q1, q1]);
    let max_pool_backward = |x: &Tensor<4>, g: &Tensor<4>, i: &Tensor<4, Int>| {
        max_pool2d_with_indices_backward(
            x.clone(),
            [2, 2],
            [2, 2],
            [0, 0],
            [1, 1],
            false,
            g.clone(),
            i.clone(),
        )
    };
    let relu_backward = |out: &Tensor<4>, g: &Tensor<4>| {
        g.clone().mask_fill(out.clone().lower_equal_elem(0.0), 0.0)
    };
    // The project's fused pool + ReLU (model::kernels) on the same values, through its slice
    // kernels: the forward as training runs it (keeping the one-byte codes), the backward from
    // those codes. The tensor wrapping around them is zero-copy.
    let host = |t: &Tensor<4>| t.to_data().try_to_vec::<f32>().expect("f32 values");
    let (a1_host, a2_host) = (host(&a1), host(&a2));
    let (g_p1_host, g_p2_host) = (host(&g_p1), host(&g_flat.clone().reshape([b, c2, q2, q2])));
    let shape1 = PoolShape {
        planes: b * c1,
        height: s1,
        width: s1,
    };
    let shape2 = PoolShape {
        planes: b * c2,
        height: s2,
        width: s2,
    };
    let relu_act = PoolActivation::Relu;
    let fused_forward = || {
        (
            max_pool_activate(shape1, relu_act, &a1_host, true),
            max_pool_activate(shape2, relu_act, &a2_host, true),
        )
    };
    let ((_, codes1), (_, codes2)) = fused_forward();
    let (codes1, codes2) = (codes1.unwrap_or_default(), codes2.unwrap_or_default());
    let loss = CrossEntropyLossConfig::new().init(device);
    let bias_grad = |g: &Tensor<4>| g.clone().sum_dim(0).sum_dim(2).sum_dim(3);

    // conv2 as the model runs it (model::kernels::conv2d: the project's kernel on flex, Burn's
    // conv2d elsewhere). Its backward is not callable on its own: it is timed as forward +
    // backward through autodiff (seeded with ones) minus the forward. conv1 trains as patches x
    // weights in Burn's ops on every device (model::network).
    let conv2_label = if conv2d_runs_kernel(&r1, &conv2_layer) {
        "project kernel"
    } else {
        "Burn's conv2d"
    };
    let conv2_forward_ms = time(|| model_conv2d(r1.clone(), &conv2_layer));
    let r1_ad = Tensor::<4>::from_data(r1.to_data(), &ad);
    let conv2_backward_ms = time(|| {
        let input = r1_ad.clone().require_grad();
        model_conv2d(input, &conv2_ad).backward()
    }) - conv2_forward_ms;

    let mut ops = rows([
        (
            format!("forward: conv2 {c1}->{c2} @{k}x{k}, {q1}->{s2} ({conv2_label})"),
            conv2_forward_ms,
        ),
        (
            format!(
                "backward: conv2 input + weight + bias grads ({conv2_label}; fwd+bwd minus fwd)"
            ),
            conv2_backward_ms,
        ),
    ]);
    ops.extend(rows([
        (
            format!("forward: conv1 1->{c1} @{k}x{k}, {side}->{s1} (patches x weights)").as_str(),
            time(conv1_matmul),
        ),
        (
            "(not in the step) Burn: conv2 forward (conv2d)",
            time(|| conv2d(r1.clone(), w2.clone(), Some(b2.clone()), conv.clone())),
        ),
        ("forward: ReLU after fc1", time(|| relu(h.clone()))),
        (
            "forward: max-pool + ReLU x2 (project kernel, u8 codes)",
            time(fused_forward),
        ),
        (
            "(not in the step) Burn: max-pool x2 with indices + ReLU x2",
            time(|| {
                (
                    relu(max_pool2d_with_indices(a1.clone(), pool.clone()).0),
                    relu(max_pool2d_with_indices(a2.clone(), pool.clone()).0),
                )
            }),
        ),
        (
            format!("forward: fc1 {flat_len}->{hidden}").as_str(),
            time(|| linear(flat.clone(), wf1.clone(), Some(bf1.clone()))),
        ),
        (
            format!("forward: fc2 {hidden}->{classes}").as_str(),
            time(|| linear(h.clone(), wf2.clone(), Some(bf2.clone()))),
        ),
        (
            "forward: dropout mask + scale",
            time(|| {
                h.clone()
                    * Tensor::<2>::random([b, hidden], Distribution::Bernoulli(0.5), device)
                    * 2.0
            }),
        ),
        (
            "forward: cross-entropy",
            time(|| loss.forward(logits.clone(), targets.clone())),
        ),
        (
            "backward: fc2 (2 matmuls + bias)",
            time(|| {
                (
                    g_logits.clone().matmul(wf2.clone().transpose()),
                    h.clone().transpose().matmul(g_logits.clone()),
                    g_logits.clone().sum_dim(0),
                )
            }),
        ),
        (
            "backward: fc1 (2 matmuls + bias)",
            time(|| {
                (
                    g_h.clone().matmul(wf1.clone().transpose()),
                    flat.clone().transpose().matmul(g_h.clone()),
                    g_h.clone().sum_dim(0),
                )
            }),
        ),
        (
            "backward: ReLU after fc1",
            time(|| g_h.clone().mask_fill(h.clone().lower_equal_elem(0.0), 0.0)),
        ),
        (
            "backward: max-pool + ReLU x2 (project kernel)",
            time(|| {
                (
                    max_pool_activate_backward(shape1, relu_act, &g_p1_host, &codes1),
                    max_pool_activate_backward(shape2, relu_act, &g_p2_host, &codes2),
                )
            }),
        ),
        (
            "(not in the step) Burn: ReLU backward x2 + max-pool backward x2",
            time(|| {
                let g_p2 = g_flat.clone().reshape([b, c2, q2, q2]);
                (
                    max_pool_backward(&a1, &relu_backward(&r1, &g_p1), &i1),
                    max_pool_backward(&a2, &relu_backward(&r2, &g_p2), &i2),
                )
            }),
        ),
        (
            "(not in the step) Burn: conv2 input grad (transposed conv)",
            time(|| {
                conv_transpose2d(
                    g_a2.clone(),
                    w2.clone(),
                    None,
                    ConvTransposeOptions::new([1, 1], [0, 0], [0, 0], [1, 1], 1),
                )
            }),
        ),
        (
            "(not in the step) Burn: conv2 weight grad (conv2d_weight_backward)",
            time(|| conv2d_weight_backward(r1.clone(), w2.clone(), g_a2.clone(), conv.clone())),
        ),
        (
            "backward: conv1 weight grad (patches matmul + batch sum)",
            time(|| {
                g_a1.clone()
                    .reshape([b, c1, s1 * s1])
                    .matmul(patches().swap_dims(1, 2))
                    .sum_dim(0)
            }),
        ),
        (
            "(not in the step) conv1 weight grad as Burn's conv2d backward",
            time(|| conv2d_weight_backward(x.clone(), w1.clone(), g_a1.clone(), conv.clone())),
        ),
        ("backward: conv1 bias grad", time(|| bias_grad(&g_a1))),
    ]));

    // The real thing, through autodiff, for comparison with the sum of its parts.
    let model = Classifier::new(net.init(&ad), 1);
    let images = rand([b, 1, side, side]).to_device(&ad);
    let batch_of = || data::MnistBatch {
        images: images.clone(),
        targets: targets.clone().to_device(&ad),
    };
    let autodiff_forward_backward_ms = time(|| {
        let out = model.forward_classification(batch_of());
        GradientsParams::from_grads(out.loss.backward(), &model)
    });
    // A/B in one process: forward + backward of the whole network without dropout, once as the
    // model runs it (`forward`: the project's kernels on flex) and once through Burn's standard
    // ops only (`forward_portable`: max_pool2d, then relu). Same parameters, same images.
    let net = &model.net;
    let ad_targets = targets.clone().to_device(&ad);
    let forward_backward = |portable: bool| {
        let logits = if portable {
            net.forward_portable(images.clone())
        } else {
            net.forward_with_dropout_mask(images.clone(), None)
        };
        let loss = loss.forward(logits, ad_targets.clone());
        GradientsParams::from_grads(loss.backward(), net)
    };
    ops.extend(rows([
        (
            "(not in the step) A/B forward+backward, no dropout: project kernels",
            time(|| forward_backward(false)),
        ),
        (
            "(not in the step) A/B forward+backward, no dropout: Burn's ops only",
            time(|| forward_backward(true)),
        ),
    ]));
    let mut optim = AdamConfig::new().init();
    let mut current = model.clone();
    let mut adam_ms = Vec::new();
    let mut step_ms = Vec::new();
    for _ in 0..REPS + 2 {
        let start = Instant::now();
        let out = current.forward_classification(batch_of());
        let grads = GradientsParams::from_grads(out.loss.backward(), &current);
        let adam = Instant::now();
        current = optim.step(1e-3, current, grads);
        adam_ms.push(adam.elapsed().as_secs_f64() * 1e3);
        step_ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let median = |mut v: Vec<f64>| {
        let v = v.split_off(2); // warm-up
        let mut v = v;
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let full_step_ms = median(step_ms);
    ops.push(OpTime {
        op: format!("Adam update ({} parameters)", model.num_params()),
        ms: median(adam_ms),
    });

    ops.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    let ops_total_ms = ops
        .iter()
        .filter(|o| !o.op.starts_with("(not in the step)"))
        .map(|o| o.ms)
        .sum();
    OpProfile {
        batch,
        ops,
        ops_total_ms,
        autodiff_forward_backward_ms,
        full_step_ms,
    }
}

/// Prints `profile` as a table with each op's share of the sum.
pub fn print(profile: &OpProfile) {
    println!(
        "one training step at batch {}: {:.2} ms measured (forward+backward {:.2} ms); ops below sum to {:.2} ms",
        profile.batch,
        profile.full_step_ms,
        profile.autodiff_forward_backward_ms,
        profile.ops_total_ms
    );
    print_ops(profile);
}

/// Prints the rows of `profile`.
pub fn print_ops(profile: &OpProfile) {
    println!("{:>8} {:>6}  op", "ms", "share");
    for op in &profile.ops {
        let share = if op.op.starts_with("(not in the") {
            "-".to_string()
        } else {
            format!("{:.1}%", 100.0 * op.ms / profile.ops_total_ms)
        };
        println!("{:>8.3} {:>6}  {}", op.ms, share, op.op);
    }
}

/// The cost of each op of one inference forward pass at `batch` (batch 1: the latency case),
/// from the u8 pixels to the probabilities on the host, on a plain device.
pub fn forward_profile(device: &Device, batch: usize) -> OpProfile {
    let model = MnistCnnConfig::new().init(device);
    let pixels: Vec<u8> = (0..batch * IMAGE_PIXELS)
        .map(|i| (i * 7 % 256) as u8)
        .collect();
    let images = pixels.as_chunks::<IMAGE_PIXELS>().0;
    let conv = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
    let pool = MaxPoolOptions::new([2, 2]);
    let bias = |b: &Option<burn::module::Param<Tensor<1>>>| b.as_ref().map(|b| b.val());
    let (w1, b1) = (model.conv1.weight.val(), bias(&model.conv1.bias));
    let (w2, b2) = (model.conv2.weight.val(), bias(&model.conv2.bias));
    let (wf1, bf1) = (model.fc1.weight.val(), bias(&model.fc1.bias));
    let (wf2, bf2) = (model.fc2.weight.val(), bias(&model.fc2.bias));

    // Each layer once, as a closure: run for its value, timed for its cost.
    let x = images_to_tensor(images, device);
    let conv1 = || model_conv2d(x.clone(), &model.conv1);
    let burn_conv1 = || conv2d(x.clone(), w1.clone(), b1.clone(), conv.clone());
    let a1 = conv1();
    let max_pool = burn::nn::pool::MaxPool2dConfig::new([2, 2]).init();
    let fused = |x: &Tensor<4>| fused_pool(x.clone(), &max_pool, Activation::Relu);
    let p1 = fused(&a1);
    let conv2 = || model_conv2d(p1.clone(), &model.conv2);
    let burn_conv2 = || conv2d(p1.clone(), w2.clone(), b2.clone(), conv.clone());
    let a2 = conv2();
    let conv_label = if conv2d_runs_kernel(&p1, &model.conv2) {
        "project kernel"
    } else {
        "Burn's conv2d"
    };
    let flat = fused(&a2).flatten::<2>(1, 3);
    let burn_pool = || {
        (
            relu(max_pool2d(a1.clone(), pool.clone())),
            relu(max_pool2d(a2.clone(), pool.clone())),
        )
    };
    let fc1 = || linear(flat.clone(), wf1.clone(), bf1.clone());
    let h = relu(fc1());
    let fc2 = || linear(h.clone(), wf2.clone(), bf2.clone());
    let logits = fc2();
    let softmax = || burn::tensor::activation::softmax(logits.clone(), 1);
    let probs = softmax();

    let mut ops = rows([
        (format!("conv1 ({conv_label})"), time(conv1)),
        (format!("conv2 ({conv_label})"), time(conv2)),
    ]);
    ops.extend(rows([
        (
            "pixels -> normalised tensor",
            time(|| images_to_tensor(images, device)),
        ),
        ("(not in the pass) Burn: conv1 (conv2d)", time(burn_conv1)),
        ("(not in the pass) Burn: conv2 (conv2d)", time(burn_conv2)),
        (
            "max-pool + ReLU x2 (project kernel)",
            time(|| (fused(&a1), fused(&a2))),
        ),
        (
            "(not in the pass) Burn: max-pool + ReLU x2",
            time(burn_pool),
        ),
        ("ReLU after fc1", time(|| relu(h.clone()))),
        ("fc1 + fc2", time(|| (fc1(), fc2()))),
        ("softmax", time(softmax)),
        (
            "probabilities -> host Vec<f32>",
            time(|| probs.clone().into_data().try_to_vec::<f32>().ok()),
        ),
    ]));
    ops.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    let full = time(|| {
        let probs = model.probabilities(images_to_tensor(images, device));
        probs.into_data().try_to_vec::<f32>().ok()
    });
    OpProfile {
        batch,
        ops_total_ms: ops
            .iter()
            .filter(|o| !o.op.starts_with("(not in the"))
            .map(|o| o.ms)
            .sum(),
        ops,
        autodiff_forward_backward_ms: f64::NAN,
        full_step_ms: full,
    }
}
