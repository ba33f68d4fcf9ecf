//! Where the ink is, and where it goes: its bounding box, and the paste centred by mass.

use crate::gray::Gray;
use crate::{Framed, INK_THRESHOLD, PIXELS, SIDE};

/// Where the ink's centre of mass goes, in both coordinates: the middle of the field (pixel
/// 14), which is where MNIST puts it (measured on its test set).
pub(crate) const CENTRE: f64 = (SIDE / 2) as f64;

/// An inclusive rectangle of a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub(crate) x0: u32,
    pub(crate) y0: u32,
    pub(crate) x1: u32,
    pub(crate) y1: u32,
}

impl Bounds {
    pub(crate) fn width(&self) -> u32 {
        self.x1 - self.x0 + 1
    }

    pub(crate) fn height(&self) -> u32 {
        self.y1 - self.y0 + 1
    }
}

/// The bounding box of the pixels brighter than [`INK_THRESHOLD`].
///
/// Row by row: the first and last ink pixel of each row that has one (a scan from each end
/// that stops at the ink, no division per pixel).
pub(crate) fn ink_bounds(gray: &Gray) -> Option<Bounds> {
    let width = gray.width as usize;
    if width == 0 {
        return None;
    }
    let is_ink = |level: &u8| *level > INK_THRESHOLD;
    let mut bounds: Option<Bounds> = None;
    for (y, row) in gray.levels.chunks_exact(width).enumerate() {
        let (Some(first), Some(last)) = (row.iter().position(is_ink), row.iter().rposition(is_ink))
        else {
            continue;
        };
        let (x0, x1, y) = (first as u32, last as u32, y as u32);
        bounds = Some(match bounds {
            None => Bounds {
                x0,
                y0: y,
                x1,
                y1: y,
            },
            Some(b) => Bounds {
                x0: b.x0.min(x0),
                y0: b.y0,
                x1: b.x1.max(x1),
                y1: y,
            },
        });
    }
    bounds
}

/// Pastes `digit` (at most 20x20) into 28x28 with its centre of mass at the centre.
pub(crate) fn paste_centred(digit: &Gray) -> Framed {
    let (width, height) = (digit.width as usize, digit.height as usize);
    let pixels = || {
        digit
            .levels
            .iter()
            .enumerate()
            .map(move |(i, &v)| (i % width, i / width, v))
    };
    let (mut mass, mut mx, mut my) = (0f64, 0f64, 0f64);
    for (x, y, v) in pixels() {
        let v = v as f64;
        mass += v;
        mx += v * x as f64;
        my += v * y as f64;
    }
    let (cx, cy) = if mass > 0.0 {
        (mx / mass, my / mass)
    } else {
        (width as f64 / 2.0, height as f64 / 2.0)
    };
    // Top-left corner so that the centre of mass lands on (CENTRE, CENTRE), kept inside the
    // field.
    let place = |centre: f64, size: usize| -> usize {
        ((CENTRE - centre).round() as i64).clamp(0, SIDE as i64 - size as i64) as usize
    };
    let (ox, oy) = (place(cx, width), place(cy, height));
    let mut out = [0u8; PIXELS];
    for (x, y, v) in pixels() {
        out[(oy + y) * SIDE + ox + x] = v;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ink_bounds_are_the_box_of_every_ink_pixel() {
        let mut next = crate::tests::below(0x9e37_79b9_7f4a_7c15);
        for _ in 0..500 {
            let (w, h) = (1 + next(60), 1 + next(60));
            // Sparse ink: from none at all to about one pixel in four.
            let density = next(5);
            let levels: Vec<u8> = (0..w * h)
                .map(|_| {
                    if next(16) < density {
                        255
                    } else {
                        next(INK_THRESHOLD as u32 + 1) as u8
                    }
                })
                .collect();
            let ink: Vec<(u32, u32)> = (0..w * h)
                .filter(|&i| levels[i as usize] > INK_THRESHOLD)
                .map(|i| (i % w, i / w))
                .collect();
            let expected = (!ink.is_empty()).then(|| Bounds {
                x0: ink.iter().map(|p| p.0).min().unwrap(),
                y0: ink.iter().map(|p| p.1).min().unwrap(),
                x1: ink.iter().map(|p| p.0).max().unwrap(),
                y1: ink.iter().map(|p| p.1).max().unwrap(),
            });
            let gray = Gray {
                width: w,
                height: h,
                levels,
            };
            assert_eq!(ink_bounds(&gray), expected, "{w}x{h}");
        }
    }
}
