//! Fuzz target `safetensors_load`: see harness/safetensors_load.rs, which `cargo test` also replays the corpus through.
#![no_main]

#[path = "../harness/safetensors_load.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
