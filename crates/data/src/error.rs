//! Everything that can go wrong while finding, fetching or reading MNIST.

use std::path::PathBuf;

/// A failure to provide MNIST data. Every variant names the file concerned, so that a binary
/// can print it as one line.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file does not exist.
    #[error("{path}: file not found")]
    Missing {
        /// The path that was looked for.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file starts with the gzip signature but does not decompress.
    #[error("{path}: corrupt gzip data")]
    Gzip {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        source: std::io::Error,
    },
    /// The IDX header's magic number is not the one for this kind of file.
    #[error("{path}: not an IDX {kind} file (magic number {found}, expected {expected})")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// "images" or "labels".
        kind: &'static str,
        /// The magic number read.
        found: u32,
        /// The magic number wanted (2051 for images, 2049 for labels).
        expected: u32,
    },
    /// The images are not 28x28.
    #[error("{path}: images are {rows}x{cols}, expected 28x28")]
    WrongDimensions {
        /// The file.
        path: PathBuf,
        /// Rows per image in the header.
        rows: u32,
        /// Columns per image in the header.
        cols: u32,
    },
    /// The file is shorter than an IDX header, or than the data its header announces.
    #[error("{path}: truncated: expected {expected} bytes (header or data), found {found}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header calls for.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The header announces more items than [`crate::idx::MAX_ITEMS`]: refused before any data
    /// is read, so that a header cannot make the reader allocate or inflate without bound.
    #[error("{path}: header announces {count} items, more than the {max} this reader accepts")]
    TooManyItems {
        /// The file.
        path: PathBuf,
        /// Items the header announces.
        count: u32,
        /// The limit.
        max: u32,
    },
    /// The file goes on after the data its header announces (trailing garbage, or a gzip
    /// bomb behind a small header). Reading stops at the first extra byte.
    #[error("{path}: data continues past the {expected} bytes the header announces")]
    TrailingData {
        /// The file.
        path: PathBuf,
        /// Bytes (header and data, decompressed) the header calls for.
        expected: usize,
    },
    /// Image and label files disagree on the number of items.
    #[error("{images_path}: {images} images, but {labels_path} has {labels} labels")]
    CountMismatch {
        /// The images file.
        images_path: PathBuf,
        /// Its item count.
        images: usize,
        /// The labels file.
        labels_path: PathBuf,
        /// Its item count.
        labels: usize,
    },
    /// A label is not a digit.
    #[error("{path}: label {label} at index {index} is not a digit 0-9")]
    BadLabel {
        /// The labels file.
        path: PathBuf,
        /// Position of the bad label.
        index: usize,
        /// Its value.
        label: u8,
    },
    /// A downloaded file's decompressed content does not have the published SHA-256.
    #[error("{url}: checksum mismatch (SHA-256 {found}, expected {expected}); file discarded")]
    ChecksumMismatch {
        /// Where it came from.
        url: String,
        /// The digest computed.
        found: String,
        /// The published digest.
        expected: String,
    },
    /// No local copy, and no mirror could provide one.
    #[error(
        "MNIST file {file} is not in {dir} and could not be downloaded ({attempts}); \
         provide the four files train-images-idx3-ubyte, train-labels-idx1-ubyte, \
         t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (.gz or raw) with --data-dir DIR, \
         the MNIST_DIR environment variable, or by placing them in {dir}"
    )]
    Unavailable {
        /// The first file that could not be obtained.
        file: &'static str,
        /// The cache directory they were expected in.
        dir: PathBuf,
        /// What each mirror answered, `; `-separated.
        attempts: String,
    },
    /// The cache lacks a file, and this build has no downloader (the `download` feature).
    #[error(
        "MNIST file {file} is not in {dir}, and this program cannot download it; provide the four \
         files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, \
         t10k-labels-idx1-ubyte (.gz or raw) with --data-dir DIR or the MNIST_DIR environment \
         variable (`cargo run -p train` downloads them into {dir})"
    )]
    NotDownloaded {
        /// The first missing file's stem.
        file: &'static str,
        /// The cache directory.
        dir: PathBuf,
    },
    /// A directory given explicitly lacks a file.
    #[error(
        "{dir} ({origin}) has no {file}[.gz]; it must hold train-images-idx3-ubyte, \
         train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, gzipped or raw"
    )]
    NotInDir {
        /// The directory searched.
        dir: PathBuf,
        /// How it was chosen ("--data-dir", "MNIST_DIR").
        origin: &'static str,
        /// The missing file's stem.
        file: &'static str,
    },
    /// The validation split asks for more digits than the training set has.
    #[error("validation size {valid_size} must be smaller than the {available} training digits")]
    BadSplit {
        /// Requested validation size.
        valid_size: usize,
        /// Digits available.
        available: usize,
    },
    /// The cache directory cannot be determined (no `XDG_CACHE_HOME` and no `HOME`).
    #[error("no cache directory: set XDG_CACHE_HOME or HOME, or pass --data-dir")]
    NoCacheDir,
}
