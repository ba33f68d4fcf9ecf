//! Gray levels of a picture: compositing transparency over paper, inversion, contrast.

use crate::MIN_CONTRAST;
use crate::picture::{Layout, Picture};

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
    ///
    /// Opaque pictures take a loop of their own (a server's pictures are mostly RGB or gray):
    /// over opaque pixels `composite` is the identity, and so is `luma` of a gray level, so
    /// a gray picture is its bytes and an RGB one its lumas — the same levels as the general
    /// path, which a test compares.
    pub(crate) fn of(picture: &Picture<'_>) -> Self {
        let levels = match picture.layout() {
            Layout::Gray => picture.bytes().to_vec(),
            Layout::Rgb => picture
                .bytes()
                .chunks_exact(3)
                .map(|p| luma(p[0], p[1], p[2]))
                .collect(),
            Layout::GrayAlpha | Layout::Rgba => Self::composited(picture),
        };
        Self {
            width: picture.width(),
            height: picture.height(),
            levels,
        }
    }

    /// Every pixel's luma composited over the paper [`paper_behind`] chooses: the general path
    /// of [`Gray::of`], for any layout.
    pub(crate) fn composited(picture: &Picture<'_>) -> Vec<u8> {
        let paper = if picture.layout().has_alpha() {
            paper_behind(picture)
        } else {
            255
        };
        picture
            .rgba()
            .map(|[r, g, b, a]| composite(luma(r, g, b), a, paper))
            .collect()
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
            let table = stretch_table(background, max);
            for level in &mut self.levels {
                *level = table[*level as usize];
            }
        }
        Some(())
    }
}

/// What [`Gray::stretch_contrast`] maps each of the 256 levels to: `background` to 0, `max` to
/// 255, linearly between, rounded. A table, because a picture has far more pixels than levels:
/// the float division and rounding run 256 times instead of once a pixel (they were a fifth of
/// a served request's time: crates/bench/README.md, "Where a served request's time goes").
pub(crate) fn stretch_table(background: u8, max: u8) -> [u8; 256] {
    let range = (max - background) as f32;
    std::array::from_fn(|level| {
        let v = (level as u8).saturating_sub(background) as f32;
        (255.0 * v / range).round() as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_layouts_read_the_same_levels_as_the_general_path() {
        let mut next = crate::tests::below(0xd1b5_4a32_d192_ed03);
        for layout in [Layout::Gray, Layout::GrayAlpha, Layout::Rgb, Layout::Rgba] {
            let (w, h) = (37, 23);
            let bytes: Vec<u8> = (0..w * h * layout.channels() as u32)
                .map(|_| next(256) as u8)
                .collect();
            let picture = Picture::new(&bytes, w, h, layout).expect("a valid picture");
            assert_eq!(
                Gray::of(&picture).levels,
                Gray::composited(&picture),
                "{layout:?}"
            );
        }
    }

    #[test]
    fn the_stretch_table_is_the_per_pixel_formula() {
        for background in 0..=255u8 {
            for max in background.saturating_add(1)..=255 {
                let table = stretch_table(background, max);
                let range = (max - background) as f32;
                for level in 0..=255u8 {
                    let v = level.saturating_sub(background) as f32;
                    assert_eq!(table[level as usize], (255.0 * v / range).round() as u8);
                }
            }
        }
    }
}
