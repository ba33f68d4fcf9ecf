//! Replays the committed corpora of the `image_preprocess`, `pytorch_load` and
//! `safetensors_load` fuzz targets (fuzz/corpus/<target>) through the targets' own harnesses
//! (fuzz/harness/image_preprocess.rs, fuzz/harness/model_import.rs), on stable and without
//! sanitizers, so that every input the fuzzer kept stays a regression test: each must go through
//! without a panic (errors are fine).

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

#[path = "../../../fuzz/harness/model_import.rs"]
mod model_import;

/// The `pytorch_load` target's corpus: arbitrary bytes as a `.pt` through `Predictor::load`.
#[test]
fn pytorch_load_corpus_replays_without_panic() {
    replay::corpus(
        env!("CARGO_MANIFEST_DIR"),
        "pytorch_load",
        model_import::pytorch,
    );
}

/// The `safetensors_load` target's corpus: arbitrary bytes as a `.safetensors`.
#[test]
fn safetensors_load_corpus_replays_without_panic() {
    replay::corpus(
        env!("CARGO_MANIFEST_DIR"),
        "safetensors_load",
        model_import::safetensors,
    );
}
