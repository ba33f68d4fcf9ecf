//! Gray levels of a picture: compositing transparency over paper, inversion, contrast.

use crate::MIN_CONTRAST;
use crate::picture::Picture;

/// A gray picture, one byte a pixel, row-major.
pub(crate) struct Gray {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) levels: Vec<u8>,
}

/// Luma of an RGB colour, with the integer Rec. 709 weights of the `image` crate's conversion
/// (which `infer` used before this crate), so that a gray picture keeps its exact levels.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((2126 * r as u32 + 7152 * g as u32 + 722 * b as u32) / 10_000) as u8
}

/// `level` seen through `alpha` over paper of level `paper`.
fn composite(level: u8, alpha: u8, paper: u8) -> u8 {
    let (l, a, p) = (level as u32, alpha as u32, paper as u32);
    ((l * a + p * (255 - a) + 127) / 255) as u8
}

/// The paper to put behind a picture with transparency. Usually white, as on a page. But when
/// the visible pixels are all of about one colour, the shape is carried by the alpha channel
/// alone (white ink on a transparent canvas, or colour left undefined under alpha): then the
/// paper is whichever of black and white stands out from that colour, so that the shape shows
/// whatever the ink's colour.
fn paper_behind(picture: &Picture<'_>) -> u8 {
    // Alpha-weighted mean and variance of the luma of the visible pixels.
    let (mut weight, mut sum, mut squares) = (0f64, 0f64, 0f64);
    for [r, g, b, a] in picture.rgba() {
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
pub(crate) fn has_contrast(background: u8, max: u8) -> bool {
    max as i32 - background as i32 >= MIN_CONTRAST as i32
}

impl Gray {
    /// Gray levels of `picture`, one pass, one buffer; transparency composited over paper
    /// chosen by [`paper_behind`].
    pub(crate) fn of(picture: &Picture<'_>) -> Self {
        let paper = if picture.layout().has_alpha() {
            paper_behind(picture)
        } else {
            255
        };
        let levels = picture
            .rgba()
            .map(|[r, g, b, a]| composite(luma(r, g, b), a, paper))
            .collect();
        Self {
            width: picture.width(),
            height: picture.height(),
            levels,
        }
    }

    /// The level at column `x`, row `y`.
    pub(crate) fn at(&self, x: u32, y: u32) -> u8 {
        self.levels[y as usize * self.width as usize + x as usize]
    }

    /// The levels of the outermost rows and columns (corners twice, as they were counted).
    fn border(&self) -> impl Iterator<Item = u8> + '_ {
        let (w, h) = (self.width, self.height);
        (0..w)
            .flat_map(move |x| [(x, 0), (x, h - 1)])
            .chain((0..h).flat_map(move |y| [(0, y), (w - 1, y)]))
            .map(|(x, y)| self.at(x, y))
    }

    /// Whether the border is mostly light (paper) rather than dark (MNIST-style).
    pub(crate) fn background_is_light(&self) -> bool {
        let (sum, n) = self
            .border()
            .fold((0u64, 0u64), |(s, n), level| (s + level as u64, n + 1));
        sum / n.max(1) > 127
    }

    /// Dark for light and light for dark.
    pub(crate) fn invert(&mut self) {
        for level in &mut self.levels {
            *level = 255 - *level;
        }
    }

    /// Maps the background level (the median of the border) to 0 and the brightest ink to
    /// 255, in place, so that grey paper or a dim photo looks like MNIST's black background and
    /// white ink. MNIST images themselves (black border, white ink) pass unchanged. `None` when
    /// there is no ink.
    pub(crate) fn stretch_contrast(&mut self) -> Option<()> {
        let mut border: Vec<u8> = self.border().collect();
        border.sort_unstable();
        let background = border[border.len() / 2];
        let max = self.levels.iter().copied().max().unwrap_or(0);
        if !has_contrast(background, max) {
            return None;
        }
        if (background, max) != (0, 255) {
            let range = (max - background) as f32;
            for level in &mut self.levels {
                let v = level.saturating_sub(background) as f32;
                *level = (255.0 * v / range).round() as u8;
            }
        }
        Some(())
    }
}
