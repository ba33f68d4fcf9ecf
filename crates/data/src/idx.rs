//! Reader for the IDX format MNIST is published in.
//!
//! An IDX file is a big-endian header — two zero bytes, a type byte (0x08 = unsigned byte), the
//! number of dimensions, then one `u32` per dimension — followed by the data. Images use magic
//! 2051 (`0x00000803`, 3 dimensions: count, rows, columns) and labels 2049 (`0x00000801`, one
//! dimension: count). The files are usually gzipped; whether a file is gzipped is decided by
//! its first two bytes, not by its name.
//!
//! Reading is streamed and bounded by the header: the header is read and checked first (magic,
//! 28x28, at most [`MAX_ITEMS`] items), then exactly the number of data bytes it announces, and
//! one byte more is an error. A gzip bomb therefore costs what its header declares (at most
//! [`MAX_ITEMS`] digits), never what it would inflate to. Gzip files of several members (as
//! `cat a.gz b.gz` or `pigz` make them) are read as one stream.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use model::{IMAGE_PIXELS, IMAGE_SIZE};

use crate::DataError;

/// Magic number of an IDX file of unsigned-byte images.
pub const IMAGES_MAGIC: u32 = 2051;
/// Magic number of an IDX file of unsigned-byte labels.
pub const LABELS_MAGIC: u32 = 2049;

/// Most items (images or labels) one file may announce. MNIST has 60,000 and the largest
/// digit sets in the same format (EMNIST digits, QMNIST's NIST part) fewer than 500,000; a
/// million leaves room while capping what a header can make the reader allocate and inflate
/// at 784 MB of pixels.
pub const MAX_ITEMS: u32 = 1_000_000;

const GZIP_SIGNATURE: [u8; 2] = [0x1f, 0x8b];

/// Data bytes reserved before any is read: all of MNIST's largest file (47 MB) in one
/// allocation, but not a header's word for more.
const INITIAL_RESERVE: usize = 64 << 20;

/// Which of the two IDX layouts MNIST uses a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxKind {
    /// 28x28 unsigned-byte images (magic 2051).
    Images,
    /// Unsigned-byte labels, each a digit 0-9 (magic 2049).
    Labels,
}

impl IdxKind {
    /// The magic number (first header word) of this kind of file.
    pub fn magic(self) -> u32 {
        match self {
            Self::Images => IMAGES_MAGIC,
            Self::Labels => LABELS_MAGIC,
        }
    }

    /// Length of the header in bytes: the magic and one word per dimension.
    pub fn header_len(self) -> usize {
        match self {
            Self::Images => 16,
            Self::Labels => 8,
        }
    }

    /// Bytes of data per item.
    fn item_len(self) -> usize {
        match self {
            Self::Images => IMAGE_PIXELS,
            Self::Labels => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Images => "images",
            Self::Labels => "labels",
        }
    }
}

/// One IDX file, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    /// What it holds.
    pub kind: IdxKind,
    /// Number of items (images or labels).
    pub count: usize,
    /// The header as it was in the file (8 or 16 bytes).
    pub header: Vec<u8>,
    /// The data: `count` labels, or `count` row-major 28x28 images one after the other.
    pub data: Vec<u8>,
}

/// Reads and checks an IDX file of `kind`, gzipped or raw.
pub fn read_idx(path: &Path, kind: IdxKind) -> Result<Idx, DataError> {
    let file = crate::regular::open_regular(path).map_err(|source| match source.kind() {
        ErrorKind::NotFound => DataError::Missing { path: path.into() },
        _ => DataError::Io {
            path: path.into(),
            source,
        },
    })?;
    read_idx_from(path, BufReader::new(file), kind)
}

/// [`read_idx`] from any reader; `path` only names the input in errors.
pub fn read_idx_from(path: &Path, mut input: impl Read, kind: IdxKind) -> Result<Idx, DataError> {
    let io_err = |source| DataError::Io {
        path: path.into(),
        source,
    };
    let mut signature = [0u8; 2];
    let got = read_full(&mut input, &mut signature).map_err(io_err)?;
    let input = (&signature[..got]).chain(input);
    if signature[..got] == GZIP_SIGNATURE {
        read_stream(path, MultiGzDecoder::new(input), kind, |source| {
            DataError::Gzip {
                path: path.into(),
                source,
            }
        })
    } else {
        read_stream(path, input, kind, io_err)
    }
}

