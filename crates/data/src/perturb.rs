//! Test-time perturbations of digits, one family at a time, for the robustness report (`infer
//! eval --robustness`): how far accuracy falls when the test digits are shifted, rotated,
//! scaled, sheared, made noisy, or drawn with a thicker or thinner pen.
//!
//! The geometric families go through the training augmentation's own sampler
//! ([`crate::augment::affine`]). Each family has a fixed ladder of strengths that starts at its
//! identity (no change). Randomness (a shift's direction, a rotation's or a shear's sign, the
//! noise) is seeded per (seed, family, strength, image index): the same seed gives the same
//! perturbed set, whatever order the images are processed in.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::augment::{Affine, affine};
use model::{IMAGE_PIXELS, IMAGE_SIZE, Pixels};

/// A kind of perturbation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// A translation by `strength` pixels in a random direction.
    Shift,
    /// A rotation by `strength` degrees, clockwise or anticlockwise at random.
    Rotation,
    /// A zoom about the centre by the factor `strength` (identity: 1).
    Scale,
    /// A horizontal shear (slant) of `strength` degrees, either way at random.
    Shear,
    /// Gaussian noise of standard deviation `strength` (a fraction of the full ink range) added
    /// to every pixel, clamped to the pixel range.
    Noise,
    /// Stroke width: `strength` steps of grey-level dilation (positive: thicker pen) or erosion
    /// (negative: thinner pen) with a 3x3 cross.
    Thickness,
}

impl Family {
    /// Every family, in report order.
    pub const ALL: [Self; 6] = [
        Self::Shift,
        Self::Rotation,
        Self::Scale,
        Self::Shear,
        Self::Noise,
        Self::Thickness,
    ];

    /// Lower-case name (report, JSON).
    pub fn name(self) -> &'static str {
        match self {
            Self::Shift => "shift",
            Self::Rotation => "rotation",
            Self::Scale => "scale",
            Self::Shear => "shear",
            Self::Noise => "noise",
            Self::Thickness => "thickness",
        }
    }

    /// What the strength is measured in.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Shift => "px",
            Self::Rotation => "± degrees",
            Self::Scale => "factor",
            Self::Shear => "± degrees",
            Self::Noise => "σ, fraction of 255",
            Self::Thickness => "px, dilation + / erosion −",
        }
    }

    /// The strengths the report measures, from the identity outwards (scale and thickness go
    /// both ways, so their identity is in the middle of the ladder).
    pub fn strengths(self) -> &'static [f32] {
        match self {
            Self::Shift => &[0.0, 1.0, 2.0, 3.0, 4.0],
            Self::Rotation => &[0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0],
            Self::Scale => &[0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3],
            Self::Shear => &[0.0, 10.0, 20.0, 30.0, 40.0],
            Self::Noise => &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
            Self::Thickness => &[-2.0, -1.0, 0.0, 1.0, 2.0],
        }
    }

    /// The strength that leaves a digit unchanged.
    pub fn identity(self) -> f32 {
        match self {
            Self::Scale => 1.0,
            _ => 0.0,
        }
    }

    /// `image` perturbed at `strength`, the randomness drawn from (`seed`, this family,
    /// `strength`, `index`). At [`Family::identity`] the image comes back unchanged.
    pub fn apply(self, image: &Pixels, strength: f32, seed: u64, index: usize) -> Pixels {
        let mut rng = StdRng::seed_from_u64(mix(&[
            seed,
            self as u64,
            u64::from(strength.to_bits()),
            index as u64,
        ]));
        match self {
            Self::Shift => {
                let direction = rng.random_range(0.0..std::f32::consts::TAU);
                let (sin, cos) = direction.sin_cos();
                affine(
                    image,
                    &Affine::IDENTITY.shifted(strength * cos, strength * sin),
                )
            }
            Self::Rotation => affine(
                image,
                &Affine::rotation(random_sign(&mut rng) * strength.to_radians()),
            ),
            Self::Scale => affine(image, &Affine::scale(strength)),
            Self::Shear => affine(
                image,
                &Affine::shear(random_sign(&mut rng) * strength.to_radians().tan()),
            ),
            Self::Noise => gaussian_noise(image, strength * 255.0, &mut rng),
            Self::Thickness => {
                let steps = strength.round() as i32;
                (0..steps.unsigned_abs()).fold(*image, |img, _| morphology(&img, steps > 0))
            }
        }
    }
}

/// +1 or -1, evenly.
fn random_sign(rng: &mut StdRng) -> f32 {
    if rng.random_bool(0.5) { 1.0 } else { -1.0 }
}

