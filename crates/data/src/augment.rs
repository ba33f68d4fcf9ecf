//! Training-time augmentation: a random shift of up to ±2 px and a rotation of up to ±10°,
//! the small distortions handwriting has anyway.
//!
//! Randomness is seeded per (seed, index, visit), so a run is reproducible however many data
//! loader workers fetch items and in whatever order: the n-th visit of item i always gets the
//! same distortion.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use burn::data::dataset::{Dataset, DatasetError};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::MnistItem;
use model::{IMAGE_PIXELS, IMAGE_SIZE, Pixels};

/// Bounds of the random distortion.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augmentation {
    /// Largest shift along each axis, in pixels.
    pub max_shift: f32,
    /// Largest rotation either way, in degrees.
    pub max_rotation_deg: f32,
    /// Seed of the distortions.
    pub seed: u64,
}

impl Augmentation {
    /// ±2 px, ±10°.
    pub fn new(seed: u64) -> Self {
        Self {
            max_shift: 2.0,
            max_rotation_deg: 10.0,
            seed,
        }
    }
}

/// A dataset whose items are randomly distorted on every visit.
pub struct AugmentedDataset<D> {
    inner: D,
    augmentation: Augmentation,
    visits: Arc<[AtomicU32]>,
}

impl<D: Dataset<MnistItem>> AugmentedDataset<D> {
    /// Wraps `inner`.
    pub fn new(inner: D, augmentation: Augmentation) -> Self {
        let visits = (0..inner.len()).map(|_| AtomicU32::new(0)).collect();
        Self {
            inner,
            augmentation,
            visits,
        }
    }
}

impl<D: Dataset<MnistItem>> Dataset<MnistItem> for AugmentedDataset<D> {
    fn get(&self, index: usize) -> Result<MnistItem, DatasetError> {
        let mut item = self.inner.get(index)?;
        let visit = self.visits[index].fetch_add(1, Ordering::Relaxed) as u64;
        let a = self.augmentation;
        let mut rng = StdRng::seed_from_u64(
            a.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (visit << 48),
        );
        let dx = rng.random_range(-a.max_shift..=a.max_shift);
        let dy = rng.random_range(-a.max_shift..=a.max_shift);
        let angle = rng
            .random_range(-a.max_rotation_deg..=a.max_rotation_deg)
            .to_radians();
        item.image = transform(&item.image, angle, dx, dy);
        Ok(item)
    }

    fn len(&self) -> usize {
        self.inner.len()
    }
}

/// Rotates `image` by `angle` radians about its centre, then shifts it by (`dx`, `dy`) pixels;
/// bilinear sampling, zero (background) outside the source.
pub fn transform(image: &Pixels, angle: f32, dx: f32, dy: f32) -> Pixels {
    let (sin, cos) = angle.sin_cos();
    const SIDE: i32 = IMAGE_SIZE as i32;
    let centre = (IMAGE_SIZE as f32 - 1.0) / 2.0;
    let pixel = |x: i32, y: i32| -> f32 {
        if (0..SIDE).contains(&x) && (0..SIDE).contains(&y) {
            image[y as usize * IMAGE_SIZE + x as usize] as f32
        } else {
            0.0
        }
    };
    let mut out = [0u8; IMAGE_PIXELS];
    for y in 0..IMAGE_SIZE {
        for x in 0..IMAGE_SIZE {
            // Inverse mapping: where in the source does output pixel (x, y) come from?
            let (u, v) = (x as f32 - centre - dx, y as f32 - centre - dy);
            let sx = cos * u + sin * v + centre;
            let sy = -sin * u + cos * v + centre;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as i32, y0 as i32);
            let value = pixel(x0, y0) * (1.0 - fx) * (1.0 - fy)
                + pixel(x0 + 1, y0) * fx * (1.0 - fy)
                + pixel(x0, y0 + 1) * (1.0 - fx) * fy
                + pixel(x0 + 1, y0 + 1) * fx * fy;
            out[y * IMAGE_SIZE + x] = value.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}
