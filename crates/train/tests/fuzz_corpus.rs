//! Replays the committed corpus of the `history_curves` fuzz target (fuzz/corpus/history_curves)
//! through the target's own harness (fuzz/harness/history_curves.rs), on stable and without
//! sanitizers, so that every input the fuzzer kept stays a regression test: each must parse or
//! be refused, and draw when it parses, without a panic.

#[path = "../../../fuzz/harness/history_curves.rs"]
mod harness;
#[path = "../../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn corpus_replays_without_panic() {
    replay::corpus(env!("CARGO_MANIFEST_DIR"), "history_curves", harness::run);
}
