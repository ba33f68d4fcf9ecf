//! The devices a run trains on: which backend and device (`backend.rs`: `--device`,
//! `--backend`), and the list of several (`list.rs`: `--devices`).

pub(crate) mod backend;
pub(crate) mod list;
pub(crate) mod names;
