//! Replays the committed corpus of the `image_preprocess` fuzz target (fuzz/corpus/image_preprocess) through the target's
//! own harness (fuzz/harness/image_preprocess.rs), on stable and without sanitizers, so that every input the
//! fuzzer kept stays a regression test: each must go through without a panic (errors are fine).

// The image stack is the `image` feature (on by default).
#![cfg(feature = "image")]

#[path = "../../../fuzz/harness/image_preprocess.rs"]
mod harness;
#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn corpus_replays_without_panic() {
    replay::corpus(env!("CARGO_MANIFEST_DIR"), "image_preprocess", harness::run);
}
