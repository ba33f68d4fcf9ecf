//! The names of the backends and of the `--device` choices: plain data, which the flags,
//! `BURN_DEVICE`, `metrics.json` and the errors use; choosing a device from them is
//! `backend.rs`.

use std::fmt;

use clap::ValueEnum;

/// A Burn backend this crate can be built with (one cargo feature each).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Burn's CPU backend (feature `flex`, the default).
    Flex,
    /// The ndarray CPU backend (feature `ndarray`; deprecated in Burn 0.22, still supported).
    Ndarray,
    /// The GPU backend on Vulkan, Metal or DX12 (feature `wgpu`).
    Wgpu,
    /// A device another process serves (`serve-device`, feature `remote`): reached by its
    /// address through `--devices remote:ws://HOST:PORT`, so neither a flag value nor a
    /// `BURN_DEVICE` name.
    #[value(skip)]
    Remote,
}

impl fmt::Display for Backend {
    /// The name the flags, `BURN_DEVICE` and `metrics.json` use: `flex`, `ndarray`, `wgpu`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_possible_value() {
            Some(value) => f.pad(value.get_name()),
            // The one variant hidden from the flags.
            None => f.pad("remote"),
        }
    }
}

/// What the user asked for with `--device`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, ValueEnum)]
pub enum DeviceChoice {
    /// The GPU when one is compiled in, else the CPU (`BURN_DEVICE` can name a backend).
    #[default]
    Auto,
    /// The fastest CPU backend compiled in (flex, else ndarray).
    Cpu,
    /// The GPU backend (wgpu).
    Gpu,
}
