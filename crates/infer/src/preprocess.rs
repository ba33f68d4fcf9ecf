//! Turning an arbitrary picture of a digit into an MNIST-like 28x28 image.
//!
//! MNIST digits were made by scaling each scanned digit to fit a 20x20 box (keeping its aspect
//! ratio, with anti-aliasing) and pasting it into a 28x28 field so that its centre of mass sits
//! at the centre. The network has only ever seen digits framed that way, so a photo or a drawing
//! is framed the same way before prediction:
//!
//! 1. grayscale, compositing any transparency over white paper (over black when the shape is
//!    carried by the alpha channel alone and the ink is light);
//! 2. invert when the background is light (dark ink on white paper -> white ink on black, as in
//!    MNIST);
//! 3. crop to the bounding box of the ink;
//! 4. scale the longer side to 20 px, keeping the aspect ratio;
//! 5. paste into a black 28x28 image with the ink's centre of mass at (14, 14).

use image::imageops::{self, FilterType};
use image::{DynamicImage, GenericImageView, GrayImage, Luma, Rgba};
use model::{IMAGE_PIXELS, IMAGE_SIZE, Pixels};

use crate::InferError;

/// Side of the box the digit is scaled into.
pub const DIGIT_BOX: u32 = 20;
/// Where the ink's centre of mass goes, in both coordinates: the middle of the field (pixel 14),
/// which is where MNIST puts it (measured on its test set).
const CENTRE: f64 = (IMAGE_SIZE / 2) as f64;
/// Pixels at or below this level (after inversion and contrast stretching) are background when
/// looking for the ink's bounding box. Low, so that MNIST's own faint anti-aliased edges count
/// as ink and an MNIST digit keeps its 20-px frame unchanged.
pub const INK_THRESHOLD: u8 = 8;
/// Ink must stand out from the background by at least this many levels, or the image is blank.
pub const MIN_CONTRAST: u8 = 32;

/// The MNIST-style 28x28 image of `image`, row-major.
///
/// Memory: one gray copy of the picture (a byte a pixel), worked on in place; the crop is a
/// view of it, and the scaling makes only the small digit.
pub fn preprocess(image: &DynamicImage) -> Result<Pixels, InferError> {
    let mut gray = to_gray(image);
    if background_is_light(&gray) {
        imageops::invert(&mut gray);
    }
    stretch_contrast(&mut gray).ok_or(InferError::NoInk)?;
    let (x0, y0, x1, y1) = ink_bounds(&gray).ok_or(InferError::NoInk)?;
    let crop = imageops::crop_imm(&gray, x0, y0, x1 - x0 + 1, y1 - y0 + 1);
    let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
    let scale = DIGIT_BOX as f32 / w.max(h) as f32;
    let (sw, sh) = (
        ((w as f32 * scale).round() as u32).clamp(1, DIGIT_BOX),
        ((h as f32 * scale).round() as u32).clamp(1, DIGIT_BOX),
    );
    // Lanczos when shrinking (anti-aliasing, like MNIST's own scaling); triangle when
    // enlarging a small digit, which rings less.
    let filter = if scale < 1.0 {
        FilterType::Lanczos3
    } else {
        FilterType::Triangle
    };
    let digit = imageops::resize(&*crop, sw, sh, filter);
    Ok(paste_centred(&digit))
}

/// Luma of an RGB colour, with the integer weights of `image`'s own conversion (Rec. 709), so
/// that a gray picture keeps its exact levels.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((2126 * r as u32 + 7152 * g as u32 + 722 * b as u32) / 10_000) as u8
}

/// `level` seen through `alpha` over paper of level `paper`.
fn composite(level: u8, alpha: u8, paper: u8) -> u8 {
    let (l, a, p) = (level as u32, alpha as u32, paper as u32);
    ((l * a + p * (255 - a) + 127) / 255) as u8
}

