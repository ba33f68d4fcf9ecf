//! Fuzz target `safetensors_load`: see harness/model_import.rs (`safetensors`), which `cargo test` also replays the corpus through.
#![no_main]

#[path = "../harness/model_import.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::safetensors(data));
