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
    fn same_padding_shapes() {
        let s = Shapes::of(&MnistCnnConfig::new().with_padding(Padding::Same));
        assert_eq!(s.conv1, [28, 28, 32]);
        assert_eq!(s.pool1, [14, 14, 32]);
        assert_eq!(s.conv2, [14, 14, 64]);
        assert_eq!(s.pool2, [7, 7, 64]);
        assert_eq!(s.flatten, 3136);
    }
}