/// Gray levels of `image`, one pass, one buffer; transparency composited over paper chosen by
/// [`paper_behind`].
fn to_gray(image: &DynamicImage) -> GrayImage {
    let paper = if image.color().has_alpha() {
        paper_behind(image)
    } else {
        255
    };
    GrayImage::from_fn(image.width(), image.height(), |x, y| {
        let Rgba([r, g, b, a]) = image.get_pixel(x, y);
        Luma([composite(luma(r, g, b), a, paper)])
    })
}

/// The paper to put behind a picture with transparency. Usually white, as on a page. But when
/// the visible pixels are all of about one colour, the shape is carried by the alpha channel
/// alone (white ink on a transparent canvas, or colour left undefined under alpha): then the
/// paper is whichever of black and white stands out from that colour, so that the shape shows
/// whatever the ink's colour.
fn paper_behind(image: &DynamicImage) -> u8 {
    // Alpha-weighted mean and variance of the luma of the visible pixels.
    let (mut weight, mut sum, mut squares) = (0f64, 0f64, 0f64);
    for (_, _, Rgba([r, g, b, a])) in image.pixels() {
        let (w, l) = (a as f64, luma(r, g, b) as f64);
        weight += w;
        sum += w * l;
        squares += w * l * l;
    }
    if weight == 0.0 {
        return 255; // fully transparent: blank whatever the paper
    }
    let mean = sum / weight;
    let spread = (squares / weight - mean * mean).max(0.0).sqrt();
    if spread < MIN_CONTRAST as f64 && mean > 127.0 {
        0
    } else {
        255
    }
}

/// Whether ink at level `max` stands out from a background at `background` (both after
/// inversion). Computed in `i32`: `background + MIN_CONTRAST` saturating at 255 let a light
/// image with a speck 5 levels brighter pass for a digit.
fn has_contrast(background: u8, max: u8) -> bool {
    max as i32 - background as i32 >= MIN_CONTRAST as i32
}

/// Maps the background level (the median of the border) to 0 and the brightest ink to 255, in
/// place, so that grey paper or a dim photo looks like MNIST's black background and white ink.
/// MNIST images themselves (black border, white ink) pass unchanged. `None` when there is no
/// ink.
fn stretch_contrast(gray: &mut GrayImage) -> Option<()> {
    let (w, h) = gray.dimensions();
    let mut border: Vec<u8> = (0..w)
        .flat_map(|x| [(x, 0), (x, h - 1)])
        .chain((0..h).flat_map(|y| [(0, y), (w - 1, y)]))
        .map(|(x, y)| gray.get_pixel(x, y).0[0])
        .collect();
    border.sort_unstable();
    let background = border[border.len() / 2];
    let max = gray.pixels().map(|p| p.0[0]).max().unwrap_or(0);
    if !has_contrast(background, max) {
        return None;
    }
    if (background, max) != (0, 255) {
        let range = (max - background) as f32;
        for p in gray.pixels_mut() {
            let v = p.0[0].saturating_sub(background) as f32;
            p.0[0] = (255.0 * v / range).round() as u8;
        }
    }
    Some(())
}

/// Whether the border of the image is mostly light (paper) rather than dark (MNIST-style).
fn background_is_light(gray: &GrayImage) -> bool {
    let (w, h) = gray.dimensions();
    let border = (0..w)
        .flat_map(|x| [(x, 0), (x, h - 1)])
        .chain((0..h).flat_map(|y| [(0, y), (w - 1, y)]));
    let (sum, n) = border.fold((0u64, 0u64), |(s, n), (x, y)| {
        (s + gray.get_pixel(x, y).0[0] as u64, n + 1)
    });
    sum / n.max(1) > 127
}

/// Inclusive bounding box `(x0, y0, x1, y1)` of the pixels brighter than [`INK_THRESHOLD`].
fn ink_bounds(gray: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    gray.enumerate_pixels()
        .filter(|(_, _, p)| p.0[0] > INK_THRESHOLD)
        .fold(None, |acc, (x, y, _)| {
            Some(match acc {
                None => (x, y, x, y),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            })
        })
}

