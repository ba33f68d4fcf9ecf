//! "Why this digit": occlusion sensitivity, computed with forward passes only.
//!
//! ```text
//! patch 4x4 of background (pixel 0), stride 2  -> floor((28-4)/2)+1 = 13 positions a side
//! 13x13 = 169 occluded copies + the image itself = one batch of 170 through the network
//! drop at a position = P(chosen digit | image) - P(chosen digit | copy with that patch hidden)
//! heat of a pixel    = mean drop of the patches that cover it (1 to 4 of them)
//! ```
//!
//! A large drop means the network needed those pixels to say what it said; a negative one means
//! hiding them made the chosen digit *more* likely (they looked like another digit). The same
//! arithmetic as a valid convolution's output size: the patch slides like a 4x4 window.
//! Occlusion needs no gradients, so it runs wherever the network's forward runs (`serve`, the
//! WebAssembly page, `infer predict --explain`) and on every backend.

use burn::tensor::Device;
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};

use crate::stage_values::floats;
use crate::{IMAGE_PIXELS, IMAGE_SIZE, MnistCnn, NUM_CLASSES, Pixels, images_to_tensor};

/// Side of the square of background laid over the image.
pub const PATCH: usize = 4;
/// Step between two patch positions, in pixels.
pub const STRIDE: usize = 2;
/// Patch positions along one side: `floor((28 - 4) / 2) + 1 = 13`.
pub const POSITIONS: usize = (IMAGE_SIZE - PATCH) / STRIDE + 1;
/// The background value a patch paints (MNIST digits are white ink on black).
pub const BACKGROUND: u8 = 0;

/// How much each region of one image drove the network's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Occlusion {
    /// The digit explained: the network's choice for the whole image, or the one asked for
    /// ([`occlusion_map_for`]).
    pub label: u8,
    /// Its probability on the whole image.
    pub probability: f32,
    /// Side of the hidden patch ([`PATCH`]).
    pub patch: usize,
    /// Step between patch positions ([`STRIDE`]).
    pub stride: usize,
    /// How the grid of positions follows from the sizes, for people to read.
    pub formula: String,
    /// `POSITIONS x POSITIONS` drops in the chosen digit's probability, row-major: entry
    /// `r * POSITIONS + c` hides rows `r * STRIDE ..+ PATCH`, columns `c * STRIDE ..+ PATCH`.
    pub drops: Vec<f32>,
    /// The drops spread back over the 28x28 input, row-major: each pixel's mean over the
    /// patches that cover it.
    pub heat: Vec<f32>,
    /// The framed 28x28 input the map is about, row-major (to paint the heat over).
    pub input: Vec<u8>,
}

impl Occlusion {
    /// The largest absolute heat, for scaling a picture of it (0 for a flat map).
    pub fn max_abs_heat(&self) -> f32 {
        self.heat.iter().fold(0.0, |m, h| m.max(h.abs()))
    }
}

/// The occlusion map of `pixels` (a framed 28x28 image) under `net` on `device`, for the digit
/// the network chooses: one forward pass over the image and its [`POSITIONS`]² occluded copies.
pub fn occlusion_map(net: &MnistCnn, pixels: &Pixels, device: &Device) -> Occlusion {
    occlusion_map_for(net, pixels, None, device)
}

/// [`occlusion_map`] for `digit` when given: a caller that already answered with a label
/// explains that label, even where a near tie could rank the batch's first row otherwise.
pub fn occlusion_map_for(
    net: &MnistCnn,
    pixels: &Pixels,
    digit: Option<u8>,
    device: &Device,
) -> Occlusion {
    let batch = occluded_copies(pixels);
    let probabilities = floats(softmax(net.forward(images_to_tensor(&batch, device)), 1));
    from_probabilities(pixels, &probabilities, digit)
}

/// The image followed by one copy per patch position (row by row), each with that patch set
/// to [`BACKGROUND`].
pub fn occluded_copies(pixels: &Pixels) -> Vec<Pixels> {
    let mut batch = Vec::with_capacity(1 + POSITIONS * POSITIONS);
    batch.push(*pixels);
    for (top, left) in positions() {
        let mut copy = *pixels;
        for row in top..top + PATCH {
            copy[row * IMAGE_SIZE + left..][..PATCH].fill(BACKGROUND);
        }
        batch.push(copy);
    }
    batch
}

