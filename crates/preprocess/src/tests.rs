//! The framing's properties, on pictures made here.

use crate::gray::has_contrast;
use crate::place::CENTRE;
use crate::*;

/// A seeded stream of numbers below a bound (xorshift64): the random pictures of the unit tests
/// next to the fast paths, the same from run to run.
pub(crate) fn below(seed: u64) -> impl FnMut(u32) -> u32 {
    let mut state = seed;
    move |bound| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as u32
    }
}

/// A picture built pixel by pixel, owning its bytes.
struct Canvas {
    bytes: Vec<u8>,
    width: u32,
    height: u32,
    layout: Layout,
}

impl Canvas {
    fn filled(width: u32, height: u32, layout: Layout, pixel: &[u8]) -> Self {
        assert_eq!(pixel.len(), layout.channels());
        Self {
            bytes: pixel.repeat((width * height) as usize),
            width,
            height,
            layout,
        }
    }

    fn put(&mut self, x: u32, y: u32, pixel: &[u8]) {
        let c = self.layout.channels();
        let at = (y * self.width + x) as usize * c;
        self.bytes[at..at + c].copy_from_slice(pixel);
    }

    fn frame(&self) -> Result<Framed, PreprocessError> {
        frame(&Picture::new(&self.bytes, self.width, self.height, self.layout).unwrap())
    }
}

/// A dark "1"-like stroke on white paper, `scale` times larger than 28x28, RGB.
fn paper_digit(scale: u32) -> Canvas {
    let mut img = Canvas::filled(28 * scale, 28 * scale, Layout::Rgb, &[250, 250, 245]);
    for y in 4 * scale..24 * scale {
        for x in 12 * scale..15 * scale {
            img.put(x, y, &[20, 20, 30]);
        }
    }
    img
}