/// Reads the header, checks it, then reads exactly the data it announces and makes sure
/// nothing follows. `err` turns a read failure into the error of this kind of stream.
fn read_stream<R: Read>(
    path: &Path,
    mut stream: R,
    kind: IdxKind,
    err: impl Fn(std::io::Error) -> DataError,
) -> Result<Idx, DataError> {
    let mut header = vec![0u8; kind.header_len()];
    let got = read_full(&mut stream, &mut header).map_err(&err)?;
    let words: Vec<u32> = header[..got]
        .chunks_exact(4)
        .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
        .collect();
    match words.first() {
        Some(&found) if found != kind.magic() => {
            return Err(DataError::BadMagic {
                path: path.into(),
                kind: kind.name(),
                found,
                expected: kind.magic(),
            });
        }
        _ if got < header.len() => {
            return Err(DataError::Truncated {
                path: path.into(),
                expected: header.len(),
                found: got,
            });
        }
        _ => {}
    }
    if let [_, _, rows, cols] = words[..]
        && (rows as usize, cols as usize) != (IMAGE_SIZE, IMAGE_SIZE)
    {
        return Err(DataError::WrongDimensions {
            path: path.into(),
            rows,
            cols,
        });
    }
    let count = words[1];
    if count > MAX_ITEMS {
        return Err(DataError::TooManyItems {
            path: path.into(),
            count,
            max: MAX_ITEMS,
        });
    }
    let count = count as usize;
    let expected = count * kind.item_len();
    // Grown as the data arrives beyond the first reservation: a header that announces a
    // million digits in front of a few bytes costs no more than the bytes.
    let mut data = Vec::with_capacity(expected.min(INITIAL_RESERVE));
    (&mut stream)
        .take(expected as u64)
        .read_to_end(&mut data)
        .map_err(&err)?;
    if data.len() < expected {
        return Err(DataError::Truncated {
            path: path.into(),
            expected,
            found: data.len(),
        });
    }
    // Reading on to the end also checks the last gzip member's CRC and length.
    if read_full(&mut stream, &mut [0u8; 1]).map_err(&err)? > 0 {
        return Err(DataError::TrailingData {
            path: path.into(),
            expected: header.len() + expected,
        });
    }
    if kind == IdxKind::Labels
        && let Some((index, &label)) = data.iter().enumerate().find(|(_, l)| **l > 9)
    {
        return Err(DataError::BadLabel {
            path: path.into(),
            index,
            label,
        });
    }
    Ok(Idx {
        kind,
        count,
        header,
        data,
    })
}

/// Fills `buf` as far as the stream allows; returns how many bytes were read (less than
/// `buf.len()` only at the end of the stream).
fn read_full(stream: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
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
    write_maybe_gzip(images_path, &images_header(count), images)?;
    write_maybe_gzip(labels_path, &labels_header(count), labels)
}

/// The 16-byte header of an IDX file of `count` 28x28 images.
pub fn images_header(count: u32) -> Vec<u8> {
    [IMAGES_MAGIC, count, IMAGE_SIZE as u32, IMAGE_SIZE as u32]
        .iter()
        .flat_map(|w| w.to_be_bytes())
        .collect()
}

/// The 8-byte header of an IDX file of `count` labels.
pub fn labels_header(count: u32) -> Vec<u8> {
    [LABELS_MAGIC, count]
        .iter()
        .flat_map(|w| w.to_be_bytes())
        .collect()
}

fn write_maybe_gzip(path: &Path, header: &[u8], data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(File::create(path)?);
    if path.extension().is_some_and(|e| e == "gz") {
        let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        enc.write_all(header)?;
        enc.write_all(data)?;
        enc.finish()?.flush()
    } else {
        file.write_all(header)?;
        file.write_all(data)?;
        file.flush()
    }
}
