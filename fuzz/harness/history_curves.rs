//! A `history.jsonl` through what `curves` and a resumed run do with it: `train::history`'s
//! parser, then (when it parses to at least one epoch) the last line per epoch and the picture
//! (`train::render`). Any number the JSON can hold (1.7e308, NaN as text, epoch
//! `usize::MAX`) must draw, in bounded time, into a PNG of the fixed size.

use std::path::Path;

/// Parses `data` as a history and draws it.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(history) = train::parse_history(Path::new("fuzz-input"), text) else {
        return;
    };
    let epochs = train::latest_per_epoch(history);
    if epochs.is_empty() {
        return;
    }
    let png = train::render(&epochs).expect("any parsed history draws");
    assert!(png.starts_with(b"\x89PNG"));
}
