//! Replays the committed corpus of the `predict_body` fuzz target (fuzz/corpus/predict_body) through the target's
//! own harness (fuzz/harness/predict_body.rs), on stable and without sanitizers, so that every input the
//! fuzzer kept stays a regression test: each must go through without a panic (errors are fine).

#[path = "../../../fuzz/harness/predict_body.rs"]
mod harness;
#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn corpus_replays_without_panic() {
    replay::corpus(env!("CARGO_MANIFEST_DIR"), "predict_body", harness::run);
}
