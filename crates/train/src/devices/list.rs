//! `--devices LIST`: the devices one run trains on. One device trains exactly as `--device`
//! does; several train together through Burn's `MultiDevice` strategy (see
//! [`crate::config::multi_device`]).
//!
//! The syntax, one entry per device, comma-separated:
//! - `cpu`: the fastest CPU backend compiled in; `flex`, `ndarray`: that CPU backend;
//! - `gpu` (or `wgpu`): wgpu's default adapter; `gpu:N`: the N-th discrete GPU;
//! - `remote:ws://HOST:PORT`: the device a `serve-device` process serves there (cargo feature
//!   `remote`).
//!
//! Parsing needs no device and no feature, so a wrong list is rejected before anything starts;
//! [`DeviceList::select`] then opens the devices.

use std::fmt;
use std::str::FromStr;

use crate::devices::backend::{self, SelectedDevice};
use crate::devices::names::{Backend, DeviceChoice};
use crate::error::{DeviceError, DeviceListError};
use crate::limits::{MAX_ADDRESS_LEN, MAX_DEVICES};

/// One entry of `--devices`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The fastest CPU backend compiled in (`cpu`).
    Cpu,
    /// A named CPU backend (`flex`, `ndarray`).
    CpuBackend(Backend),
    /// A wgpu GPU: its default adapter (`gpu`), or the N-th discrete GPU (`gpu:N`).
    Gpu(Option<usize>),
    /// The device served at this WebSocket URL (`remote:ws://HOST:PORT`).
    Remote(String),
}

/// The parsed `--devices` list: at least one entry, at most [`MAX_DEVICES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceList(Vec<DeviceSpec>);

impl FromStr for DeviceSpec {
    type Err = DeviceListError;

    fn from_str(entry: &str) -> Result<Self, Self::Err> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(DeviceListError::EmptyEntry);
        }
        if let Some(address) = entry.strip_prefix("remote:") {
            return check_address(address).map(|()| Self::Remote(address.to_string()));
        }
        let (kind, index) = match entry.split_once(':') {
            Some((kind, index)) => (kind, Some(index)),
            None => (entry, None),
        };
        match (kind.to_ascii_lowercase().as_str(), index) {
            ("cpu", None) => Ok(Self::Cpu),
            ("flex", None) => Ok(Self::CpuBackend(Backend::Flex)),
            ("ndarray", None) => Ok(Self::CpuBackend(Backend::Ndarray)),
            ("gpu" | "wgpu", None) => Ok(Self::Gpu(None)),
            ("gpu" | "wgpu", Some(index)) => index
                .parse()
                .map(|i| Self::Gpu(Some(i)))
                .map_err(|_| DeviceListError::GpuIndex(entry.to_string())),
            _ => Err(DeviceListError::Unknown(entry.to_string())),
        }
    }
}

/// `ws://HOST:PORT`, with a non-empty host of URL-safe characters, a port from 1 to 65535 and
/// nothing after it: what `serve-device` prints.
fn check_address(address: &str) -> Result<(), DeviceListError> {
    let bad = |reason| {
        Err(DeviceListError::RemoteAddress {
            address: address.chars().take(MAX_ADDRESS_LEN).collect(),
            reason,
        })
    };
    if address.len() > MAX_ADDRESS_LEN {
        return bad("longer than 256 characters");
    }
    let Some(authority) = address.strip_prefix("ws://") else {
        return bad("it must start with ws:// (serve-device speaks unencrypted WebSocket)");
    };
    let Some((host, port)) = authority.rsplit_once(':') else {
        return bad("no port");
    };
    if host.is_empty() {
        return bad("no host");
    }
    let host_chars = |c: char| c.is_ascii_alphanumeric() || ".-_[]:".contains(c);
    if !host.chars().all(host_chars) {
        return bad("the host has characters a host name or IP address cannot have");
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => bad("the port must be a number from 1 to 65535"),
        Ok(_) => Ok(()),
    }
}

impl FromStr for DeviceList {
    type Err = DeviceListError;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let entries: Vec<&str> = list.split(',').collect();
        if entries.len() > MAX_DEVICES {
            return Err(DeviceListError::TooMany(entries.len()));
        }
        entries
            .into_iter()
            .map(DeviceSpec::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

impl fmt::Display for DeviceSpec {
    /// The entry as `--devices` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::CpuBackend(backend) => write!(f, "{backend}"),
            Self::Gpu(None) => f.write_str("gpu"),
            Self::Gpu(Some(index)) => write!(f, "gpu:{index}"),
            Self::Remote(address) => write!(f, "remote:{address}"),
        }
    }
}

