//! Fuzz target `idx`: see harness/idx.rs, which `cargo test` also replays the corpus through.
#![no_main]

#[path = "../harness/idx.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
