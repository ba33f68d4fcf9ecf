//! Model files read whole, with a size bound checked before the read (and again while
//! reading: a file that grows, or a pipe, stops at the bound). Shared by every model format's
//! reader.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::InferError;

/// The largest model file read (256 MiB; the lecture's network is 3.4 MB, and a config with
/// 'same' padding and 4,096 hidden units about 52 MB). Files are read whole, so this bounds the
/// memory a wrong path can take.
pub const MAX_MODEL_BYTES: u64 = 256 << 20;
/// The largest `config.json` read.
pub(crate) const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The file `name` in the directory of `file`.
pub(crate) fn beside(file: &Path, name: &str) -> PathBuf {
    file.parent().unwrap_or(Path::new("")).join(name)
}

/// `path` if it is a regular file; one that exists but is not (a FIFO, a device, a directory)
/// is a read error saying so.
pub(crate) fn existing(path: PathBuf) -> Result<PathBuf, InferError> {
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(path),
        Ok(_) => Err(InferError::Read {
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (a FIFO, a device or a directory)",
            ),
            path,
        }),
        Err(_) => Err(InferError::MissingFile { path }),
    }
}

/// The whole of `path`, refused when it is larger than `limit` bytes.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, InferError> {
    let read_error = |source| InferError::Read {
        path: path.into(),
        source,
    };
    let too_large = |size| InferError::TooLarge {
        path: path.into(),
        size,
        limit,
    };
    let file = data::regular::open_regular(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // `take`: a file that grows while it is read still stops at the limit.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Checks that `path` is at most `limit` bytes without reading it (for readers that take a
/// path).
pub(crate) fn check_size(path: &Path, limit: u64) -> Result<(), InferError> {
    let size = std::fs::metadata(path)
        .map_err(|source| InferError::Read {
            path: path.into(),
            source,
        })?
        .len();
    if size > limit {
        return Err(InferError::TooLarge {
            path: path.into(),
            size,
            limit,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_stops_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.safetensors");
        std::fs::write(&file, [0u8; 100]).unwrap();
        assert_eq!(read_bounded(&file, 100).unwrap().len(), 100);
        let err = read_bounded(&file, 99).unwrap_err();
        assert!(
            matches!(
                err,
                InferError::TooLarge {
                    size: 100,
                    limit: 99,
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(
            check_size(&file, 99),
            Err(InferError::TooLarge { .. })
        ));
    }
}
