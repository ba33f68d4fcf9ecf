//! Loading a trained model and predicting digits.

use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::activation::softmax;
use burn::tensor::{Bytes, Device};
use model::{MnistCnn, MnistCnnConfig, NUM_CLASSES, Occlusion, Pixels, images_to_tensor};
use serde::Serialize;

use crate::InferError;

/// File name of the model configuration in a model directory.
pub const CONFIG_FILE: &str = "config.json";
/// File name of the burnpack record in a model directory.
pub const RECORD_FILE: &str = "model.bpk";

/// The `config.json` of the model committed in `artifacts/mnist-cnn`, compiled in.
#[cfg(feature = "shipped-model")]
pub const SHIPPED_CONFIG: &str = include_str!("../../../artifacts/mnist-cnn/config.json");
/// The `model.bpk` of the model committed in `artifacts/mnist-cnn`, compiled in.
#[cfg(feature = "shipped-model")]
pub const SHIPPED_RECORD: &[u8] = include_bytes!("../../../artifacts/mnist-cnn/model.bpk");

/// A digit prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The most probable digit.
    pub label: u8,
    /// Probability of each digit; sums to 1.
    pub probabilities: [f32; NUM_CLASSES],
}

impl Prediction {
    /// The `k` most probable digits with their probabilities, most probable first.
    pub fn top(&self, k: usize) -> Vec<(u8, f32)> {
        let mut ranked: Vec<(u8, f32)> = (0u8..).zip(self.probabilities).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(k);
        ranked
    }
}

/// A loaded model, ready to predict.
#[derive(Debug)]
pub struct Predictor {
    net: MnistCnn,
    config: MnistCnnConfig,
    device: Device,
    notes: Vec<String>,
}

impl Predictor {
    /// Loads the model at `path` onto `device`: a model directory (`config.json` +
    /// `model.bpk` as `train` writes them, else `model.safetensors`, else `model.pt`) or one
    /// such file (see [`crate::load_model`]). A safetensors or PyTorch file without a
    /// configuration (in its metadata or a `config.json` beside it) is taken to be the lecture's
    /// network, [`MnistCnnConfig::new`].
    ///
    /// Files are read whole before this returns: a record loaded straight from its file
    /// (`ModuleRecord::load`) can leave the weights mapped to the file and read on first use, so
    /// a predictor would break when a training run later rewrites or deletes the directory.
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Self, InferError> {
        let loaded = crate::load_model_noted(path.as_ref(), &MnistCnnConfig::new(), device)?;
        Ok(Self {
            net: loaded.net,
            config: loaded.config,
            device: device.clone(),
            notes: loaded.notes,
        })
    }

    /// Builds the model from a `config.json` and a `model.bpk` already in memory; errors name
    /// them by those file names.
    pub fn from_bytes(
        config_json: &[u8],
        record: Bytes,
        device: &Device,
    ) -> Result<Self, InferError> {
        Self::from_memory(
            config_json,
            record,
            Path::new(CONFIG_FILE),
            Path::new(RECORD_FILE),
            device,
        )
    }

    /// The model committed in `artifacts/mnist-cnn`, from the copy compiled into this library:
    /// needs no file at run time.
    #[cfg(feature = "shipped-model")]
    pub fn shipped(device: &Device) -> Result<Self, InferError> {
        Self::from_bytes(
            SHIPPED_CONFIG.as_bytes(),
            Bytes::from_bytes_vec(SHIPPED_RECORD.to_vec()),
            device,
        )
    }

    /// The model of `config_json` with the weights of `record`; errors name `config_path` and
    /// `record_path`.
    fn from_memory(
        config_json: &[u8],
        record: Bytes,
        config_path: &Path,
        record_path: &Path,
        device: &Device,
    ) -> Result<Self, InferError> {
        let (net, config) = from_burnpack(config_json, record, config_path, record_path, device)?;
        Ok(Self {
            net,
            config,
            device: device.clone(),
            notes: Vec::new(),
        })
    }

