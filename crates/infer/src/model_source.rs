//! Which model a program runs: the one rule shared by `infer`, `serve` and the examples.
//!
//! A model named with `--model-dir` wins (a directory or one file, see [`crate::load_model`]);
//! else the one in the `MNIST_CNN_MODEL` environment variable (when set and not empty); else the
//! model compiled into the program (feature `shipped-model`). No program looks for a model in
//! the source tree, so an installed binary behaves the same from any directory.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use burn::tensor::Device;

use crate::{InferError, Predictor};

/// Where a program's model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A model directory or file given on the command line (`--model-dir`).
    Flag(PathBuf),
    /// A model directory or file named by the [`ModelSource::ENV_VAR`] environment variable.
    Env(PathBuf),
    /// The model of `artifacts/mnist-cnn`, compiled into the program.
    #[cfg(feature = "shipped-model")]
    Shipped,
}

impl ModelSource {
    /// The environment variable that names a model directory when no `--model-dir` is given.
    pub const ENV_VAR: &str = "MNIST_CNN_MODEL";

    /// The source for a program given `model_dir` (its `--model-dir`, if any), reading
    /// [`ModelSource::ENV_VAR`] from the environment.
    pub fn resolve(model_dir: Option<PathBuf>) -> Result<Self, InferError> {
        Self::resolve_with(model_dir, std::env::var_os(Self::ENV_VAR))
    }

    /// [`ModelSource::resolve`] with the environment variable's value passed in.
    pub fn resolve_with(
        model_dir: Option<PathBuf>,
        env_value: Option<OsString>,
    ) -> Result<Self, InferError> {
        if let Some(dir) = model_dir {
            return Ok(Self::Flag(dir));
        }
        if let Some(dir) = env_value.filter(|v| !v.is_empty()) {
            return Ok(Self::Env(dir.into()));
        }
        #[cfg(feature = "shipped-model")]
        {
            Ok(Self::Shipped)
        }
        #[cfg(not(feature = "shipped-model"))]
        {
            Err(InferError::NoModel)
        }
    }

    /// Loads the model onto `device`.
    pub fn load(&self, device: &Device) -> Result<Predictor, InferError> {
        match self {
            Self::Flag(dir) | Self::Env(dir) => Predictor::load(dir, device),
            #[cfg(feature = "shipped-model")]
            Self::Shipped => Predictor::shipped(device),
        }
    }
}

/// For a program's startup line, e.g. `model: runs/a/model from --model-dir`.
impl fmt::Display for ModelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag(dir) => write!(f, "{} from --model-dir", model::quote_path(dir)),
            Self::Env(dir) => write!(f, "{} from {}", model::quote_path(dir), Self::ENV_VAR),
            #[cfg(feature = "shipped-model")]
            Self::Shipped => f.write_str("built-in artifacts/mnist-cnn"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_then_environment_then_shipped() {
        let flag = Some(PathBuf::from("a"));
        let env = Some(OsString::from("b"));
        assert_eq!(
            ModelSource::resolve_with(flag.clone(), env.clone()).unwrap(),
            ModelSource::Flag("a".into())
        );
        assert_eq!(
            ModelSource::resolve_with(None, env).unwrap(),
            ModelSource::Env("b".into())
        );
        let unset = ModelSource::resolve_with(None, None);
        let empty = ModelSource::resolve_with(None, Some(OsString::new()));
        #[cfg(feature = "shipped-model")]
        for source in [unset, empty] {
            assert_eq!(source.unwrap(), ModelSource::Shipped);
        }
        #[cfg(not(feature = "shipped-model"))]
        for source in [unset, empty] {
            assert!(matches!(source, Err(InferError::NoModel)));
        }
        assert_eq!(
            ModelSource::Env("b".into()).to_string(),
            "b from MNIST_CNN_MODEL"
        );
    }
}
