//! The input of [`crate::frame`]: a borrowed buffer of 8-bit pixels and how to read it.

use std::fmt;

use crate::PreprocessError;

/// Largest picture [`crate::frame`] works on, in pixels (64 Mpx): checked before anything is
/// allocated, since the gray copy costs a byte a pixel. Larger than any decoder limit of the
/// project (`infer` refuses sides over 4096) and any canvas a page sends.
pub const MAX_PICTURE_PIXELS: u64 = 64 << 20;

/// How the bytes of a [`Picture`] hold its pixels: 8 bits a channel, row-major, no padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One gray level a pixel.
    Gray,
    /// Gray level, then alpha.
    GrayAlpha,
    /// Red, green, blue.
    Rgb,
    /// Red, green, blue, alpha (a canvas's `ImageData`).
    Rgba,
}

impl Layout {
    /// Bytes per pixel.
    pub const fn channels(self) -> usize {
        match self {
            Layout::Gray => 1,
            Layout::GrayAlpha => 2,
            Layout::Rgb => 3,
            Layout::Rgba => 4,
        }
    }

    /// Whether the layout carries transparency.
    pub const fn has_alpha(self) -> bool {
        matches!(self, Layout::GrayAlpha | Layout::Rgba)
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Gray => "gray",
            Layout::GrayAlpha => "gray+alpha",
            Layout::Rgb => "RGB",
            Layout::Rgba => "RGBA",
        })
    }
}

/// A picture checked to be framable: its buffer holds exactly `width * height` pixels of its
/// layout, no side is zero, and it is at most [`MAX_PICTURE_PIXELS`].
#[derive(Debug, Clone, Copy)]
pub struct Picture<'a> {
    bytes: &'a [u8],
    width: u32,
    height: u32,
    layout: Layout,
}

impl<'a> Picture<'a> {
    /// `bytes` read as a `width` x `height` picture in `layout`.
    pub fn new(
        bytes: &'a [u8],
        width: u32,
        height: u32,
        layout: Layout,
    ) -> Result<Self, PreprocessError> {
        let pixels = width as u64 * height as u64;
        if width == 0 || height == 0 || pixels > MAX_PICTURE_PIXELS {
            return Err(PreprocessError::Size {
                width,
                height,
                max: MAX_PICTURE_PIXELS,
            });
        }
        let expected = pixels * layout.channels() as u64;
        if bytes.len() as u64 != expected {
            return Err(PreprocessError::BufferSize {
                width,
                height,
                layout,
                expected,
                actual: bytes.len(),
            });
        }
        Ok(Self {
            bytes,
            width,
            height,
            layout,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The layout of the bytes.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The pixels' bytes, as given.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.bytes
    }

    /// Every pixel as `[r, g, b, a]`, row by row (gray repeated, alpha 255 where there is none).
    pub(crate) fn rgba(&self) -> impl Iterator<Item = [u8; 4]> + '_ {
        self.bytes
            .chunks_exact(self.layout.channels())
            .map(move |p| match self.layout {
                Layout::Gray => [p[0], p[0], p[0], 255],
                Layout::GrayAlpha => [p[0], p[0], p[0], p[1]],
                Layout::Rgb => [p[0], p[1], p[2], 255],
                Layout::Rgba => [p[0], p[1], p[2], p[3]],
            })
    }
}
