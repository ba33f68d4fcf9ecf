//! Feature alignment for CI's builds, and nothing else: see this crate's `Cargo.toml`.
//!
//! It has no code, and no crate depends on it. As a member of the workspace it takes part in
//! every `--workspace` build, where its dependency list turns on the features that Burn's `remote`
//! feature would otherwise turn on low in the graph, so that CI's remote build reuses the crates
//! the test build compiled (measured in the README's "Build budget").
