//! The pictures `infer eval --report DIR` writes: a confusion-matrix heat map and a grid of
//! misclassified digits, labelled with a built-in 3x5 pixel font (no font files needed).

use std::path::Path;

use image::{GrayImage, Luma, Rgb, RgbImage};
use model::{IMAGE_SIZE, NUM_CLASSES, Pixels};

use crate::{Confusion, InferError, save_image};

/// 3x5 glyphs of the digits, one row of 3 bits per line, most significant bit left.
const GLYPHS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

/// Draws `text` (digits; anything else is a gap) with its top-left at (x, y), `scale` pixels
/// per font pixel.
pub fn draw_digits(img: &mut RgbImage, text: &str, x: u32, y: u32, scale: u32, color: Rgb<u8>) {
    for (i, c) in text.chars().enumerate() {
        let Some(d) = c.to_digit(10) else { continue };
        let left = x + i as u32 * 4 * scale;
        for (row, bits) in GLYPHS[d as usize].iter().enumerate() {
            for col in 0..3 {
                if bits & (0b100 >> col) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            let (px, py) = (left + col * scale + dx, y + row as u32 * scale + dy);
                            if px < img.width() && py < img.height() {
                                img.put_pixel(px, py, color);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// 10x10 heat map, rows = true digit, columns = predicted, with counts and axis labels.
pub fn confusion_image(confusion: &Confusion) -> RgbImage {
    let cell = 48;
    let margin = 32;
    let classes = NUM_CLASSES as u32;
    let size = margin + classes * cell;
    let mut img = RgbImage::from_pixel(size, size, Rgb([255, 255, 255]));
    for d in 0..classes {
        let label = d.to_string();
        draw_digits(
            &mut img,
            &label,
            margin + d * cell + cell / 2 - 6,
            8,
            4,
            Rgb([0, 0, 0]),
        );
        draw_digits(
            &mut img,
            &label,
            8,
            margin + d * cell + cell / 2 - 10,
            4,
            Rgb([0, 0, 0]),
        );
    }
    for (t, row) in confusion.matrix.iter().enumerate() {
        let row_total = row.iter().sum::<u32>().max(1) as f32;
        for (p, &n) in row.iter().enumerate() {
            let share = n as f32 / row_total;
            // White (0) to deep blue (1); the diagonal is where the mass should be.
            let shade = |full: f32| (255.0 - share.sqrt() * (255.0 - full)) as u8;
            let color = Rgb([shade(20.0), shade(60.0), shade(160.0)]);
            let (x0, y0) = (margin + p as u32 * cell, margin + t as u32 * cell);
            for y in y0..y0 + cell - 1 {
                for x in x0..x0 + cell - 1 {
                    img.put_pixel(x, y, color);
                }
            }
            let text = n.to_string();
            let ink = if share > 0.4 {
                Rgb([255, 255, 255])
            } else {
                Rgb([0, 0, 0])
            };
            let width = text.len() as u32 * 8 - 2;
            draw_digits(
                &mut img,
                &text,
                x0 + (cell - width) / 2,
                y0 + cell / 2 - 5,
                2,
                ink,
            );
        }
    }
    img
}

/// A grid of digits (each 28x28 shown at 2x) captioned `true predicted` (green, red).
pub fn misclassified_image(items: &[(&Pixels, u8, u8)], columns: u32) -> RgbImage {
    let side = IMAGE_SIZE as u32;
    let (digit, caption) = (2 * side, 14u32);
    let tile = (digit + 4, digit + caption + 4);
    let rows = (items.len() as u32).div_ceil(columns).max(1);
    let mut img = RgbImage::from_pixel(columns * tile.0, rows * tile.1, Rgb([255, 255, 255]));
    for (i, (pixels, truth, predicted)) in items.iter().enumerate() {
        let (x0, y0) = (
            (i as u32 % columns) * tile.0 + 2,
            (i as u32 / columns) * tile.1 + 2,
        );
        let gray = GrayImage::from_fn(side, side, |x, y| Luma([pixels[(y * side + x) as usize]]));
        let big =
            image::imageops::resize(&gray, digit, digit, image::imageops::FilterType::Nearest);
        for (x, y, p) in big.enumerate_pixels() {
            let v = 255 - p.0[0]; // dark ink on white, as people read digits
            img.put_pixel(x0 + x, y0 + y, Rgb([v, v, v]));
        }
        draw_digits(
            &mut img,
            &truth.to_string(),
            x0 + 8,
            y0 + digit + 3,
            2,
            Rgb([0, 140, 0]),
        );
        draw_digits(
            &mut img,
            &predicted.to_string(),
            x0 + 40,
            y0 + digit + 3,
            2,
            Rgb([200, 0, 0]),
        );
    }
    img
}

/// The most misclassified digits `misclassified.png` shows (the first ones, in set order): 25
/// rows of 20, a 1,240 x 1,850 picture. A folder of a million images, or a model that gets
/// everything wrong, would otherwise ask for a picture of gigabytes.
pub const MAX_MISCLASSIFIED_SHOWN: usize = 500;

/// Writes `confusion.png` and `misclassified.png` (at most [`MAX_MISCLASSIFIED_SHOWN`] digits)
/// into `dir`, creating it if needed.
pub fn write_report(
    dir: &Path,
    confusion: &Confusion,
    misclassified: &[(&Pixels, u8, u8)],
) -> Result<(), InferError> {
    std::fs::create_dir_all(dir).map_err(|source| InferError::CreateDir {
        path: dir.into(),
        source,
    })?;
    save_image(&confusion_image(confusion), &dir.join("confusion.png"))?;
    let shown = &misclassified[..misclassified.len().min(MAX_MISCLASSIFIED_SHOWN)];
    save_image(
        &misclassified_image(shown, 20),
        &dir.join("misclassified.png"),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_png_write_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the PNG should go: the folder is fine, the file cannot be written.
        std::fs::create_dir(dir.path().join("confusion.png")).unwrap();
        let err = write_report(dir.path(), &Confusion::default(), &[]).unwrap_err();
        match &err {
            InferError::WriteImage { path, .. } => {
                assert_eq!(path, &dir.path().join("confusion.png"));
            }
            other => panic!("expected a write error of confusion.png, got {other:?}"),
        }
        assert!(
            err.to_string()
                .ends_with("confusion.png: cannot write the image")
        );
    }

    #[test]
    fn the_misclassified_picture_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let pixels = [0u8; model::IMAGE_PIXELS];
        let many: Vec<(&Pixels, u8, u8)> = (0..5000).map(|_| (&pixels, 1, 7)).collect();
        write_report(dir.path(), &Confusion::default(), &many).unwrap();
        let (w, h) = image::image_dimensions(dir.path().join("misclassified.png")).unwrap();
        let tile_rows = MAX_MISCLASSIFIED_SHOWN as u32 / 20;
        assert_eq!((w, h), (20 * 60, tile_rows * 74));
    }
}
