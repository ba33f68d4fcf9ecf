//! Fuzz target `image_preprocess`: see harness/image_preprocess.rs, which `cargo test` also replays the corpus through.
#![no_main]

#[path = "../harness/image_preprocess.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
