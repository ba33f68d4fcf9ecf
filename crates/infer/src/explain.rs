//! "Why this digit" as a picture: the occlusion map of [`model::occlusion`] over the 28x28
//! input, for `infer predict --explain out.png`. The page paints the same colours.

use image::{Rgb, RgbImage};
use model::{IMAGE_SIZE, Occlusion};

/// Pixels per input pixel in [`heat_map_image`]: 28 x 10 = 280, the page's drawing pad.
pub const ZOOM: u32 = 10;

/// The map's input dimmed to gray, tinted red where hiding the pixels lowered the chosen digit's
/// probability and blue where it raised it, each in proportion to the map's largest
/// absolute heat; `ZOOM` times the input's size, nearest neighbour.
pub fn heat_map_image(map: &Occlusion) -> RgbImage {
    let scale = map.max_abs_heat();
    let side = IMAGE_SIZE as u32;
    RgbImage::from_fn(side * ZOOM, side * ZOOM, |x, y| {
        let i = (y / ZOOM) as usize * IMAGE_SIZE + (x / ZOOM) as usize;
        let heat = if scale > 0.0 {
            map.heat[i] / scale
        } else {
            0.0
        };
        Rgb(tint(map.input[i], heat))
    })
}

/// One pixel's colour: its gray level at 45 %, pulled towards red (`heat` > 0) or blue
/// (`heat` < 0) by `|heat|` (in -1..=1).
pub fn tint(pixel: u8, heat: f32) -> [u8; 3] {
    let gray = f32::from(pixel) * 0.45;
    let toward = |full: bool| {
        let target = if full { 255.0 } else { 0.0 };
        (gray + (target - gray) * heat.abs().min(1.0)).round() as u8
    };
    if heat >= 0.0 {
        [toward(true), toward(false), toward(false)]
    } else {
        [toward(false), toward(false), toward(true)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_follow_the_sign_and_size_of_the_heat() {
        assert_eq!(tint(200, 0.0), [90, 90, 90]);
        assert_eq!(tint(0, 1.0), [255, 0, 0]);
        assert_eq!(tint(0, -1.0), [0, 0, 255]);
        let [r, g, b] = tint(100, 0.5);
        assert!(r > 45 && g < 45 && b == g, "{r} {g} {b}");
    }

    #[test]
    fn the_picture_is_the_input_zoomed() {
        let mut pixels = [0u8; model::IMAGE_PIXELS];
        pixels[0] = 255;
        let mut heat = vec![0.0; model::IMAGE_PIXELS];
        heat[IMAGE_SIZE + 1] = -0.2;
        let map = Occlusion {
            label: 1,
            probability: 0.9,
            patch: 4,
            stride: 2,
            formula: String::new(),
            drops: Vec::new(),
            heat,
            input: pixels.to_vec(),
        };
        let image = heat_map_image(&map);
        assert_eq!(image.dimensions(), (280, 280));
        assert_eq!(image.get_pixel(ZOOM - 1, ZOOM - 1).0, [115, 115, 115]);
        assert_eq!(image.get_pixel(ZOOM, ZOOM).0, [0, 0, 255]);
        assert_eq!(image.get_pixel(279, 279).0, [0, 0, 0]);
    }
}
