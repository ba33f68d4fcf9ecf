//! Bounds on a `torch.save` file, checked before burn-store's PyTorch reader parses it.
//!
//! The reader runs the file's pickle (`data.pkl`) on a pickle machine whose memory grows with
//! the opcodes it executes: a few KB of deflated `EMPTY_LIST` or `MARK` opcodes take hundreds
//! of MB (about 175 bytes of memory per opcode byte). This network's `data.pkl` is about 1 KB
//! (eight tensors), so the pickle is refused when it inflates to more than [`MAX_PICKLE_BYTES`],
//! read here through the `zip` crate with the inflation itself stopped at the bound (the size in
//! the ZIP directory can lie). The ZIP's central directory, which the reader holds in memory
//! entry by entry, is bounded too ([`MAX_CENTRAL_DIRECTORY_BYTES`]). A file in one of the older
//! layouts (a bare pickle, PyTorch's pre-1.6 legacy or TAR formats) is a pickle from its first
//! byte, with nothing to bound it by but its size: such a file is read only up to
//! [`MAX_PICKLE_BYTES`].

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::InferError;

/// The most bytes a `.pt` file's pickle may inflate to (64 KiB; the lecture network's is
/// about 1 KB, a `{"state_dict": ..., "epoch": n, "optimizer": ...}` checkpoint a few KB).
pub const MAX_PICKLE_BYTES: u64 = 64 << 10;
/// The largest ZIP central directory read (1 MiB, about 20,000 entries; a state_dict of this
/// network has a dozen).
pub const MAX_CENTRAL_DIRECTORY_BYTES: u64 = 1 << 20;

const ZIP_MAGIC: [&[u8]; 2] = [b"PK\x03\x04", b"PK\x05\x06"];
const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIGNATURE: u32 = 0x0606_4b50;
/// The end-of-central-directory record: 22 bytes and a comment of at most 65,535.
const EOCD_SEARCH: u64 = 22 + 0xFFFF;

/// Checks the bounds of the module documentation on the PyTorch file at `path`.
pub(crate) fn check(path: &Path) -> Result<(), InferError> {
    let read_error = |source| InferError::Read {
        path: path.into(),
        source,
    };
    let mut file = data::regular::open_regular(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    let mut magic = Vec::with_capacity(4);
    (&mut file)
        .take(4)
        .read_to_end(&mut magic)
        .map_err(read_error)?;
    if !ZIP_MAGIC.contains(&magic.as_slice()) {
        return if size > MAX_PICKLE_BYTES {
            Err(bound(
                path,
                "a file that is not torch.save's ZIP format",
                size,
            ))
        } else {
            Ok(())
        };
    }
    let directory = central_directory_size(&mut file, size).map_err(read_error)?;
    if let Some(directory) = directory
        && directory > MAX_CENTRAL_DIRECTORY_BYTES
    {
        return Err(InferError::PytorchBound {
            path: path.into(),
            what: "its ZIP central directory",
            limit: MAX_CENTRAL_DIRECTORY_BYTES,
            size: directory,
        });
    }
    file.seek(SeekFrom::Start(0)).map_err(read_error)?;
    // A ZIP this reader cannot read (truncated, corrupt) is left to burn-store's reader, which
    // uses the same `zip` crate: it refuses the file the same way, before any pickle is parsed,
    // and its error is the one every malformed `.pt` gets.
    let Ok(mut archive) = zip::ZipArchive::new(BufReader::new(file)) else {
        return Ok(());
    };
    // Every entry the reader could take for the pickle: `data.pkl` at the root or in a folder.
    let pickles: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .filter(|name| {
            name.strip_suffix("data.pkl")
                .is_some_and(|root| root.is_empty() || root.ends_with('/'))
        })
        .map(|name| name.into_owned())
        .collect();
    for name in pickles {
        let Ok(entry) = archive.by_name(&name) else {
            return Ok(());
        };
        let mut inflated = 0u64;
        let mut chunk = [0u8; 8192];
        let mut bounded = entry.take(MAX_PICKLE_BYTES + 1);
        // A stream that fails before the bound (corrupt deflate, bad checksum) fails the same
        // way in the reader.
        while let Ok(n @ 1..) = bounded.read(&mut chunk) {
            inflated += n as u64;
        }
        if inflated > MAX_PICKLE_BYTES {
            return Err(bound(path, "its pickle (data.pkl, inflated)", inflated));
        }
    }
    Ok(())
}

fn bound(path: &Path, what: &'static str, size: u64) -> InferError {
    InferError::PytorchBound {
        path: path.into(),
        what,
        limit: MAX_PICKLE_BYTES,
        size,
    }
}

/// The size of the ZIP's central directory, from its end record (the ZIP64 one when the
/// classic record defers to it); `None` when no end record is found (the ZIP reader then
/// refuses the file itself).
fn central_directory_size(file: &mut File, size: u64) -> std::io::Result<Option<u64>> {
    let start = size.saturating_sub(EOCD_SEARCH);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.take(EOCD_SEARCH).read_to_end(&mut tail)?;
    let Some(at) = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| le_u32(&tail[i..]) == Some(EOCD_SIGNATURE))
    else {
        return Ok(None);
    };
    let classic = le_u32(&tail[at + 12..]).map(u64::from);
    if classic != Some(0xFFFF_FFFF) {
        return Ok(classic);
    }
    // ZIP64: a 20-byte locator right before the end record gives the ZIP64 record's offset.
    let locator = start + at as u64;
    if locator < 20 {
        return Ok(None);
    }
    let mut record = [0u8; 20];
    file.seek(SeekFrom::Start(locator - 20))?;
    file.read_exact(&mut record)?;
    if le_u32(&record) != Some(ZIP64_LOCATOR_SIGNATURE) {
        return Ok(None);
    }
    let offset = u64::from_le_bytes(record[8..16].try_into().unwrap_or_default());
    let mut zip64 = [0u8; 56];
    file.seek(SeekFrom::Start(offset))?;
    if file.read_exact(&mut zip64).is_err() || le_u32(&zip64) != Some(ZIP64_EOCD_SIGNATURE) {
        return Ok(None);
    }
    Ok(Some(u64::from_le_bytes(
        zip64[40..48].try_into().unwrap_or_default(),
    )))
}

fn le_u32(bytes: &[u8]) -> Option<u32> {
    bytes.first_chunk::<4>().map(|b| u32::from_le_bytes(*b))
}
