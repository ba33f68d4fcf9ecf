//! Which backend trains: chosen at runtime among those compiled in by cargo features.

use std::fmt;

use burn::tensor::Device;
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

impl Backend {
    /// Whether this backend runs on a GPU.
    pub fn is_gpu(self) -> bool {
        self == Self::Wgpu
    }

    /// Whether this binary was compiled with this backend.
    pub fn is_compiled(self) -> bool {
        COMPILED_BACKENDS.contains(&self) || (self == Self::Remote && cfg!(feature = "remote"))
    }

    /// The device of this backend, if it is compiled in (the GPU is probed for an adapter).
    pub fn select(self) -> Result<SelectedDevice, DeviceError> {
        let device = match self {
            #[cfg(feature = "flex")]
            Self::Flex => Device::flex(),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            // deprecated in Burn 0.22 but still a supported backend
            Self::Ndarray => Device::ndarray(),
            Self::Wgpu => return gpu(),
            Self::Remote => return Err(DeviceError::RemoteNeedsAddress),
            #[allow(unreachable_patterns)] // every CPU backend compiled in
            _ => {
                return Err(DeviceError::NotCompiled {
                    backend: self,
                    compiled: compiled_list(),
                });
            }
        };
        Ok(SelectedDevice {
            device,
            backend: self,
        })
    }
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

/// A device with its backend.
#[derive(Clone, Debug)]
pub struct SelectedDevice {
    /// The device (without autodiff).
    pub device: Device,
    /// The backend the device belongs to.
    pub backend: Backend,
}

impl fmt::Display for SelectedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.backend, self.device)
    }
}

/// The backends this binary was compiled with: the GPU first, then the CPU backends, fastest
/// first (the order `--device auto` and `--device cpu` try them in).
pub const COMPILED_BACKENDS: &[Backend] = &[
    #[cfg(feature = "wgpu")]
    Backend::Wgpu,
    #[cfg(feature = "flex")]
    Backend::Flex,
    #[cfg(feature = "ndarray")]
    Backend::Ndarray,
];

/// Errors choosing a device.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// `--device gpu` without the `wgpu` feature.
    #[error("no GPU backend is compiled in; rebuild with `--features wgpu`, or use --device cpu")]
    NoGpuBackend,
    /// `--device cpu` without a CPU backend.
    #[error(
        "no CPU backend is compiled in; rebuild with `--features flex` or `--features ndarray`"
    )]
    NoCpuBackend,
    /// A backend that is not compiled into this binary.
    #[error("the {backend} backend is not compiled into this binary (compiled: {compiled})")]
    NotCompiled {
        /// The backend asked for.
        backend: Backend,
        /// The compiled backends, comma-separated.
        compiled: String,
    },
    /// `BURN_DEVICE` names no backend at all.
    #[error("BURN_DEVICE={0} names no backend (expected one of: flex, ndarray, wgpu)")]
    BadBurnDevice(String),
    /// `remote` names no device by itself.
    #[error("a remote device is named by its address: --devices remote:ws://HOST:PORT")]
    RemoteNeedsAddress,
    /// `--devices remote:...` without the `remote` feature.
    #[error("remote devices are not compiled into this binary; rebuild with `--features remote`")]
    RemoteNotCompiled,
    /// The remote device's server could not be reached or refused the session.
    #[cfg(feature = "remote")]
    #[error("cannot connect to the device served at {address} (is `serve-device` running there?)")]
    RemoteConnect {
        /// The `ws://HOST:PORT` address.
        address: String,
        /// Burn Remote's reason.
        #[source]
        source: burn::remote::ConnectError,
    },
    /// The GPU backend found no adapter (no driver, no GPU).
    #[cfg(feature = "wgpu")]
    #[error(
        "no GPU adapter found by wgpu; install a Vulkan, Metal or DX12 driver, or train on the CPU with --device cpu"
    )]
    NoAdapter(#[source] burn::backend::wgpu::wgpu::RequestAdapterError),
}

/// Resolves `choice` to a device of a compiled backend.
pub fn select(choice: DeviceChoice) -> Result<SelectedDevice, DeviceError> {
    match choice {
        DeviceChoice::Cpu => cpu(),
        DeviceChoice::Gpu => gpu(),
        DeviceChoice::Auto => match std::env::var("BURN_DEVICE").ok().as_deref() {
            Some(name) if !name.is_empty() => Backend::from_str(name, true)
                .map_err(|_| DeviceError::BadBurnDevice(name.into()))?
                .select(),
            _ => gpu().or_else(|_| cpu()),
        },
    }
}

