//! Fuzz target `history_curves`: see harness/history_curves.rs, which `cargo test` also replays the corpus through.
#![no_main]

#[path = "../harness/history_curves.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
