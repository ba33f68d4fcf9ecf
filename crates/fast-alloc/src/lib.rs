//! mimalloc as the global allocator of every binary that links this crate, and the one option
//! it is run with: [`init`], called first thing in each binary's `main`.
//!
//! Why mimalloc: Burn's CPU backends allocate a fresh buffer for every op's output, and glibc's
//! malloc returns those pages to the kernel and faults them back in step after step; mimalloc
//! keeps them. The gain is measured in crates/bench/README.md ("Changes, each measured",
//! mimalloc). Libraries never set the allocator: only programs choose it, by depending on this
//! crate.
//!
//! Why the option: mimalloc still returns memory it has not reused for a second (its purge
//! delay), and a training step's large buffers (conv patches, gemm's packed panels) were
//! returned and faulted back in often enough to cost ~5 % of a step: 10,954 page faults in 200
//! batch-64 steps at the default, about 370 (the start-up's) with a delay of 3 s or more
//! (`perf stat -e page-faults`, crates/bench/README.md). [`PURGE_DELAY_MS`] keeps that margin;
//! an idle server still gives its memory back after it.
//!
//! This crate is one of the workspace's two exceptions to `unsafe_code = "forbid"` (Cargo.toml:
//! `deny` here, allowed on [`init`] alone): setting a mimalloc option is a foreign call. The
//! other is `sgemm`'s call into `gemm`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long mimalloc keeps freed memory before returning it to the kernel, in milliseconds
/// (its default: 1,000).
pub const PURGE_DELAY_MS: std::ffi::c_long = 10_000;

/// mimalloc's `mi_option_purge_delay`: its place in the `mi_option_e` enum of the mimalloc
/// (v3) that libmimalloc-sys builds (`include/mimalloc.h`), which the sys crate does not name.
/// The test below checks it is that option by its default, 1,000 ms, which no other has.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets mimalloc's options. Call it at the start of `main`, before any thread is spawned:
/// mimalloc's option setter is not thread safe.
#[allow(unsafe_code)]
pub fn init() {
    // SAFETY: `mi_option_set` stores a value in mimalloc's option table; it takes plain integers
    // and has no other precondition than not racing another option call, which calling it
    // first in `main` (one thread) rules out.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option's value: reading one has no precondition.
    #[allow(unsafe_code)]
    fn purge_delay() -> std::ffi::c_long {
        // SAFETY: `mi_option_get` reads mimalloc's option table; this crate's one test is the
        // only code in its process that sets an option.
        unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }
    }

    #[test]
    fn init_sets_the_purge_delay() {
        // mimalloc's default for the purge delay (unless MIMALLOC_PURGE_DELAY is set): the
        // option number is the purge delay's.
        assert_eq!(purge_delay(), 1_000);
        init();
        assert_eq!(purge_delay(), PURGE_DELAY_MS);
    }
}
