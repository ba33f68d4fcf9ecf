//! Scaling a gray rectangle with a separable filter: each output pixel is a normalised,
//! weighted sum of the input pixels under the filter's window (widened by the scale factor when
//! shrinking, so that it also low-passes). Rows first (vertical pass into `f32`), then columns;
//! rounded and clamped once at the end. It computes what the `image` crate's `resize` (which
//! `infer` used before) computes for these two filters, so a digit frames the same.

use std::f32::consts::PI;

use crate::gray::Gray;
use crate::place::Bounds;

/// The two filters the framing uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    /// Windowed sinc with three lobes: sharp, anti-aliased shrinking.
    Lanczos3,
    /// Linear interpolation: enlarging without ringing.
    Triangle,
}

impl Filter {
    /// Half-width of the kernel, in input pixels at scale 1.
    fn support(self) -> f32 {
        match self {
            Filter::Lanczos3 => 3.0,
            Filter::Triangle => 1.0,
        }
    }

    fn weight(self, x: f32) -> f32 {
        match self {
            Filter::Lanczos3 if x.abs() < 3.0 => sinc(x) * sinc(x / 3.0),
            Filter::Triangle if x.abs() < 1.0 => 1.0 - x.abs(),
            _ => 0.0,
        }
    }
}

fn sinc(x: f32) -> f32 {
    if x == 0.0 {
        1.0
    } else {
        (x * PI).sin() / (x * PI)
    }
}

/// For each of `out` output positions along an axis of `input` pixels: the first input pixel
/// under the filter and the normalised weights from there.
fn taps(input: u32, out: u32, filter: Filter) -> Vec<(usize, Vec<f32>)> {
    let ratio = input as f32 / out as f32;
    // Shrinking widens the kernel by the ratio; enlarging keeps it at its own width.
    let spread = ratio.max(1.0);
    let support = filter.support() * spread;
    (0..out)
        .map(|o| {
            let centre = (o as f32 + 0.5) * ratio;
            let first = ((centre - support).floor() as i64).clamp(0, input as i64 - 1);
            let end = ((centre + support).ceil() as i64).clamp(first + 1, input as i64);
            // Pixel i covers [i, i + 1): its centre is i + 0.5.
            let mut weights: Vec<f32> = (first..end)
                .map(|i| filter.weight((i as f32 - (centre - 0.5)) / spread))
                .collect();
            let sum: f32 = weights.iter().sum();
            for w in &mut weights {
                *w /= sum;
            }
            (first as usize, weights)
        })
        .collect()
}

/// The rectangle `area` of `gray` scaled to `width` x `height`. The same size is a copy.
pub(crate) fn resize(gray: &Gray, area: Bounds, width: u32, height: u32, filter: Filter) -> Gray {
    let (aw, ah) = (area.width(), area.height());
    if (aw, ah) == (width, height) {
        let levels = (area.y0..=area.y1)
            .flat_map(|y| (area.x0..=area.x1).map(move |x| gray.at(x, y)))
            .collect();
        return Gray {
            width,
            height,
            levels,
        };
    }
    let tall = vertical_pass(gray, area, height, filter);
    // Horizontal pass, then one rounding.
    let columns = taps(aw, width, filter);
    let mut levels = vec![0u8; width as usize * height as usize];
    for y in 0..height as usize {
        let line = &tall[y * aw as usize..(y + 1) * aw as usize];
        for (x, (first, weights)) in columns.iter().enumerate() {
            let v: f32 = weights
                .iter()
                .zip(&line[*first..])
                .map(|(w, level)| level * w)
                .sum();
            levels[y * width as usize + x] = v.clamp(0.0, 255.0).round() as u8;
        }
    }
    Gray {
        width,
        height,
        levels,
    }
}

/// The first pass of [`resize`]: the columns of `area` scaled to `height` rows, unrounded
/// (`area.width()` values a row). Each output row adds its input rows (the area's part of them,
/// contiguous) times their weights, in tap order: for every column the same sum, in the same
/// order, as one dot product per column down the picture, but reading along rows.
fn vertical_pass(gray: &Gray, area: Bounds, height: u32, filter: Filter) -> Vec<f32> {
    let (aw_len, x0, stride) = (area.width() as usize, area.x0 as usize, gray.width as usize);
    let mut tall = vec![0f32; aw_len * height as usize];
    for (out, (first, weights)) in
        tall.chunks_exact_mut(aw_len)
            .zip(taps(area.height(), height, filter))
    {
        for (k, w) in weights.iter().enumerate() {
            let start = (area.y0 as usize + first + k) * stride + x0;
            let line = &gray.levels[start..start + aw_len];
            for (sum, level) in out.iter_mut().zip(line) {
                *sum += *level as f32 * w;
            }
        }
    }
    tall
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vertical pass as one dot product per column (what it was before it read along
    /// rows): the reference the row-wise pass must equal exactly.
    fn vertical_pass_by_columns(
        gray: &Gray,
        area: Bounds,
        height: u32,
        filter: Filter,
    ) -> Vec<f32> {
        let aw = area.width();
        let mut tall = vec![0f32; aw as usize * height as usize];
        for (row, (first, weights)) in taps(area.height(), height, filter).into_iter().enumerate() {
            for x in 0..aw {
                tall[row * aw as usize + x as usize] = weights
                    .iter()
                    .enumerate()
                    .map(|(k, w)| gray.at(area.x0 + x, area.y0 + (first + k) as u32) as f32 * w)
                    .sum();
            }
        }
        tall
    }

    #[test]
    fn the_row_wise_pass_equals_the_column_dot_products() {
        let mut next = crate::tests::below(0x2545_f491_4f6c_dd1d);
        for _ in 0..200 {
            let (w, h) = (1 + next(120), 1 + next(120));
            let levels = (0..w * h).map(|_| next(256) as u8).collect();
            let gray = Gray {
                width: w,
                height: h,
                levels,
            };
            let (x0, y0) = (next(w), next(h));
            let area = Bounds {
                x0,
                y0,
                x1: x0 + next(w - x0),
                y1: y0 + next(h - y0),
            };
            let th = 1 + next(40);
            for filter in [Filter::Lanczos3, Filter::Triangle] {
                assert_eq!(
                    vertical_pass(&gray, area, th, filter),
                    vertical_pass_by_columns(&gray, area, th, filter)
                );
            }
        }
    }
}
