//! Which backend trains: chosen at runtime among those compiled in by cargo features.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

/// What the user asked for with `--device`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// The GPU when one is compiled in, else the CPU (`BURN_DEVICE` can name a backend).
    #[default]
    Auto,
    /// The fastest CPU backend compiled in (flex, else ndarray).
    Cpu,
    /// The GPU backend (wgpu).
    Gpu,
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            _ => Err(format!(
                "unknown device '{s}' (expected one of: auto, cpu, gpu)"
            )),
        }
    }
}

/// A device with the name of its backend.
#[derive(Clone, Debug)]
pub struct SelectedDevice {
    /// The device (without autodiff).
    pub device: Device,
    /// `flex`, `ndarray` or `wgpu`.
    pub backend: &'static str,
}

impl fmt::Display for SelectedDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.backend, self.device)
    }
}

/// The backends this binary was compiled with, fastest CPU backend first.
pub const COMPILED_BACKENDS: &[&str] = &[
    #[cfg(feature = "wgpu")]
    "wgpu",
    #[cfg(feature = "flex")]
    "flex",
    #[cfg(feature = "ndarray")]
    "ndarray",
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
    /// `BURN_DEVICE` names a backend that is not compiled in.
    #[error("BURN_DEVICE={0} names no backend compiled into this binary (compiled: {1})")]
    BadBurnDevice(String, String),
    /// The GPU backend found no adapter (no driver, no GPU).
    #[error(
        "no GPU adapter found by wgpu ({0}); install a Vulkan, Metal or DX12 driver, or train on the CPU with --device cpu"
    )]
    NoAdapter(String),
}

/// Resolves `choice` to a device of a compiled backend.
pub fn select(choice: DeviceChoice) -> Result<SelectedDevice, DeviceError> {
    match choice {
        DeviceChoice::Cpu => cpu(),
        DeviceChoice::Gpu => gpu(),
        DeviceChoice::Auto => match std::env::var("BURN_DEVICE").ok().as_deref() {
            Some("flex") if cfg!(feature = "flex") => named("flex"),
            Some("ndarray") if cfg!(feature = "ndarray") => named("ndarray"),
            Some("wgpu") if cfg!(feature = "wgpu") => gpu(),
            Some(other) if !other.is_empty() => Err(DeviceError::BadBurnDevice(
                other.into(),
                COMPILED_BACKENDS.join(", "),
            )),
            _ => gpu().or_else(|_| cpu()),
        },
    }
}

fn cpu() -> Result<SelectedDevice, DeviceError> {
    COMPILED_BACKENDS
        .iter()
        .find(|b| **b != "wgpu")
        .map(|b| named(b))
        .unwrap_or(Err(DeviceError::NoCpuBackend))
}

/// The device of the backend called `backend` (`flex`, `ndarray`, `wgpu`), if compiled in.
pub fn named(backend: &'static str) -> Result<SelectedDevice, DeviceError> {
    let device = match backend {
        #[cfg(feature = "flex")]
        "flex" => Device::flex(),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        // ndarray is deprecated in Burn 0.22 but still a supported backend
        "ndarray" => Device::ndarray(),
        #[cfg(feature = "wgpu")]
        "wgpu" => return gpu(),
        _ => return Err(DeviceError::NoCpuBackend),
    };
    Ok(SelectedDevice { device, backend })
}

#[cfg(feature = "wgpu")]
fn gpu() -> Result<SelectedDevice, DeviceError> {
    let device = Device::wgpu(Default::default());
    probe(&device)?;
    Ok(SelectedDevice {
        device,
        backend: "wgpu",
    })
}

#[cfg(not(feature = "wgpu"))]
fn gpu() -> Result<SelectedDevice, DeviceError> {
    Err(DeviceError::NoGpuBackend)
}

/// Runs one tiny operation so that a missing adapter is reported here, as an error, instead of
/// as a panic deep inside the first training step. wgpu reports it by panicking; the panic
/// message is kept, the default hook's backtrace noise is not.
#[cfg(feature = "wgpu")]
fn probe(device: &Device) -> Result<(), DeviceError> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| {
        burn::tensor::Tensor::<1>::ones([4], device)
            .sum()
            .into_scalar::<f32>()
    });
    std::panic::set_hook(hook);
    match result {
        Ok(_) => Ok(()),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "adapter request failed".into());
            Err(DeviceError::NoAdapter(
                msg.lines().next().unwrap_or("").to_string(),
            ))
        }
    }
}

/// How many shards a training batch is split into on `selected` by default: one per thread of
/// rayon's pool on a CPU backend (`RAYON_NUM_THREADS` sets it), so every core works on every
/// step; 1 on a GPU, where one batch already fills the device.
pub fn default_shards(selected: &SelectedDevice) -> usize {
    match selected.backend {
        "wgpu" => 1,
        _ => rayon::current_num_threads(),
    }
}
