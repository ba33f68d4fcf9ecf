//! The module itself: two convolution blocks, then a two-layer classifier.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, relu, softmax};
use burn::tensor::module::unfold4d;
use burn::tensor::ops::{PadMode, UnfoldOptions};
use burn::tensor::{Device, Distribution, Tensor};

use crate::config::{Activation, InvalidConfig, MnistCnnConfig, Padding, Pooling};
use crate::shape::{POOL_SIZE, Shapes};

/// The lecture's CNN. Build it with [`MnistCnnConfig::init`].
///
/// Fields are public so that tools (the feature-map renderer, exporters) can reach the
/// individual layers; [`MnistCnn::forward`] is all most code needs.
#[derive(Module, Debug)]
pub struct MnistCnn {
    /// 1 -> `conv1_filters` channels.
    pub conv1: Conv2d,
    /// `conv1_filters` -> `conv2_filters` channels.
    pub conv2: Conv2d,
    /// 2x2, stride 2; shared by both blocks (it holds no parameters).
    pub pool: Pool,
    /// Flattened features -> hidden units.
    pub fc1: Linear,
    /// Hidden units -> classes.
    pub fc2: Linear,
    /// Applied to the hidden features while training only.
    pub dropout: Dropout,
    /// Applied after each convolution and after `fc1`; it holds no parameters, so the
    /// configuration's value is kept as it is (not part of the record).
    #[module(skip)]
    pub activation: Activation,
}

/// The configured pooling layer.
#[derive(Module, Debug)]
pub enum Pool {
    /// Max pooling.
    Max(MaxPool2d),
    /// Average pooling.
    Avg(AvgPool2d),
}

/// Every intermediate result of one forward pass, in order: what a page that teaches the
/// network shows stage by stage. Values are those [`MnistCnn::forward`] computes (dropout is
/// inactive outside training).
#[derive(Debug, Clone)]
pub struct Stages {
    /// conv1 after its activation: `[batch, conv1_filters, 26, 26]` for the default network.
    pub conv1: Tensor<4>,
    /// `conv1` pooled: `[batch, conv1_filters, 13, 13]`.
    pub pool1: Tensor<4>,
    /// conv2 after its activation: `[batch, conv2_filters, 11, 11]`.
    pub conv2: Tensor<4>,
    /// `conv2` pooled: `[batch, conv2_filters, 5, 5]`; flattened, the input of `fc1`.
    pub pool2: Tensor<4>,
    /// fc1 after its activation: `[batch, hidden_units]`.
    pub hidden: Tensor<2>,
    /// fc2, the class scores: `[batch, NUM_CLASSES]`; their softmax is the probabilities.
    pub logits: Tensor<2>,
}

impl MnistCnnConfig {
    /// Builds the module with freshly initialised weights on `device`.
    ///
    /// # Panics
    /// If the configuration is invalid; call [`MnistCnnConfig::validate`] first on
    /// configurations that come from users.
    pub fn init(&self, device: &Device) -> MnistCnn {
        if let Err(err) = self.validate() {
            panic!("invalid MnistCnnConfig: {err}");
        }
        let shapes = Shapes::of(self);
        let k = self.kernel_size;
        let padding = match self.padding {
            Padding::Valid => PaddingConfig2d::Valid,
            Padding::Same => PaddingConfig2d::Same,
        };
        let window = [POOL_SIZE, POOL_SIZE];
        MnistCnn {
            conv1: Conv2dConfig::new([1, self.conv1_filters], [k, k])
                .with_padding(padding.clone())
                .init(device),
            conv2: Conv2dConfig::new([self.conv1_filters, self.conv2_filters], [k, k])
                .with_padding(padding)
                .init(device),
            pool: match self.pooling {
                Pooling::Max => Pool::Max(MaxPool2dConfig::new(window).init()),
                Pooling::Avg => Pool::Avg(AvgPool2dConfig::new(window).init()),
            },
            fc1: LinearConfig::new(shapes.flatten, self.hidden_units).init(device),
            fc2: LinearConfig::new(self.hidden_units, crate::NUM_CLASSES).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            activation: self.activation,
        }
    }

