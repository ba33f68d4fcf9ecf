//! A decompression bomb for the tests and the load example: a PNG of 1-bit pixels declaring
//! `side` x `side` (23000: 66 MB of rows, 2 GB once decoded to bytes), white with a black speck
//! in each corner, about 100 KB compressed.

use std::io::Write;

/// The side the bomb declares.
pub const BOMB_SIDE: u32 = 23_000;

/// The bomb PNG, written row by row (never whole in memory).
pub fn bomb_png(side: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().expect("a valid PNG header");
    let mut rows = writer.stream_writer().expect("a PNG stream");
    let row_bytes = side.div_ceil(8) as usize;
    let white = vec![0xFF; row_bytes];
    let mut specks = white.clone();
    specks[0] = 0;
    specks[row_bytes - 1] = 0;
    for y in 0..side {
        let row = if y < 8 || y >= side - 8 {
            &specks
        } else {
            &white
        };
        rows.write_all(row).expect("writing to memory");
    }
    rows.finish().expect("a complete PNG");
    writer.finish().ok();
    out
}
