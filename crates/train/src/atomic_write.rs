//! All-or-nothing writes for the run's JSON artifacts (`config.json`, `metrics.json`,
//! `history.jsonl`, `model/config.json`): a reader, or a run resumed after a kill, sees either
//! the previous file or the new one, never a truncated mix.
//!
//! The bytes go to a scratch file in the destination's directory (same filesystem, so the rename
//! is atomic on POSIX), are flushed to disk with `fsync`, and only then take the destination's
//! name. Burn's record writer (`.bpk` files) already works this way. A process killed mid-write
//! leaves a scratch file named `.<name>.<random>.tmp`; [`remove_scratch_files`] clears them
//! when the run is resumed.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

/// What every scratch file name ends with (ours and Burn's record writer's).
const SCRATCH_SUFFIX: &str = ".tmp";

/// How the destination is treated when it exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replace {
    /// Replace it.
    Yes,
    /// Fail with [`std::io::ErrorKind::AlreadyExists`]: the write claims the name.
    No,
}

/// Writes `bytes` to `path` atomically (see the module documentation).
pub fn write(path: &Path, bytes: &[u8], replace: Replace) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file path"))?;
    let mut scratch = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(SCRATCH_SUFFIX)
        .tempfile_in(dir)?;
    scratch.write_all(bytes)?;
    scratch.as_file().sync_all()?;
    match replace {
        Replace::Yes => scratch.persist(path).map_err(|e| e.error)?,
        Replace::No => scratch.persist_noclobber(path).map_err(|e| e.error)?,
    };
    // The rename itself is durable once the directory is synced; best effort (not every
    // platform can open a directory for it).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// `value` as pretty JSON, written atomically to `path`.
pub fn write_json<T: Serialize>(path: &Path, value: &T, replace: Replace) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    write(path, json.as_bytes(), replace)
}

/// Removes the scratch files a killed process left in `dir` (not recursive). Returns how many.
pub fn remove_scratch_files(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if is_scratch(&name) && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// A scratch name: ours (`.<name>.<random>.tmp`) or Burn's record writer's
/// (`<name>.bpk.<pid>-<n>.tmp`).
fn is_scratch(name: &str) -> bool {
    name.ends_with(SCRATCH_SUFFIX) && (name.starts_with('.') || name.contains(".bpk."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.json");
        write(&path, b"{\"old\": 1}", Replace::Yes).unwrap();
        write(&path, b"{\"new\": 2}", Replace::Yes).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"new\": 2}");

        // A write that fails (here: the value cannot be serialised) leaves the old file intact
        // and no scratch file behind.
        let mut bad = std::collections::HashMap::new();
        bad.insert(vec![1u8], 1); // a map with non-string keys is not JSON
        assert!(write_json(&path, &bad, Replace::Yes).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"new\": 2}");
        // A write whose scratch file cannot be made leaves the destination as it was.
        let missing = dir.path().join("no-such-dir/metrics.json");
        assert!(write(&missing, b"x", Replace::Yes).is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["metrics.json"], "{names:?}");
    }

    #[test]
    fn no_replace_claims_the_name_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        write(&path, b"first", Replace::No).unwrap();
        let err = write(&path, b"second", Replace::No).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn scratch_files_of_a_killed_writer_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            ".metrics.json.a1b2c3.tmp",
            "model-3.bpk.4242-0.tmp",
            "metrics.json",
            "notes.tmp",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        assert_eq!(remove_scratch_files(dir.path()).unwrap(), 2);
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["metrics.json", "notes.tmp"]);
    }
}