fn compiled_list() -> String {
    COMPILED_BACKENDS
        .iter()
        .map(Backend::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn cpu() -> Result<SelectedDevice, DeviceError> {
    COMPILED_BACKENDS
        .iter()
        .find(|b| !b.is_gpu())
        .map_or(Err(DeviceError::NoCpuBackend), |b| b.select())
}

#[cfg(feature = "wgpu")]
fn gpu() -> Result<SelectedDevice, DeviceError> {
    probe_adapter()?;
    Ok(SelectedDevice {
        device: Device::wgpu(Default::default()),
        backend: Backend::Wgpu,
    })
}

#[cfg(not(feature = "wgpu"))]
fn gpu() -> Result<SelectedDevice, DeviceError> {
    Err(DeviceError::NoGpuBackend)
}

/// The `index`-th discrete GPU wgpu finds (`--devices gpu:N`).
#[cfg(feature = "wgpu")]
pub fn discrete_gpu(index: usize) -> Result<SelectedDevice, DeviceError> {
    probe_adapter()?;
    Ok(SelectedDevice {
        device: Device::wgpu(burn::tensor::DeviceKind::DiscreteGpu(index)),
        backend: Backend::Wgpu,
    })
}

/// The `index`-th discrete GPU wgpu finds (`--devices gpu:N`).
#[cfg(not(feature = "wgpu"))]
pub fn discrete_gpu(_index: usize) -> Result<SelectedDevice, DeviceError> {
    Err(DeviceError::NoGpuBackend)
}

/// The device `serve-device` serves at `address` (`ws://HOST:PORT`), connected now, so that an
/// unreachable server is an error here rather than inside the first training step.
#[cfg(feature = "remote")]
pub fn remote(address: &str) -> Result<SelectedDevice, DeviceError> {
    use burn::remote::RemoteHost;
    let device = Device::remote_options(&RemoteHost::websocket(address))
        .init()
        .map_err(|source| DeviceError::RemoteConnect {
            address: address.to_string(),
            source,
        })?;
    Ok(SelectedDevice {
        device,
        backend: Backend::Remote,
    })
}

/// The device `serve-device` serves at `address`: needs the `remote` feature.
#[cfg(not(feature = "remote"))]
pub fn remote(_address: &str) -> Result<SelectedDevice, DeviceError> {
    Err(DeviceError::RemoteNotCompiled)
}

/// Asks wgpu for the adapter Burn's default device would take (high performance, any graphics
/// API), so that a machine without one gets an error here instead of a panic inside the first
/// training step. It goes through the `wgpu` crate Burn itself re-exports (the exact version
/// burn-wgpu uses, no extra dependency) and leaves no state behind: the instance is dropped, and
/// Burn creates its own on first use.
#[cfg(feature = "wgpu")]
fn probe_adapter() -> Result<(), DeviceError> {
    use burn::backend::wgpu::wgpu;
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let request = instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    });
    block_on(request).map(drop).map_err(DeviceError::NoAdapter)
}

/// Runs a future to completion on this thread. wgpu's native adapter requests complete when first
/// polled; the loop only guards against one that does not.
#[cfg(feature = "wgpu")]
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::yield_now();
    }
}

/// How many shards a training batch is split into on `selected` by default: one per thread of
/// rayon's pool on a CPU backend (`RAYON_NUM_THREADS` sets it), so every core works on every
/// step; 1 on a GPU, where one batch already fills the device.
/// On a remote device also 1: the shards would be separate streams of operations over the
/// network, each waiting on the server.
pub fn default_shards(selected: &SelectedDevice) -> usize {
    if selected.backend.is_gpu() || selected.backend == Backend::Remote {
        1
    } else {
        rayon::current_num_threads()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_are_the_flag_and_metrics_names() {
        for (backend, name) in [
            (Backend::Flex, "flex"),
            (Backend::Ndarray, "ndarray"),
            (Backend::Wgpu, "wgpu"),
        ] {
            assert_eq!(backend.to_string(), name);
            assert_eq!(Backend::from_str(name, true).unwrap(), backend);
            assert_eq!(
                serde_json::to_string(&backend).unwrap(),
                format!("\"{name}\"")
            );
        }
    }

    #[test]
    fn remote_is_named_in_metrics_but_not_a_flag_or_burn_device_value() {
        assert_eq!(Backend::Remote.to_string(), "remote");
        assert_eq!(
            serde_json::to_string(&Backend::Remote).unwrap(),
            "\"remote\""
        );
        assert!(Backend::from_str("remote", true).is_err());
        assert!(matches!(
            Backend::Remote.select(),
            Err(DeviceError::RemoteNeedsAddress)
        ));
    }

    #[cfg(feature = "flex")]
    #[test]
    fn the_cpu_choice_is_the_fastest_compiled_cpu_backend() {
        assert_eq!(select(DeviceChoice::Cpu).unwrap().backend, Backend::Flex);
    }

    #[cfg(not(feature = "wgpu"))]
    #[test]
    fn a_backend_not_compiled_in_is_an_error() {
        assert!(matches!(
            select(DeviceChoice::Gpu),
            Err(DeviceError::NoGpuBackend)
        ));
    }
}
