//! Fuzz target `predict_body`: see harness/predict_body.rs, which `cargo test` also replays the corpus through.
#![no_main]

#[path = "../harness/predict_body.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
