//! mimalloc as the global allocator of every binary that links this crate
//! (`use fast_alloc as _;` in its `main.rs`).
//!
//! Why: Burn's CPU backends allocate a fresh buffer for every op's output, and glibc's malloc
//! returns those pages to the kernel and faults them back in step after step; mimalloc keeps
//! them. The gain is measured in crates/bench/README.md ("Changes, each measured", mimalloc).
//! Libraries never set the allocator: only programs choose it, by depending on this crate.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
