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
    affine(image, &Affine::rotation(angle).shifted(dx, dy))
}

/// An affine distortion of the image plane about its centre, stored as the map from an output
/// pixel back to where it is sampled in the source (the form [`affine`] needs): the source
/// point of output `p` is `inverse · (p − centre − shift) + centre`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    /// Output-to-source matrix, row-major.
    pub inverse: [[f32; 2]; 2],
    /// Shift of the output, in pixels (x right, y down).
    pub shift: (f32, f32),
}

impl Affine {
    /// No change.
    pub const IDENTITY: Self = Self {
        inverse: [[1.0, 0.0], [0.0, 1.0]],
        shift: (0.0, 0.0),
    };

    /// A rotation by `angle` radians (clockwise on screen, as y points down).
    pub fn rotation(angle: f32) -> Self {
        let (sin, cos) = angle.sin_cos();
        Self {
            inverse: [[cos, sin], [-sin, cos]],
            shift: (0.0, 0.0),
        }
    }

    /// A zoom by `factor` (above 1: larger digits).
    pub fn scale(factor: f32) -> Self {
        Self {
            inverse: [[1.0 / factor, 0.0], [0.0, 1.0 / factor]],
            shift: (0.0, 0.0),
        }
    }

    /// A horizontal shear: each row moves sideways by `factor` times its distance below the
    /// centre (the slant of italic handwriting).
    pub fn shear(factor: f32) -> Self {
        Self {
            inverse: [[1.0, -factor], [0.0, 1.0]],
            shift: (0.0, 0.0),
        }
    }

    /// The same distortion followed by a shift of (`dx`, `dy`) pixels.
    pub fn shifted(self, dx: f32, dy: f32) -> Self {
        Self {
            shift: (self.shift.0 + dx, self.shift.1 + dy),
            ..self
        }
    }
}

/// `image` under `map`: bilinear sampling, zero (background) outside the source.
pub fn affine(image: &Pixels, map: &Affine) -> Pixels {
    let [[a, b], [c, d]] = map.inverse;
    let (dx, dy) = map.shift;
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
            let sx = a * u + b * v + centre;
            let sy = c * u + d * v + centre;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A digit-like blob off centre, so that every distortion moves some ink.
    fn blob() -> Pixels {
        let mut image = [0u8; IMAGE_PIXELS];
        for y in 6..20 {
            for x in 9..14 {
                image[y * IMAGE_SIZE + x] = 200 + (x + y) as u8;
            }
        }
        image
    }

    #[test]
    fn identity_maps_change_nothing() {
        let image = blob();
        for map in [
            Affine::IDENTITY,
            Affine::rotation(0.0),
            Affine::scale(1.0),
            Affine::shear(0.0),
            Affine::IDENTITY.shifted(0.0, 0.0),
        ] {
            assert_eq!(affine(&image, &map), image, "{map:?}");
        }
        assert_eq!(transform(&image, 0.0, 0.0, 0.0), image);
    }

    #[test]
    fn whole_pixel_shifts_move_the_ink() {
        let image = blob();
        let moved = affine(&image, &Affine::IDENTITY.shifted(2.0, -1.0));
        assert_eq!(moved[5 * IMAGE_SIZE + 11], image[6 * IMAGE_SIZE + 9]);
        assert_eq!(moved[18 * IMAGE_SIZE + 15], image[19 * IMAGE_SIZE + 13]);
        assert_eq!(moved[19 * IMAGE_SIZE + 11], 0);
    }

    #[test]
    fn rotation_scale_and_shear_move_the_ink_as_named() {
        let image = blob();
        let ink = |p: &Pixels| p.iter().filter(|&&v| v > 100).count();
        // A quarter turn of a 14 x 5 bar gives a 5 x 14 bar.
        let turned = affine(&image, &Affine::rotation(std::f32::consts::FRAC_PI_2));
        assert_eq!(ink(&turned), ink(&image));
        let rows = |p: &Pixels| {
            (0..IMAGE_SIZE)
                .filter(|y| p[y * IMAGE_SIZE..][..IMAGE_SIZE].iter().any(|&v| v > 100))
                .count()
        };
        assert_eq!((rows(&image), rows(&turned)), (14, 5));
        assert!(ink(&affine(&image, &Affine::scale(1.3))) > ink(&image));
        assert!(ink(&affine(&image, &Affine::scale(0.7))) < ink(&image));
        // Sheared, the top row moves one way and the bottom row the other.
        let sheared = affine(&image, &Affine::shear(0.5));
        let first_ink =
            |p: &Pixels, y: usize| (0..IMAGE_SIZE).find(|&x| p[y * IMAGE_SIZE + x] > 100);
        assert!(first_ink(&sheared, 7) < first_ink(&image, 7));
        assert!(first_ink(&sheared, 19) > first_ink(&image, 19));
    }
}
