//! Replays the committed corpus of the `model_config` fuzz target (fuzz/corpus/model_config) through the target's
//! own harness (fuzz/harness/model_config.rs), on stable and without sanitizers, so that every input the
//! fuzzer kept stays a regression test: each must go through without a panic (errors are fine).

#[path = "../../../fuzz/harness/model_config.rs"]
mod harness;
#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn corpus_replays_without_panic() {
    replay::corpus(env!("CARGO_MANIFEST_DIR"), "model_config", harness::run);
}