/// `image` plus independent Gaussian noise of standard deviation `sigma` (pixel units) on each
/// pixel, rounded and clamped to 0-255. Box-Muller from two uniform draws: the `rand` crate
/// alone, no distribution crate.
pub fn gaussian_noise(image: &Pixels, sigma: f32, rng: &mut StdRng) -> Pixels {
    if sigma == 0.0 {
        return *image;
    }
    let mut out = *image;
    for p in out.iter_mut() {
        // 1 - [0, 1) is (0, 1]: the logarithm stays finite.
        let u1: f32 = 1.0 - rng.random_range(0.0..1.0);
        let u2: f32 = rng.random_range(0.0..1.0);
        let z = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
        *p = (f32::from(*p) + sigma * z).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// One step of grey-level dilation (`thicker`: each pixel becomes the maximum of itself and its
/// four neighbours) or erosion (the minimum; outside the image counts as background).
pub fn morphology(image: &Pixels, thicker: bool) -> Pixels {
    let side = IMAGE_SIZE as isize;
    let at = |x: isize, y: isize| -> u8 {
        if (0..side).contains(&x) && (0..side).contains(&y) {
            image[(y * side + x) as usize]
        } else {
            0
        }
    };
    let mut out = [0u8; IMAGE_PIXELS];
    for y in 0..side {
        for x in 0..side {
            let cross = [
                at(x, y),
                at(x - 1, y),
                at(x + 1, y),
                at(x, y - 1),
                at(x, y + 1),
            ];
            let value = if thicker {
                cross.iter().max()
            } else {
                cross.iter().min()
            };
            out[(y * side + x) as usize] = value.copied().unwrap_or(0);
        }
    }
    out
}

/// A seed from several numbers (SplitMix64's finaliser over a running sum): nearby inputs give
/// unrelated seeds.
fn mix(parts: &[u64]) -> u64 {
    parts.iter().fold(0x9E37_79B9_7F4A_7C15, |acc, &part| {
        let mut z = (acc ^ part).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stroke: a vertical bar three pixels wide, off centre.
    fn stroke() -> Pixels {
        let mut image = [0u8; IMAGE_PIXELS];
        for y in 5..23 {
            for x in 10..13 {
                image[y * IMAGE_SIZE + x] = 255;
            }
        }
        image
    }

    fn ink(image: &Pixels) -> u32 {
        image.iter().map(|&p| u32::from(p)).sum()
    }

    #[test]
    fn each_family_starts_at_its_identity() {
        let image = stroke();
        for family in Family::ALL {
            assert!(
                family.strengths().contains(&family.identity()),
                "{family:?}"
            );
            assert_eq!(
                family.apply(&image, family.identity(), 7, 3),
                image,
                "{family:?}"
            );
            for &s in family.strengths() {
                if s != family.identity() {
                    assert_ne!(family.apply(&image, s, 7, 3), image, "{family:?} {s}");
                }
            }
        }
    }

    #[test]
    fn seeded_per_image_and_deterministic() {
        let image = stroke();
        for family in [Family::Shift, Family::Rotation, Family::Noise] {
            let s = family.strengths()[2];
            assert_eq!(family.apply(&image, s, 1, 5), family.apply(&image, s, 1, 5));
            // Other images and other seeds draw differently (a direction, a sign, the noise).
            let variants: std::collections::HashSet<Pixels> = (0..8)
                .map(|i| family.apply(&image, s, 1, i))
                .chain((2..6).map(|seed| family.apply(&image, s, seed, 5)))
                .collect();
            assert!(variants.len() > 1, "{family:?}");
        }
    }

    #[test]
    fn strengths_do_what_they_say() {
        let image = stroke();
        // Shifting by 4 px moves the bar's centre of mass by about 4 px.
        let centre = |p: &Pixels| {
            let total = ink(p) as f32;
            let (mut cx, mut cy) = (0.0, 0.0);
            for (i, &v) in p.iter().enumerate() {
                cx += (i % IMAGE_SIZE) as f32 * f32::from(v) / total;
                cy += (i / IMAGE_SIZE) as f32 * f32::from(v) / total;
            }
            (cx, cy)
        };
        let (x0, y0) = centre(&image);
        let (x1, y1) = centre(&Family::Shift.apply(&image, 4.0, 0, 0));
        let moved = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
        assert!((moved - 4.0).abs() < 0.3, "moved {moved}");
        // The pen: dilation thickens the 3 px bar to 5, erosion thins it to 1.
        let width = |p: &Pixels| {
            p[14 * IMAGE_SIZE..15 * IMAGE_SIZE]
                .iter()
                .filter(|&&v| v > 0)
                .count()
        };
        assert_eq!(width(&Family::Thickness.apply(&image, 1.0, 0, 0)), 5);
        assert_eq!(width(&Family::Thickness.apply(&image, -1.0, 0, 0)), 1);
        assert_eq!(width(&Family::Thickness.apply(&image, 2.0, 0, 0)), 7);
        // Noise: its spread on the background grows with sigma.
        let spread = |sigma: f32| {
            let noisy = Family::Noise.apply(&[0u8; IMAGE_PIXELS], sigma, 0, 0);
            ink(&noisy) as f32 / IMAGE_PIXELS as f32
        };
        // Half-normal mean: sigma * sqrt(2 / pi) * 255 / 2 (only the positive half survives).
        for sigma in [0.1, 0.3] {
            let want = sigma * 255.0 * (2.0 / std::f32::consts::PI).sqrt() / 2.0;
            assert!(
                (spread(sigma) - want).abs() < 0.15 * want,
                "{sigma}: {}",
                spread(sigma)
            );
        }
    }
}
