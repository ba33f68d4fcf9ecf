//! Reader for the IDX format MNIST is published in.
//!
//! An IDX file is a big-endian header — two zero bytes, a type byte (0x08 = unsigned byte), the
//! number of dimensions, then one `u32` per dimension — followed by the data. Images use magic
//! 2051 (`0x00000803`, 3 dimensions: count, rows, columns) and labels 2049 (`0x00000801`, one
//! dimension: count). The files are usually gzipped; whether a file is gzipped is decided by
//! its first two bytes, not by its name.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use model::{IMAGE_PIXELS, IMAGE_SIZE};

use crate::DataError;

/// Magic number of an IDX file of unsigned-byte images.
pub const IMAGES_MAGIC: u32 = 2051;
/// Magic number of an IDX file of unsigned-byte labels.
pub const LABELS_MAGIC: u32 = 2049;

const GZIP_SIGNATURE: [u8; 2] = [0x1f, 0x8b];

/// Reads a file, decompressing it when it starts with the gzip signature.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => DataError::Missing { path: path.into() },
        _ => DataError::Io {
            path: path.into(),
            source,
        },
    })?;
    if !raw.starts_with(&GZIP_SIGNATURE) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    GzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|source| DataError::Gzip {
            path: path.into(),
            source,
        })?;
    Ok(out)
}

/// Parses IDX image data (already decompressed): returns the image count and the pixels, one
/// row-major 28x28 image after the other.
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<(usize, Vec<u8>), DataError> {
    let header = header(path, bytes, "images", IMAGES_MAGIC, 16)?;
    let (count, rows, cols) = (header[1], header[2], header[3]);
    if (rows as usize, cols as usize) != (IMAGE_SIZE, IMAGE_SIZE) {
        return Err(DataError::WrongDimensions {
            path: path.into(),
            rows,
            cols,
        });
    }
    let data = body(path, bytes, 16, count as usize * IMAGE_PIXELS)?;
    Ok((count as usize, data.to_vec()))
}

/// Parses IDX label data (already decompressed); every label must be a digit.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let header = header(path, bytes, "labels", LABELS_MAGIC, 8)?;
    let labels = body(path, bytes, 8, header[1] as usize)?;
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
        return Err(DataError::BadLabel {
            path: path.into(),
            index,
            label,
        });
    }
    Ok(labels.to_vec())
}

/// The header as big-endian `u32`s (magic first), checked for the magic number.
fn header(
    path: &Path,
    bytes: &[u8],
    kind: &'static str,
    magic: u32,
    len: usize,
) -> Result<Vec<u32>, DataError> {
    let words: Vec<u32> = bytes
        .chunks_exact(4)
        .take(len / 4)
        .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
        .collect();
    match words.first() {
        Some(&found) if found != magic => Err(DataError::BadMagic {
            path: path.into(),
            kind,
            found,
            expected: magic,
        }),
        _ if words.len() < len / 4 => Err(DataError::Truncated {
            path: path.into(),
            expected: len,
            found: bytes.len(),
        }),
        _ => Ok(words),
    }
}

fn body<'a>(
    path: &Path,
    bytes: &'a [u8],
    offset: usize,
    len: usize,
) -> Result<&'a [u8], DataError> {
    bytes
        .get(offset..offset + len)
        .ok_or_else(|| DataError::Truncated {
            path: PathBuf::from(path),
            expected: len,
            found: bytes.len().saturating_sub(offset),
        })
}

/// Writes IDX image and label files (raw, or gzipped when the name ends in `.gz`). Used to make
/// test fixtures and small subsets; MNIST's own files are never rewritten.
pub fn write_idx(
    images_path: &Path,
    labels_path: &Path,
    images: &[u8],
    labels: &[u8],
) -> std::io::Result<()> {
    let count = labels.len() as u32;
    assert_eq!(
        images.len(),
        labels.len() * IMAGE_PIXELS,
        "one 28x28 image per label"
    );
    let mut image_file = Vec::with_capacity(16 + images.len());
    for word in [IMAGES_MAGIC, count, IMAGE_SIZE as u32, IMAGE_SIZE as u32] {
        image_file.extend_from_slice(&word.to_be_bytes());
    }
    image_file.extend_from_slice(images);
    let mut label_file = Vec::with_capacity(8 + labels.len());
    for word in [LABELS_MAGIC, count] {
        label_file.extend_from_slice(&word.to_be_bytes());
    }
    label_file.extend_from_slice(labels);
    write_maybe_gzip(images_path, &image_file)?;
    write_maybe_gzip(labels_path, &label_file)
}

fn write_maybe_gzip(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes)?;
        std::fs::write(path, enc.finish()?)
    } else {
        std::fs::write(path, bytes)
    }
}
