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
pub(crate) fn ink_bounds(gray: &Gray) -> Option<Bounds> {
    let width = gray.width as usize;
    gray.levels
        .iter()
        .enumerate()
        .filter(|(_, level)| **level > INK_THRESHOLD)
        .map(|(i, _)| ((i % width) as u32, (i / width) as u32))
        .fold(None, |acc, (x, y)| {
            Some(match acc {
                None => Bounds {
                    x0: x,
                    y0: y,
                    x1: x,
                    y1: y,
                },
                Some(b) => Bounds {
                    x0: b.x0.min(x),
                    y0: b.y0.min(y),
                    x1: b.x1.max(x),
                    y1: b.y1.max(y),
                },
            })
        })
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
