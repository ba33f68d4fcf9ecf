//! Turning a picture of a digit into the 28x28 image an MNIST network expects, from raw pixels.
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
//! 3. stretch the contrast (background to 0, the brightest ink to 255);
//! 4. crop to the bounding box of the ink;
//! 5. scale the longer side to 20 px, keeping the aspect ratio;
//! 6. paste into a black 28x28 image with the ink's centre of mass at (14, 14).
//!
//! The crate works on pixel buffers ([`Picture`]) and depends on nothing but `thiserror`, so the
//! same code frames a decoded PNG in `infer` and `serve` and a canvas drawing in the browser
//! (`crates/web`, compiled to WebAssembly). Decoding files is the caller's job.
//!
//! ```
//! use preprocess::{Layout, Picture, frame};
//! // A white bar on black, 40x40, one gray byte per pixel.
//! let mut gray = vec![0u8; 40 * 40];
//! for y in 5..35 { for x in 18..22 { gray[y * 40 + x] = 255; } }
//! let pixels = frame(&Picture::new(&gray, 40, 40, Layout::Gray)?)?;
//! assert_eq!(pixels.len(), 28 * 28);
//! # Ok::<(), preprocess::PreprocessError>(())
//! ```
//!
//! Layout: [`picture`] (the input buffer and its checks), `gray` (grayscale, paper, inversion,
//! contrast), `resample` (the separable Lanczos / triangle scaling), `place` (the ink's bounding
//! box and the paste centred by mass).

mod gray;
pub mod picture;
mod place;
mod resample;

pub use picture::{Layout, MAX_PICTURE_PIXELS, Picture};

/// Side of the output image (MNIST's 28).
pub const SIDE: usize = 28;
/// Pixels of the output image.
pub const PIXELS: usize = SIDE * SIDE;
/// Side of the box the digit is scaled into.
pub const DIGIT_BOX: u32 = 20;
/// Pixels at or below this level (after inversion and contrast stretching) are background when
/// looking for the ink's bounding box. Low, so that MNIST's own faint anti-aliased edges count
/// as ink and an MNIST digit keeps its 20-px frame unchanged.
pub const INK_THRESHOLD: u8 = 8;
/// Ink must stand out from the background by at least this many levels, or the image is blank.
pub const MIN_CONTRAST: u8 = 32;

/// A framed digit: 28x28 gray levels, row-major, white ink on black.
pub type Framed = [u8; PIXELS];

/// Why a picture could not be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreprocessError {
    /// Nothing stands out from the background.
    #[error("the image is blank: no ink stands out from the background")]
    NoInk,
    /// The buffer does not hold `width * height` pixels of its layout.
    #[error("a {width}x{height} {layout} picture needs {expected} bytes, got {actual}")]
    BufferSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The layout the bytes were said to have.
        layout: Layout,
        /// Bytes needed.
        expected: u64,
        /// Bytes given.
        actual: usize,
    },
    /// A side is zero or the picture is larger than [`MAX_PICTURE_PIXELS`].
    #[error(
        "a {width}x{height} picture cannot be framed: each side must be at least 1 and the whole at most {max} pixels"
    )]
    Size {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// [`MAX_PICTURE_PIXELS`].
        max: u64,
    },
}

/// The MNIST-style 28x28 image of `picture`.
///
/// Memory: one gray copy of the picture (a byte a pixel), worked on in place, plus the small
/// scaled digit.
pub fn frame(picture: &Picture<'_>) -> Result<Framed, PreprocessError> {
    let mut gray = gray::Gray::of(picture);
    if gray.background_is_light() {
        gray.invert();
    }
    gray.stretch_contrast().ok_or(PreprocessError::NoInk)?;
    let ink = place::ink_bounds(&gray).ok_or(PreprocessError::NoInk)?;
    let (w, h) = (ink.width(), ink.height());
    let scale = DIGIT_BOX as f32 / w.max(h) as f32;
    let (sw, sh) = (
        ((w as f32 * scale).round() as u32).clamp(1, DIGIT_BOX),
        ((h as f32 * scale).round() as u32).clamp(1, DIGIT_BOX),
    );
    // Lanczos when shrinking (anti-aliasing, like MNIST's own scaling); triangle when
    // enlarging a small digit, which rings less.
    let filter = if scale < 1.0 {
        resample::Filter::Lanczos3
    } else {
        resample::Filter::Triangle
    };
    let digit = resample::resize(&gray, ink, sw, sh, filter);
    Ok(place::paste_centred(&digit))
}

#[cfg(test)]
mod tests;
