//! The shape arithmetic of the network, computed from its configuration.
//!
//! Both the module (for the size of the flattened features) and the summary table read their
//! numbers from here, so the network and its documentation cannot drift apart.

use crate::{IMAGE_SIZE, MnistCnnConfig, Padding};

/// Side and stride of both pooling windows.
pub const POOL_SIZE: usize = 2;

/// Output side of a convolution or pooling window over an input of side `input`:
/// `floor((W + P - F) / S) + 1`, where `P` is the total zero padding added to the side.
///
/// With no padding ("valid") this is the lecture's `floor((W - F) / S) + 1`.
///
/// # Panics
/// If the window is larger than the padded input or the stride is 0; the configuration check in
/// [`MnistCnnConfig::validate`] rules that out before a module is built.
pub const fn output_side(input: usize, window: usize, stride: usize, padding: usize) -> usize {
    (input + padding - window) / stride + 1
}

/// Output side of a stride-1 convolution with the given padding mode.
pub const fn conv_output_side(input: usize, kernel: usize, padding: Padding) -> usize {
    match padding {
        Padding::Valid => output_side(input, kernel, 1, 0),
        // "same" pads k-1 in total (split around the input), so the side is kept.
        Padding::Same => output_side(input, kernel, 1, kernel - 1),
    }
}

/// Output side of the 2x2, stride-2 pooling.
pub const fn pool_output_side(input: usize) -> usize {
    output_side(input, POOL_SIZE, POOL_SIZE, 0)
}

/// Feature-map shapes `(height, width, channels)` after every stage of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shapes {
    /// After the first convolution, e.g. 26x26x32.
    pub conv1: [usize; 3],
    /// After the first pooling, e.g. 13x13x32.
    pub pool1: [usize; 3],
    /// After the second convolution, e.g. 11x11x64.
    pub conv2: [usize; 3],
    /// After the second pooling, e.g. 5x5x64.
    pub pool2: [usize; 3],
    /// Length of the flattened features fed to the first dense layer, e.g. 1600.
    pub flatten: usize,
}

impl Shapes {
    /// Computes every shape for `config`, starting from a 28x28x1 image.
    pub fn of(config: &MnistCnnConfig) -> Self {
        let k = config.kernel_size;
        let c1 = conv_output_side(IMAGE_SIZE, k, config.padding);
        let p1 = pool_output_side(c1);
        let c2 = conv_output_side(p1, k, config.padding);
        let p2 = pool_output_side(c2);
        Self {
            conv1: [c1, c1, config.conv1_filters],
            pool1: [p1, p1, config.conv1_filters],
            conv2: [c2, c2, config.conv2_filters],
            pool2: [p2, p2, config.conv2_filters],
            flatten: p2 * p2 * config.conv2_filters,
        }
    }
}

/// Floating-point operations of the network's four matrix products (the two convolutions as
/// patches × filters, the two dense layers) for one image, a multiply-add counted as two.
/// Biases, activations, pooling, the loss and the optimiser are left out: together they are a
/// few per cent of the products, and leaving them out makes the count the one a BLAS rate
/// (GFLOP/s of an sgemm) can be held against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductFlops {
    /// conv1, conv2, fc1, fc2 in the forward pass.
    pub forward: [u64; 4],
}

impl ProductFlops {
    /// The products of `config`'s network: per output value, one multiply-add per input it
    /// reads, e.g. conv2 is 11·11·64 outputs × (3·3·32) taps × 2 = 4,460,544.
    pub fn of(config: &MnistCnnConfig) -> Self {
        let s = Shapes::of(config);
        let k2 = (config.kernel_size * config.kernel_size) as u64;
        let outputs = |[h, w, c]: [usize; 3]| (h * w * c) as u64;
        let hidden = config.hidden_units as u64;
        Self {
            forward: [
                2 * outputs(s.conv1) * k2,
                2 * outputs(s.conv2) * k2 * config.conv1_filters as u64,
                2 * s.flatten as u64 * hidden,
                2 * hidden * crate::NUM_CLASSES as u64,
            ],
        }
    }

    /// One forward pass: 6,498,560 for the lecture's network.
    pub fn inference(&self) -> u64 {
        self.forward.iter().sum()
    }

    /// One training step (forward, backward): each product once forward, once for its weight
    /// gradient and once for its input gradient, except conv1's input gradient (the image needs
    /// none): 3 × 6,498,560 − 389,376 = 19,106,304 for the lecture's network.
    pub fn training(&self) -> u64 {
        3 * self.inference() - self.forward[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lecture_formula() {
        // floor((28 - 3) / 1) + 1 = 26, floor((26 - 2) / 2) + 1 = 13, floor((11 - 2) / 2) + 1 = 5
        assert_eq!(output_side(28, 3, 1, 0), 26);
        assert_eq!(output_side(26, 2, 2, 0), 13);
        assert_eq!(output_side(11, 2, 2, 0), 5);
        assert_eq!(output_side(7, 3, 2, 0), 3);
    }

    #[test]
    fn valid_padding_shapes() {
        let s = Shapes::of(&MnistCnnConfig::new());
        assert_eq!(s.conv1, [26, 26, 32]);
        assert_eq!(s.pool1, [13, 13, 32]);
        assert_eq!(s.conv2, [11, 11, 64]);
        assert_eq!(s.pool2, [5, 5, 64]);
        assert_eq!(s.flatten, 1600);
    }

    #[test]
    fn product_flops_of_the_lecture_network() {
        let f = ProductFlops::of(&MnistCnnConfig::new());
        // 26·26·32·9·2, 11·11·64·288·2, 1600·512·2, 512·10·2
        assert_eq!(f.forward, [389_376, 4_460_544, 1_638_400, 10_240]);
        assert_eq!(f.inference(), 6_498_560);
        assert_eq!(f.training(), 19_106_304);
        let wide = ProductFlops::of(&MnistCnnConfig::new().with_padding(Padding::Same));
        assert_eq!(wide.forward[0], 28 * 28 * 32 * 9 * 2);
    }

    #[test]
    fn same_padding_shapes() {
        let s = Shapes::of(&MnistCnnConfig::new().with_padding(Padding::Same));
        assert_eq!(s.conv1, [28, 28, 32]);
        assert_eq!(s.pool1, [14, 14, 32]);
        assert_eq!(s.conv2, [14, 14, 64]);
        assert_eq!(s.pool2, [7, 7, 64]);
        assert_eq!(s.flatten, 3136);
    }
}