/// The map of `pixels` from the softmax rows of its [`occluded_copies`] batch (`NUM_CLASSES`
/// per image, the unoccluded image first), for `digit`, else for the most probable one.
///
/// # Panics
/// If `probabilities` does not hold `(1 + POSITIONS²) * NUM_CLASSES` values, or `digit` is not
/// below `NUM_CLASSES`.
pub fn from_probabilities(pixels: &Pixels, probabilities: &[f32], digit: Option<u8>) -> Occlusion {
    assert_eq!(
        probabilities.len(),
        (1 + POSITIONS * POSITIONS) * NUM_CLASSES,
        "one softmax row per image of the occlusion batch"
    );
    let (rows, _) = probabilities.as_chunks::<NUM_CLASSES>();
    let whole = rows[0];
    let label = digit.map_or_else(
        || {
            (0..NUM_CLASSES)
                .max_by(|&a, &b| whole[a].total_cmp(&whole[b]))
                .expect("NUM_CLASSES is not zero")
        },
        usize::from,
    );
    let drops: Vec<f32> = rows[1..]
        .iter()
        .map(|row| whole[label] - row[label])
        .collect();
    let mut sum = [0.0f32; IMAGE_PIXELS];
    let mut count = [0u8; IMAGE_PIXELS];
    for ((top, left), drop) in positions().zip(&drops) {
        for row in top..top + PATCH {
            for col in left..left + PATCH {
                sum[row * IMAGE_SIZE + col] += drop;
                count[row * IMAGE_SIZE + col] += 1;
            }
        }
    }
    // Every pixel is under one patch at least: the last patch ends on the last pixel (tested).
    let heat = sum
        .iter()
        .zip(count)
        .map(|(&s, n)| s / f32::from(n))
        .collect();
    Occlusion {
        label: label as u8,
        probability: whole[label],
        patch: PATCH,
        stride: STRIDE,
        formula: format!(
            "floor(({IMAGE_SIZE}-{PATCH})/{STRIDE})+1 = {POSITIONS} positions a side: \
             {} occluded copies + the image, one batch",
            POSITIONS * POSITIONS
        ),
        drops,
        heat,
        input: pixels.to_vec(),
    }
}

/// The top-left corner `(row, col)` of every patch, row by row.
fn positions() -> impl Iterator<Item = (usize, usize)> {
    (0..POSITIONS).flat_map(|r| (0..POSITIONS).map(move |c| (r * STRIDE, c * STRIDE)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_follows_the_window_formula() {
        assert_eq!(POSITIONS, 13);
        // The last patch ends on the last pixel: every pixel is covered.
        assert_eq!((POSITIONS - 1) * STRIDE + PATCH, IMAGE_SIZE);
    }

    #[test]
    fn each_copy_hides_exactly_its_patch() {
        let pixels: Pixels = std::array::from_fn(|i| 1 + (i % 250) as u8);
        let batch = occluded_copies(&pixels);
        assert_eq!(batch.len(), 1 + 169);
        assert_eq!(batch[0], pixels);
        for (copy, (top, left)) in batch[1..].iter().zip(positions()) {
            for (i, (&seen, &orig)) in copy.iter().zip(&pixels).enumerate() {
                let (row, col) = (i / IMAGE_SIZE, i % IMAGE_SIZE);
                let inside =
                    (top..top + PATCH).contains(&row) && (left..left + PATCH).contains(&col);
                assert_eq!(
                    seen,
                    if inside { BACKGROUND } else { orig },
                    "pixel {row},{col}"
                );
            }
        }
    }

    /// Rows where digit 3 has probability `p3` and the rest share what is left.
    fn row(p3: f32) -> [f32; NUM_CLASSES] {
        let mut row = [(1.0 - p3) / 9.0; NUM_CLASSES];
        row[3] = p3;
        row
    }

    #[test]
    fn drops_and_heat_follow_the_chosen_digit() {
        // Hiding the patch at grid (0, 0) costs digit 3 half its probability, the one at (6, 6)
        // raises it; the others change nothing.
        let mut rows = vec![row(0.9); 1 + POSITIONS * POSITIONS];
        rows[1] = row(0.4);
        rows[1 + 6 * POSITIONS + 6] = row(1.0);
        let map = from_probabilities(&[7; IMAGE_PIXELS], rows.as_flattened(), None);
        assert_eq!((map.label, map.probability), (3, 0.9));
        assert_eq!(map.drops.len(), 169);
        assert!((map.drops[0] - 0.5).abs() < 1e-6);
        assert!((map.drops[6 * POSITIONS + 6] + 0.1).abs() < 1e-6);
        // Pixel (0, 0) is covered by patch (0, 0) alone; pixel (2, 2) by (0,0), (0,1), (1,0)
        // and (1,1): a quarter of the drop.
        assert!((map.heat[0] - 0.5).abs() < 1e-6);
        assert!((map.heat[2 * IMAGE_SIZE + 2] - 0.125).abs() < 1e-6);
        // Pixel (13, 13) is covered by patches (5..=6, 5..=6), one of which raised digit 3.
        assert!((map.heat[13 * IMAGE_SIZE + 13] + 0.025).abs() < 1e-6);
        assert!((map.max_abs_heat() - 0.5).abs() < 1e-6);
        assert_eq!(map.heat[27 * IMAGE_SIZE + 27], 0.0);
        assert_eq!(map.input, vec![7; IMAGE_PIXELS]);
        // Asked for digit 5: the patch at (0, 0) raised it from 0.1/9 to 0.6/9.
        let five = from_probabilities(&[7; IMAGE_PIXELS], rows.as_flattened(), Some(5));
        assert_eq!(five.label, 5);
        assert!((five.probability - 0.1 / 9.0).abs() < 1e-6);
        assert!((five.drops[0] + 0.5 / 9.0).abs() < 1e-6);
    }
}
