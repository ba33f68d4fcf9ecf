//! The replay loop every crate's `tests/fuzz_corpus.rs` shares: runs each committed corpus file of
//! one fuzz target through that target's harness, on stable and without sanitizers, so every
//! input the fuzzer kept stays a regression test (errors are fine, a panic is a failure).

use std::path::Path;

/// Replays `fuzz/corpus/<target>` (relative to the crate at `manifest_dir`) through `run`;
/// fails if the corpus is missing or empty, or names every file that panicked.
pub fn corpus(manifest_dir: &str, target: &str, run: fn(&[u8])) {
    let dir = Path::new(manifest_dir)
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no corpus file", dir.display());
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("a readable corpus file");
            std::panic::catch_unwind(|| run(&data)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "panicked on: {failed:?}");
}