    /// The network (for feature maps, evaluation, export).
    pub fn net(&self) -> &MnistCnn {
        &self.net
    }

    /// The network's configuration.
    pub fn config(&self) -> &MnistCnnConfig {
        &self.config
    }

    /// What a program should tell its user about the model file although it loaded (see
    /// [`crate::LoadedModel::notes`]); empty for most files.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The device the network lives on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Predicts one 28x28 image (row-major, MNIST convention: white ink on black).
    pub fn predict(&self, pixels: &Pixels) -> Prediction {
        self.predict_batch(std::slice::from_ref(pixels)).remove(0)
    }

    /// Predicts many 28x28 images in one forward pass.
    pub fn predict_batch(&self, images: &[Pixels]) -> Vec<Prediction> {
        if images.is_empty() {
            return Vec::new();
        }
        let probabilities = softmax(self.net.forward(images_to_tensor(images, &self.device)), 1)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("float output");
        let (rows, rest) = probabilities.as_chunks::<NUM_CLASSES>();
        debug_assert!(rest.is_empty(), "one row of NUM_CLASSES per image");
        rows.iter()
            .map(|&probabilities| {
                let label = (0..NUM_CLASSES)
                    .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
                    .expect("NUM_CLASSES is not zero") as u8;
                Prediction {
                    label,
                    probabilities,
                }
            })
            .collect()
    }

    /// Which pixels drove the prediction of `pixels`: the drop in the chosen digit's probability
    /// when each 4x4 patch is hidden, all 169 occluded copies in one forward pass (see
    /// [`model::occlusion`]).
    pub fn explain(&self, pixels: &Pixels) -> Occlusion {
        model::occlusion_map(&self.net, pixels, &self.device)
    }

    /// [`Predictor::explain`] for `digit` (the label an answer already gave).
    pub fn explain_digit(&self, pixels: &Pixels, digit: u8) -> Occlusion {
        model::occlusion_map_for(&self.net, pixels, Some(digit), &self.device)
    }

    /// Preprocesses any picture of a digit (see [`crate::preprocess()`]) and predicts it.
    #[cfg(feature = "image")]
    pub fn predict_image(&self, image: &image::DynamicImage) -> Result<Prediction, InferError> {
        Ok(self.predict(&crate::preprocess(image)?))
    }
}

/// The network of `config_json` with the weights of the burnpack `record`; errors name
/// `config_path` and `record_path`.
pub(crate) fn from_burnpack(
    config_json: &[u8],
    record: Bytes,
    config_path: &Path,
    record_path: &Path,
    device: &Device,
) -> Result<(MnistCnn, MnistCnnConfig), InferError> {
    let config = parse_config(config_json, config_path)?;
    let record = ModuleRecord::from_bytes(record).map_err(|source| InferError::NotARecord {
        path: record_path.into(),
        source,
    })?;
    let net = config
        .init(device)
        .try_load_record(record)
        .map_err(|source| InferError::RecordMismatch {
            path: record_path.into(),
            config: config_path.into(),
            source,
        })?;
    crate::finite::check_finite(&net, record_path, device)?;
    Ok((net, config))
}

/// The configuration in `json`, checked before anything is built: the class count, the upper
/// bounds of its sizes and its shapes (see [`MnistCnnConfig::deserialize_saved`]). Every path
/// that reads a configuration (a model directory, a safetensors file's metadata, a
/// `config.json` beside imported weights, the shipped model) comes through here.
pub(crate) fn parse_config(json: &[u8], path: &Path) -> Result<MnistCnnConfig, InferError> {
    let bad_config = |source| InferError::BadConfig {
        path: path.into(),
        source,
    };
    // `Config::load_binary` would flatten serde's error (line, column) into a string, and
    // check nothing.
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let checked = MnistCnnConfig::deserialize_saved(&mut deserializer).map_err(bad_config)?;
    deserializer.end().map_err(bad_config)?;
    checked.map_err(|source| InferError::InvalidConfig {
        path: path.into(),
        source,
    })
}
