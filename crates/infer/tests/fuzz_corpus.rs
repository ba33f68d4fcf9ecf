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

#[path = "../../../fuzz/harness/pytorch_load.rs"]
mod pytorch_load;
#[path = "../../../fuzz/harness/safetensors_load.rs"]
mod safetensors_load;

/// The `pytorch_load` target's corpus: arbitrary bytes as a `.pt` through `Predictor::load`.
#[test]
fn pytorch_load_corpus_replays_without_panic() {
    replay::corpus(
        env!("CARGO_MANIFEST_DIR"),
        "pytorch_load",
        pytorch_load::run,
    );
}

/// The `safetensors_load` target's corpus: arbitrary bytes as a `.safetensors`.
#[test]
fn safetensors_load_corpus_replays_without_panic() {
    replay::corpus(
        env!("CARGO_MANIFEST_DIR"),
        "safetensors_load",
        safetensors_load::run,
    );
}
