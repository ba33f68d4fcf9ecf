//! When a kernel's pass goes to rayon's pool and when it stays on the calling thread.

/// Below this many values a pass runs on the calling thread without touching rayon: a job
/// handed to rayon's pool from a thread outside it puts the caller to sleep while a worker runs
/// it, two thread switches per pass even for one task. At batch 1 (conv2's patches are 35k
/// values) that cost more than the passes themselves: with one rayon thread, 40 % of a batch-1
/// forward's samples were the scheduler's (`perf`, crates/bench/README.md, issue 26).
const PARALLEL_MIN_VALUES: usize = 1 << 16;

/// Whether a pass over `values` values should run on rayon's pool.
pub(crate) fn parallel(values: usize) -> bool {
    values >= PARALLEL_MIN_VALUES
}
