//! Fuzz target `pytorch_load`: see harness/model_import.rs (`pytorch`), which `cargo test` also replays the corpus through.
#![no_main]

#[path = "../harness/model_import.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::pytorch(data));
