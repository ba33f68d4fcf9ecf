//! When a kernel's pass goes to rayon's pool and when it stays on the calling thread.

use rayon::prelude::*;

/// Below this many values a pass runs on the calling thread without touching rayon: a job
/// handed to rayon's pool from a thread outside it puts the caller to sleep while a worker runs
/// it, two thread switches per pass even for one task. At batch 1 (conv2's patches are 35k
/// values) that cost more than the passes themselves: with one rayon thread, 40 % of a batch-1
/// forward's samples were the scheduler's (`perf`, crates/bench/README.md, issue 26).
const PARALLEL_MIN_VALUES: usize = 1 << 16;

/// Runs `work` on each of `tasks` (independent chunks of a pass over `values` values): on
/// rayon's pool when the pass is large, else in order on the calling thread.
pub(crate) fn for_each_task<T: Send>(
    values: usize,
    tasks: impl Iterator<Item = T>,
    work: impl Fn(T) + Sync + Send,
) {
    if values >= PARALLEL_MIN_VALUES {
        tasks.collect::<Vec<_>>().into_par_iter().for_each(work);
    } else {
        tasks.for_each(work);
    }
}
