//! Fuzz target `model_config`: see harness/model_config.rs, which `cargo test` also replays the corpus through.
#![no_main]

#[path = "../harness/model_config.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
