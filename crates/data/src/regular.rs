//! Opening a file a user named, refusing anything that is not a regular file.
//!
//! Opening a FIFO for reading blocks until something writes to it, and reading a device
//! (`/dev/zero`, a terminal) may never end: a program told to read a configuration, a history
//! or a model from such a path would hang instead of answering. Every path a user controls in
//! `data`, `infer` and `train` is opened through [`open_regular`].

use std::fs::File;
use std::io::{Error, ErrorKind};
use std::path::Path;

/// The error of [`open_regular`] on a path that is not a regular file.
fn not_regular() -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        "not a regular file (a FIFO, a device or a directory)",
    )
}

/// Opens `path` for reading if it is a regular file (following symbolic links), and fails with
/// [`ErrorKind::InvalidInput`] otherwise, without opening it: the open itself is what blocks on
/// a FIFO. Checked again on the open handle, in case the path was replaced in between.
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    let file = File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    Ok(file)
}

/// Whether `error` is [`open_regular`]'s refusal.
pub fn is_not_regular(error: &Error) -> bool {
    error.kind() == ErrorKind::InvalidInput
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn fifos_devices_and_directories_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        for path in [fifo.as_path(), Path::new("/dev/zero"), dir.path()] {
            let err = open_regular(path).unwrap_err();
            assert!(is_not_regular(&err), "{}: {err}", path.display());
        }
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(open_regular(&file).is_ok());
        assert_eq!(
            open_regular(&dir.path().join("absent")).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
}