    /// Checks that the configuration describes a network that can be built.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        self.check_sizes()?;
        let fail = |reason: String| Err(InvalidConfig(reason));
        for (name, value) in [
            ("conv1_filters", self.conv1_filters),
            ("conv2_filters", self.conv2_filters),
            ("kernel_size", self.kernel_size),
            ("hidden_units", self.hidden_units),
        ] {
            if value == 0 {
                return fail(format!("{name} must be at least 1"));
            }
        }
        if self.padding == Padding::Same && self.kernel_size.is_multiple_of(2) {
            return fail(format!(
                "'same' padding needs an odd kernel_size, got {}",
                self.kernel_size
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return fail(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if let Activation::LeakyRelu { slope } = self.activation
            && !slope.is_finite()
        {
            return fail(format!("leaky-relu slope must be finite, got {slope}"));
        }
        // Walk the sides by hand: a kernel larger than its input must be an error, not an
        // arithmetic underflow.
        let mut side = crate::IMAGE_SIZE;
        for stage in ["conv1", "conv2"] {
            if self.padding == Padding::Valid && side < self.kernel_size {
                return fail(format!(
                    "kernel_size {} does not fit the {side}x{side} input of {stage}",
                    self.kernel_size
                ));
            }
            side = crate::shape::conv_output_side(side, self.kernel_size, self.padding);
            if side < POOL_SIZE {
                return fail(format!(
                    "the {side}x{side} output of {stage} is too small to pool"
                ));
            }
            side = crate::shape::pool_output_side(side);
        }
        Ok(())
    }
}

impl MnistCnn {
    /// Class scores (logits) for a batch: `[batch, 1, 28, 28]` -> `[batch, NUM_CLASSES]`.
    ///
    /// Images are expected as [`crate::images_to_tensor`] makes them (the input contract).
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let [batch, ..] = images.dims();
        let mask = self.dropout_mask(batch, &images.device());
        self.forward_with_dropout_mask(images, mask)
    }

    /// [`MnistCnn::forward`] with a dropout mask drawn by the caller.
    ///
    /// `mask` is what [`MnistCnn::dropout_mask`] returned, or some of its rows. A data-parallel
    /// training step draws the mask of the whole batch on one thread and hands each shard its
    /// rows: the random stream is then consumed in one order however the shards are scheduled,
    /// and a seeded run stays reproducible.
    pub fn forward_with_dropout_mask(
        &self,
        images: Tensor<4>,
        mask: Option<Tensor<2>>,
    ) -> Tensor<2> {
        self.layers(images, mask, Ops::Native)
    }

    /// [`MnistCnn::forward`] for inference, recorded from the few operations that graph
    /// exporters translate (convolution, pooling, ReLU, matrix product, arithmetic): leaky ReLU
    /// becomes `relu(x) - slope * relu(-x)`, the same values (for `x < 0`, `relu(-x)` is `-x`
    /// exactly). Burn's ONNX exporter has no leaky ReLU; `infer export` traces this.
    pub fn forward_portable(&self, images: Tensor<4>) -> Tensor<2> {
        self.layers(images, None, Ops::Portable)
    }

    /// The lecture's network, shapes for the default configuration (batch first, channels
    /// before the sides). How each layer runs fast (the project's kernels on flex, the
    /// matrix-product conv1 for training, Burn's ops elsewhere) is behind the helpers.
    fn layers(&self, images: Tensor<4>, mask: Option<Tensor<2>>, ops: Ops) -> Tensor<2> {
        // [B,1,28,28] -> conv1 3x3 [B,32,26,26] -> activation -> max-pool 2x2/2 [B,32,13,13]
        let x = self.pool_and_activate(self.conv1_with(images, ops), ops);
        // -> conv2 3x3 [B,64,11,11] -> activation -> max-pool [B,64,5,5]
        let x = self.pool_and_activate(self.conv2_with(x, ops), ops);
        // -> flatten [B,1600] -> fc1 [B,512] -> activation -> dropout (training only)
        let x = self.activate_with(self.fc1.forward(x.flatten::<2>(1, 3)), ops);
        let x = self.apply_dropout(x, mask);
        // -> fc2 [B,10]: the class scores (their softmax: `probabilities`)
        self.fc2.forward(x)
    }

    /// Inverted dropout, as Burn's `Dropout`: the kept units scaled by 1/keep while training,
    /// so that inference needs no rescaling.
    fn apply_dropout(&self, x: Tensor<2>, mask: Option<Tensor<2>>) -> Tensor<2> {
        match mask {
            Some(mask) => x * mask * (1.0 / (1.0 - self.dropout.prob)),
            None => x,
        }
    }

    /// The 0/1 keep-mask `[batch, hidden_units]` that dropout applies to the hidden layer, or
    /// `None` where dropout is inactive: on a device without autodiff (inference), when the
    /// layer is frozen, or with a dropout probability of 0.
    pub fn dropout_mask(&self, batch: usize, device: &Device) -> Option<Tensor<2>> {
        let dropout = &self.dropout;
        if !dropout.training.is_enabled() || !device.is_autodiff() || dropout.prob == 0.0 {
            return None;
        }
        let [_, hidden] = self.fc1.weight.dims();
        let keep = Distribution::Bernoulli(1.0 - dropout.prob);
        Some(Tensor::random([batch, hidden], keep, device))
    }

    /// Class probabilities: the softmax of [`MnistCnn::forward`]; each row sums to 1.
    pub fn probabilities(&self, images: Tensor<4>) -> Tensor<2> {
        softmax(self.forward(images), 1)
    }

    /// Every stage of the forward pass (see [`Stages`]), in the lecture's order: activate, then
    /// pool. For max pooling that is the same function as [`MnistCnn::forward`]'s pool, then
    /// activate; for average pooling it is the order `forward` uses too.
    pub fn stages(&self, images: Tensor<4>) -> Stages {
        let conv1 = self.activate(self.conv1_forward(images));
        let pool1 = self.pool(conv1.clone());
        let conv2 = self.activate(self.conv2_forward(pool1.clone()));
        let pool2 = self.pool(conv2.clone());
        let hidden = self.activate(self.fc1.forward(pool2.clone().flatten::<2>(1, 3)));
        let logits = self.fc2.forward(hidden.clone());
        Stages {
            conv1,
            pool1,
            conv2,
            pool2,
            hidden,
            logits,
        }
    }

    /// Training uses the matrix-product form of conv1 for its cheaper weight gradient (on every
    /// device: for a 1-channel input it beats the project's convolution kernel too, whose
    /// whole-batch products suit conv2's 288-long patches, not conv1's 9); inference uses
    /// [`crate::kernels::conv2d`]: the project's kernel on flex, Burn's convolution elsewhere
    /// (measured: crates/bench/README.md, "Changes, each measured", item 2, and "Custom
    /// kernels").
    fn conv1_forward(&self, images: Tensor<4>) -> Tensor<4> {
        self.conv1_with(images, Ops::Native)
    }

    fn conv1_with(&self, images: Tensor<4>, ops: Ops) -> Tensor<4> {
        if images.device().is_autodiff() {
            self.conv1_as_matmul(images)
        } else if matches!(ops, Ops::Native) {
            crate::kernels::conv2d(images, &self.conv1)
        } else {
            self.conv1.forward(images)
        }
    }

    /// conv2 through [`crate::kernels::conv2d`]: the project's kernel on flex, Burn's
    /// convolution elsewhere.
    fn conv2_forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.conv2_with(x, Ops::Native)
    }

    fn conv2_with(&self, x: Tensor<4>, ops: Ops) -> Tensor<4> {
        match ops {
            Ops::Native => crate::kernels::conv2d(x, &self.conv2),
            // Exporters trace standard ops only.
            Ops::Portable => self.conv2.forward(x),
        }
    }

    /// The tail of a convolution block. The lecture activates, then pools; with max pooling
    /// and a non-decreasing activation (ReLU, leaky ReLU with a slope >= 0) the other order is
    /// the same function (a max commutes with it, and so do the gradients) and activates 4x
    /// fewer values, and on the flex device both run as one fused kernel
    /// ([`crate::kernels::max_pool_activate`], which falls back to Burn's ops everywhere else).
    /// Average pooling does not commute with ReLU, nor a max with a negative slope, so those keep
    /// the lecture's order.
    fn pool_and_activate(&self, x: Tensor<4>, ops: Ops) -> Tensor<4> {
        match &self.pool {
            Pool::Max(pool) => match ops {
                Ops::Native => crate::kernels::max_pool_activate(x, pool, self.activation),
                // Exporters trace standard ops only.
                Ops::Portable if self.activation.monotone() => {
                    self.activate_with(pool.forward(x), ops)
                }
                Ops::Portable => pool.forward(self.activate_with(x, ops)),
            },
            Pool::Avg(pool) => pool.forward(self.activate_with(x, ops)),
        }
    }

    /// `conv1` computed as im2col + one matrix product: the same layer (same parameters, same
    /// output up to float rounding as `self.conv1.forward`), a faster training step.
    ///
    /// The input has one channel and needs no gradient, so its 3x3 patches can be cut once
    /// (`unfold4d`, `[batch, 9, 26*26]`) and the layer is `[32, 9] x patches`. Burn's generic
    /// `conv2d` backward computes this layer's weight gradient as a convolution with a 26x26
    /// kernel over swapped batch/channel axes, slow for a 1-channel input; the matrix
    /// product's backward is two small matrix products (measured: crates/bench/README.md,
    /// "Changes, each measured", item 2).
    fn conv1_as_matmul(&self, images: Tensor<4>) -> Tensor<4> {
        let conv = &self.conv1;
        let [batch, ..] = images.dims();
        let [k_h, k_w] = conv.kernel_size;
        // Stride 1: 'same' pads k - 1 in all, the extra one (even k) after, as Burn does.
        let (top, left, bottom, right) = match conv.padding {
            PaddingConfig2d::Valid => (0, 0, 0, 0),
            PaddingConfig2d::Same => ((k_h - 1) / 2, (k_w - 1) / 2, k_h / 2, k_w / 2),
            PaddingConfig2d::Explicit(top, left, bottom, right) => (top, left, bottom, right),
        };
        let images = if top + bottom + left + right > 0 {
            images.pad((left, right, top, bottom), PadMode::Constant(0.0))
        } else {
            images
        };
        let [_, _, height, width] = images.dims();
        // floor((W - F) / S) + 1 with S = 1 (the padding is already in W)
        let (out_h, out_w) = (height - k_h + 1, width - k_w + 1);
        let patches = unfold4d(
            images,
            conv.kernel_size,
            UnfoldOptions::new([1, 1], [0, 0], [1, 1]),
        );
        let [filters, ..] = conv.weight.dims();
        let weight = conv.weight.val().reshape([1, filters, k_h * k_w]);
        let mut out = weight.matmul(patches); // [batch, filters, out_h * out_w]
        if let Some(bias) = &conv.bias {
            out = out + bias.val().reshape([1, filters, 1]);
        }
        out.reshape([batch, filters, out_h, out_w])
    }

    fn pool(&self, x: Tensor<4>) -> Tensor<4> {
        match &self.pool {
            Pool::Max(pool) => pool.forward(x),
            Pool::Avg(pool) => pool.forward(x),
        }
    }

    fn activate<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.activate_with(x, Ops::Native)
    }

    fn activate_with<const D: usize>(&self, x: Tensor<D>, ops: Ops) -> Tensor<D> {
        match (self.activation, ops) {
            (Activation::Relu, _) => relu(x),
            (Activation::LeakyRelu { slope }, Ops::Native) => leaky_relu(x, slope),
            (Activation::LeakyRelu { slope }, Ops::Portable) => {
                relu(x.clone()) - relu(x.neg()) * slope
            }
        }
    }
}

/// Which operations a forward pass is recorded from.
#[derive(Clone, Copy, Debug)]
enum Ops {
    /// Burn's own layers (its fused leaky ReLU).
    Native,
    /// Only operations graph exporters translate (see [`MnistCnn::forward_portable`]).
    Portable,
}
