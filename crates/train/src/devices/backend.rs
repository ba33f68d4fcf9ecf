//! Which backend trains: chosen at runtime among those compiled in by cargo features.

use std::fmt;

use burn::tensor::Device;
use clap::ValueEnum;

use crate::devices::names::{Backend, DeviceChoice};
use crate::error::DeviceError;

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