/// Pastes `digit` (at most 20x20) into 28x28 with its centre of mass at the centre.
fn paste_centred(digit: &GrayImage) -> Pixels {
    let (mut mass, mut mx, mut my) = (0f64, 0f64, 0f64);
    for (x, y, p) in digit.enumerate_pixels() {
        let v = p.0[0] as f64;
        mass += v;
        mx += v * x as f64;
        my += v * y as f64;
    }
    let (cx, cy) = if mass > 0.0 {
        (mx / mass, my / mass)
    } else {
        (digit.width() as f64 / 2.0, digit.height() as f64 / 2.0)
    };
    // Top-left corner so that the centre of mass lands on (CENTRE, CENTRE), kept inside the
    // field.
    let place = |centre: f64, size: u32| -> i64 {
        ((CENTRE - centre).round() as i64).clamp(0, IMAGE_SIZE as i64 - size as i64)
    };
    let (ox, oy) = (place(cx, digit.width()), place(cy, digit.height()));
    let mut out = [0u8; IMAGE_PIXELS];
    for (x, y, p) in digit.enumerate_pixels() {
        let (tx, ty) = (ox + x as i64, oy + y as i64);
        out[ty as usize * IMAGE_SIZE + tx as usize] = p.0[0];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dark "1"-like stroke on white paper, `scale` times larger than 28x28, RGB.
    fn paper_digit(scale: u32) -> DynamicImage {
        let mut img =
            image::RgbImage::from_pixel(28 * scale, 28 * scale, image::Rgb([250, 250, 245]));
        for y in 4 * scale..24 * scale {
            for x in 12 * scale..15 * scale {
                img.put_pixel(x, y, image::Rgb([20, 20, 30]));
            }
        }
        DynamicImage::ImageRgb8(img)
    }

    fn ink_box(pixels: &Pixels) -> (usize, usize, usize, usize) {
        let ink: Vec<(usize, usize)> = (0..IMAGE_PIXELS)
            .filter(|&i| pixels[i] > INK_THRESHOLD)
            .map(|i| (i % IMAGE_SIZE, i / IMAGE_SIZE))
            .collect();
        let xs = ink.iter().map(|p| p.0);
        let ys = ink.iter().map(|p| p.1);
        (
            xs.clone().min().unwrap(),
            ys.clone().min().unwrap(),
            xs.max().unwrap(),
            ys.max().unwrap(),
        )
    }

    #[test]
    fn light_paper_is_inverted_scaled_to_20_and_centred() {
        let pixels = preprocess(&paper_digit(4)).unwrap();
        let (x0, y0, x1, y1) = ink_box(&pixels);
        assert_eq!(y1 - y0 + 1, 20, "the longer side becomes 20 px");
        assert!(x1 - x0 < 6, "aspect ratio kept: {x0}..{x1}");
        // centre of mass near (14, 14)
        let (mut m, mut cx, mut cy) = (0.0, 0.0, 0.0);
        for (i, &p) in pixels.iter().enumerate() {
            let v = p as f64;
            m += v;
            cx += v * ((i % IMAGE_SIZE) as f64 + 0.5);
            cy += v * ((i / IMAGE_SIZE) as f64 + 0.5);
        }
        assert!((cx / m - CENTRE).abs() <= 1.0 && (cy / m - CENTRE).abs() <= 1.0);
        // background black, ink white
        assert_eq!(pixels[0], 0);
        assert!(pixels.iter().copied().max().unwrap() > 200);
    }

    #[test]
    fn transparent_background_counts_as_paper() {
        let mut img = image::RgbaImage::from_pixel(56, 56, image::Rgba([0, 0, 0, 0]));
        for y in 10..46 {
            for x in 25..31 {
                img.put_pixel(x, y, image::Rgba([0, 0, 0, 255]));
            }
        }
        let pixels = preprocess(&DynamicImage::ImageRgba8(img)).unwrap();
        assert_eq!(pixels[0], 0);
        let (_, y0, _, y1) = ink_box(&pixels);
        assert_eq!(y1 - y0 + 1, 20);
    }

    /// A vertical bar drawn only in the alpha channel: every pixel has colour `ink`, the bar is
    /// opaque, the rest transparent.
    fn alpha_bar(ink: [u8; 3], transparent_colour: [u8; 3]) -> DynamicImage {
        let [r, g, b] = transparent_colour;
        let mut img = image::RgbaImage::from_pixel(56, 56, Rgba([r, g, b, 0]));
        for y in 10..46 {
            for x in 25..31 {
                let [r, g, b] = ink;
                img.put_pixel(x, y, Rgba([r, g, b, 255]));
            }
        }
        DynamicImage::ImageRgba8(img)
    }

    #[test]
    fn a_shape_in_the_alpha_channel_is_a_digit_whatever_its_ink_colour() {
        for ink in [
            [255, 255, 255],
            [0, 0, 0],
            [200, 30, 30],
            [128, 128, 128],
            [30, 200, 255],
        ] {
            for under in [[0, 0, 0], [255, 255, 255], ink] {
                let pixels = preprocess(&alpha_bar(ink, under))
                    .unwrap_or_else(|e| panic!("ink {ink:?} over {under:?}: {e}"));
                assert_eq!(pixels[0], 0, "ink {ink:?}: background black");
                let (x0, y0, x1, y1) = ink_box(&pixels);
                assert_eq!(
                    y1 - y0 + 1,
                    20,
                    "ink {ink:?} over {under:?}: the bar, 20 px tall"
                );
                assert!(x1 - x0 < 6, "ink {ink:?} over {under:?}: a thin bar");
            }
        }
    }

    #[test]
    fn a_picture_with_transparent_margins_keeps_white_paper() {
        // Dark ink on opaque light paper, with a transparent margin: the colours carry the
        // shape, so the transparency is paper too.
        let mut img = image::RgbaImage::from_pixel(60, 60, Rgba([0, 0, 0, 0]));
        for y in 4..56 {
            for x in 4..56 {
                img.put_pixel(x, y, Rgba([253, 253, 252, 255]));
            }
        }
        for y in 12..48 {
            for x in 28..33 {
                img.put_pixel(x, y, Rgba([10, 10, 20, 255]));
            }
        }
        let pixels = preprocess(&DynamicImage::ImageRgba8(img)).unwrap();
        let (x0, y0, x1, y1) = ink_box(&pixels);
        assert_eq!(y1 - y0 + 1, 20);
        assert!(x1 - x0 < 6, "the stroke, not the paper: {x0}..{x1}");
    }

    #[test]
    fn the_contrast_check_does_not_saturate() {
        // The old check, `max < background.saturating_add(32)`, let these through.
        assert!(!has_contrast(250, 255));
        assert!(!has_contrast(224, 255));
        assert!(has_contrast(223, 255));
        assert!(!has_contrast(0, 31));
        assert!(has_contrast(0, 32));
    }

    #[test]
    fn a_uniform_image_with_a_faint_speck_is_blank() {
        for level in (0u8..=250).step_by(5) {
            for speck in [level + 5, level.saturating_sub(5)] {
                let mut img = GrayImage::from_pixel(40, 40, Luma([level]));
                for (x, y) in [(20, 20), (21, 20), (20, 21), (0, 0)] {
                    img.put_pixel(x, y, Luma([speck]));
                }
                let result = preprocess(&DynamicImage::ImageLuma8(img));
                assert!(
                    matches!(result, Err(InferError::NoInk)),
                    "level {level}, speck {speck}: {result:?}"
                );
            }
        }
    }

    #[test]
    fn blank_image_is_an_error() {
        let blank = DynamicImage::ImageLuma8(GrayImage::from_pixel(28, 28, Luma([255])));
        assert!(matches!(preprocess(&blank), Err(InferError::NoInk)));
    }
}