impl DeviceList {
    /// The entries, in order: the first is the main device (optimiser, validation, export).
    pub fn specs(&self) -> &[DeviceSpec] {
        &self.0
    }

    /// Opens every device of the list, in order (a remote one connects to its server).
    pub fn select(&self) -> Result<Vec<SelectedDevice>, DeviceError> {
        self.0.iter().map(DeviceSpec::select).collect()
    }
}

impl DeviceSpec {
    /// Opens this device.
    pub fn select(&self) -> Result<SelectedDevice, DeviceError> {
        match self {
            Self::Cpu => backend::select(DeviceChoice::Cpu),
            Self::CpuBackend(backend) => backend.select(),
            Self::Gpu(None) => backend::select(DeviceChoice::Gpu),
            Self::Gpu(Some(index)) => backend::discrete_gpu(*index),
            Self::Remote(address) => backend::remote(address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(list: &str) -> Result<Vec<DeviceSpec>, DeviceListError> {
        list.parse::<DeviceList>().map(|l| l.0)
    }

    #[test]
    fn every_kind_of_entry_parses_and_prints_back() {
        let list =
            "cpu, flex,ndarray,gpu,gpu:1,WGPU:0,remote:ws://10.0.0.2:3000,remote:ws://gpu-box:3001";
        let specs = parse(list).unwrap();
        assert_eq!(
            specs,
            [
                DeviceSpec::Cpu,
                DeviceSpec::CpuBackend(Backend::Flex),
                DeviceSpec::CpuBackend(Backend::Ndarray),
                DeviceSpec::Gpu(None),
                DeviceSpec::Gpu(Some(1)),
                DeviceSpec::Gpu(Some(0)),
                DeviceSpec::Remote("ws://10.0.0.2:3000".into()),
                DeviceSpec::Remote("ws://gpu-box:3001".into()),
            ]
        );
        let printed: Vec<String> = specs.iter().map(ToString::to_string).collect();
        assert_eq!(printed[4], "gpu:1");
        assert_eq!(printed[6], "remote:ws://10.0.0.2:3000");
        assert_eq!(
            parse(&printed.join(",")).unwrap(),
            specs,
            "what is printed parses back"
        );
    }

    #[test]
    fn bad_lists_are_typed_errors() {
        assert_eq!(parse(""), Err(DeviceListError::EmptyEntry));
        assert_eq!(parse("cpu,,cpu"), Err(DeviceListError::EmptyEntry));
        assert_eq!(parse("tpu"), Err(DeviceListError::Unknown("tpu".into())));
        assert_eq!(
            parse("cpu:1"),
            Err(DeviceListError::Unknown("cpu:1".into()))
        );
        assert_eq!(
            parse("gpu:x"),
            Err(DeviceListError::GpuIndex("gpu:x".into()))
        );
        assert_eq!(
            parse("gpu:-1"),
            Err(DeviceListError::GpuIndex("gpu:-1".into()))
        );
        let too_many = vec!["cpu"; MAX_DEVICES + 1].join(",");
        assert_eq!(
            parse(&too_many),
            Err(DeviceListError::TooMany(MAX_DEVICES + 1))
        );
        assert_eq!(
            parse(&vec!["cpu"; MAX_DEVICES].join(",")).unwrap().len(),
            MAX_DEVICES
        );
        for address in [
            "http://host:3000",
            "ws://host",
            "ws://:3000",
            "ws://host:0",
            "ws://host:65536",
            "ws://host:3000/path",
            "ws://ho st:3000",
            "ws://user@host:3000",
        ] {
            let err = parse(&format!("remote:{address}")).unwrap_err();
            assert!(
                matches!(err, DeviceListError::RemoteAddress { .. }),
                "{address}: {err:?}"
            );
        }
        let long = format!("remote:ws://{}:3000", "a".repeat(MAX_ADDRESS_LEN));
        let err = parse(&long).unwrap_err().to_string();
        assert!(err.contains("longer than"), "{err}");
        assert!(
            err.len() < 2 * MAX_ADDRESS_LEN,
            "the message is bounded: {err}"
        );
    }

    #[cfg(feature = "flex")]
    #[test]
    fn cpu_entries_open_local_devices() {
        let devices = "cpu,flex".parse::<DeviceList>().unwrap().select().unwrap();
        assert_eq!(devices.len(), 2);
        assert!(devices.iter().all(|d| d.backend == Backend::Flex));
    }

    #[cfg(not(feature = "remote"))]
    #[test]
    fn a_remote_entry_without_the_feature_is_an_error() {
        let list: DeviceList = "remote:ws://127.0.0.1:3000".parse().unwrap();
        let err = list.select().unwrap_err();
        assert!(matches!(err, DeviceError::RemoteNotCompiled), "{err:?}");
    }
}