fn ink_box(pixels: &Framed) -> (usize, usize, usize, usize) {
    let ink: Vec<(usize, usize)> = (0..PIXELS)
        .filter(|&i| pixels[i] > INK_THRESHOLD)
        .map(|i| (i % SIDE, i / SIDE))
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
    let pixels = paper_digit(4).frame().unwrap();
    let (x0, y0, x1, y1) = ink_box(&pixels);
    assert_eq!(y1 - y0 + 1, 20, "the longer side becomes 20 px");
    assert!(x1 - x0 < 6, "aspect ratio kept: {x0}..{x1}");
    // centre of mass near (14, 14)
    let (mut m, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for (i, &p) in pixels.iter().enumerate() {
        let v = p as f64;
        m += v;
        cx += v * ((i % SIDE) as f64 + 0.5);
        cy += v * ((i / SIDE) as f64 + 0.5);
    }
    assert!((cx / m - CENTRE).abs() <= 1.0 && (cy / m - CENTRE).abs() <= 1.0);
    // background black, ink white
    assert_eq!(pixels[0], 0);
    assert!(pixels.iter().copied().max().unwrap() > 200);
}

#[test]
fn every_layout_of_the_same_picture_frames_the_same() {
    let rgb = paper_digit(3);
    let expected = rgb.frame().unwrap();
    let gray: Vec<u8> = rgb.bytes.chunks(3).map(|p| p[0]).collect();
    // The RGB picture is not quite gray (245 blue); compare gray layouts among themselves and
    // with RGB whose channels are equal.
    let equal_rgb: Vec<u8> = gray.iter().flat_map(|&g| [g, g, g]).collect();
    let rgba: Vec<u8> = gray.iter().flat_map(|&g| [g, g, g, 255]).collect();
    let gray_alpha: Vec<u8> = gray.iter().flat_map(|&g| [g, 255]).collect();
    let (w, h) = (rgb.width, rgb.height);
    let framed = |bytes: &[u8], layout| frame(&Picture::new(bytes, w, h, layout).unwrap()).unwrap();
    let from_gray = framed(&gray, Layout::Gray);
    assert_eq!(framed(&equal_rgb, Layout::Rgb), from_gray);
    assert_eq!(framed(&rgba, Layout::Rgba), from_gray);
    assert_eq!(framed(&gray_alpha, Layout::GrayAlpha), from_gray);
    let most = expected
        .iter()
        .zip(&from_gray)
        .map(|(a, b)| a.abs_diff(*b))
        .max();
    assert!(most <= Some(2), "a faint tint changes little: {most:?}");
}

#[test]
fn scaling_is_exact_on_a_box_filter_case() {
    // A 40x40 uniform white square on black shrinks to a uniform 20x20 square: every weight
    // sums to 1, so no level drifts.
    let mut img = Canvas::filled(60, 60, Layout::Gray, &[0]);
    for y in 10..50 {
        for x in 10..50 {
            img.put(x, y, &[255]);
        }
    }
    let pixels = img.frame().unwrap();
    let (x0, y0, x1, y1) = ink_box(&pixels);
    assert_eq!((x1 - x0 + 1, y1 - y0 + 1), (20, 20));
    assert!((y0..=y1).all(|y| (x0..=x1).all(|x| pixels[y * SIDE + x] == 255)));
}

#[test]
fn transparent_background_counts_as_paper() {
    let mut img = Canvas::filled(56, 56, Layout::Rgba, &[0, 0, 0, 0]);
    for y in 10..46 {
        for x in 25..31 {
            img.put(x, y, &[0, 0, 0, 255]);
        }
    }
    let pixels = img.frame().unwrap();
    assert_eq!(pixels[0], 0);
    let (_, y0, _, y1) = ink_box(&pixels);
    assert_eq!(y1 - y0 + 1, 20);
}

/// A vertical bar drawn only in the alpha channel: every pixel has colour `ink`, the bar is
/// opaque, the rest transparent.
fn alpha_bar(ink: [u8; 3], transparent_colour: [u8; 3]) -> Canvas {
    let [r, g, b] = transparent_colour;
    let mut img = Canvas::filled(56, 56, Layout::Rgba, &[r, g, b, 0]);
    for y in 10..46 {
        for x in 25..31 {
            let [r, g, b] = ink;
            img.put(x, y, &[r, g, b, 255]);
        }
    }
    img
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
            let pixels = alpha_bar(ink, under)
                .frame()
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
    // Dark ink on opaque light paper, with a transparent margin: the colours carry the shape,
    // so the transparency is paper too.
    let mut img = Canvas::filled(60, 60, Layout::Rgba, &[0, 0, 0, 0]);
    for y in 4..56 {
        for x in 4..56 {
            img.put(x, y, &[253, 253, 252, 255]);
        }
    }
    for y in 12..48 {
        for x in 28..33 {
            img.put(x, y, &[10, 10, 20, 255]);
        }
    }
    let pixels = img.frame().unwrap();
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
            let mut img = Canvas::filled(40, 40, Layout::Gray, &[level]);
            for (x, y) in [(20, 20), (21, 20), (20, 21), (0, 0)] {
                img.put(x, y, &[speck]);
            }
            let result = img.frame();
            assert_eq!(
                result.err(),
                Some(PreprocessError::NoInk),
                "level {level}, speck {speck}"
            );
        }
    }
}

#[test]
fn blank_image_is_an_error() {
    let blank = Canvas::filled(28, 28, Layout::Gray, &[255]);
    assert_eq!(blank.frame().err(), Some(PreprocessError::NoInk));
}

#[test]
fn a_buffer_of_the_wrong_size_or_an_empty_or_huge_picture_is_refused() {
    let bytes = [0u8; 100];
    assert!(matches!(
        Picture::new(&bytes, 10, 10, Layout::Rgba),
        Err(PreprocessError::BufferSize {
            expected: 400,
            actual: 100,
            ..
        })
    ));
    assert!(matches!(
        Picture::new(&[], 0, 10, Layout::Gray),
        Err(PreprocessError::Size { .. })
    ));
    // Refused from the sides alone, before the (short) buffer is looked at.
    assert!(matches!(
        Picture::new(&bytes, u32::MAX, u32::MAX, Layout::Rgba),
        Err(PreprocessError::Size { .. })
    ));
    assert!(Picture::new(&bytes, 10, 10, Layout::Gray).is_ok());
}
