//! What the lecture draws on the board, from the trained network: the 32 first-layer 3x3
//! filters, and the 26x26x32 and 11x11x64 feature maps one digit produces.
//!
//! Each filter and each map is scaled to gray levels on its own (its minimum black, its maximum
//! white), so every tile shows its own pattern; tiles are laid out in a grid with 1-px gaps.

use burn::tensor::Tensor;
use image::{GrayImage, Luma};
use model::{MnistCnn, Pixels, images_to_tensor};

/// The three pictures.
pub struct Rendered {
    /// conv1's filters, each 3x3 scaled up.
    pub filters: GrayImage,
    /// conv1's 32 feature maps (26x26 each for the default network).
    pub conv1: GrayImage,
    /// conv2's 64 feature maps (11x11 each).
    pub conv2: GrayImage,
}

/// Renders the filters of `net` and the feature maps of `digit` (28x28, MNIST convention).
pub fn render(net: &MnistCnn, digit: &Pixels) -> Rendered {
    let device = net.conv1.weight.val().device();
    let maps = net.stages(images_to_tensor(std::slice::from_ref(digit), &device));
    let filters = net.conv1.weight.val(); // [32, 1, 3, 3]
    Rendered {
        filters: grid(filters.squeeze_dim::<3>(1), 8, 16),
        conv1: grid(maps.conv1.squeeze_dim::<3>(0), 8, 4),
        conv2: grid(maps.conv2.squeeze_dim::<3>(0), 8, 8),
    }
}

/// Lays out `[n, h, w]` as a grid of `columns` tiles, each pixel drawn `zoom` x `zoom`.
fn grid(tiles: Tensor<3>, columns: usize, zoom: usize) -> GrayImage {
    let [n, h, w] = tiles.dims();
    let values = tiles
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("float maps");
    let rows = n.div_ceil(columns);
    let (tile_w, tile_h) = (w * zoom + 1, h * zoom + 1);
    let mut img = GrayImage::from_pixel(
        (columns * tile_w + 1) as u32,
        (rows * tile_h + 1) as u32,
        Luma([128]),
    );
    for (i, tile) in values.chunks_exact(h * w).enumerate() {
        let (lo, hi) = tile
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let range = (hi - lo).max(1e-12);
        let (x0, y0) = ((i % columns) * tile_w + 1, (i / columns) * tile_h + 1);
        for (j, &v) in tile.iter().enumerate() {
            let level = (255.0 * (v - lo) / range).round() as u8;
            for dy in 0..zoom {
                for dx in 0..zoom {
                    let (x, y) = (x0 + (j % w) * zoom + dx, y0 + (j / w) * zoom + dy);
                    img.put_pixel(x as u32, y as u32, Luma([level]));
                }
            }
        }
    }
    img
}
