//! Loading a trained model and predicting digits.

use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Device;
use burn::tensor::activation::softmax;
use data::images_to_tensor;
use image::DynamicImage;
use model::{MnistCnn, MnistCnnConfig};
use serde::Serialize;

use crate::{InferError, preprocess};

/// File name of the model configuration in a model directory.
pub const CONFIG_FILE: &str = "config.json";
/// File name of the burnpack record in a model directory.
pub const RECORD_FILE: &str = "model.bpk";

/// A digit prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The most probable digit.
    pub label: u8,
    /// Probability of each digit; sums to 1.
    pub probabilities: [f32; 10],
}

impl Prediction {
    /// The `k` most probable digits with their probabilities, most probable first.
    pub fn top(&self, k: usize) -> Vec<(u8, f32)> {
        let mut ranked: Vec<(u8, f32)> = (0..10u8)
            .map(|d| (d, self.probabilities[d as usize]))
            .collect();
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
}

impl Predictor {
    /// Loads `dir/config.json` and `dir/model.bpk` onto `device`.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Self, InferError> {
        let dir = dir.as_ref();
        let config_path = existing(dir.join(CONFIG_FILE))?;
        let record_path = existing(dir.join(RECORD_FILE))?;
        let config = MnistCnnConfig::load(&config_path).map_err(|e| InferError::BadConfig {
            path: config_path.clone(),
            message: e.to_string(),
        })?;
        config.validate().map_err(|e| InferError::BadConfig {
            path: config_path.clone(),
            message: e.to_string(),
        })?;
        let record = ModuleRecord::load(&record_path).map_err(|e| InferError::NotARecord {
            path: record_path.clone(),
            message: e.to_string(),
        })?;
        let net = config.init(device).try_load_record(record).map_err(|e| {
            InferError::RecordMismatch {
                path: record_path,
                config: config_path,
                message: e.to_string(),
            }
        })?;
        Ok(Self {
            net,
            config,
            device: device.clone(),
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

    /// The device the network lives on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Predicts one 28x28 image (row-major, MNIST convention: white ink on black).
    pub fn predict(&self, pixels: &[u8; 784]) -> Prediction {
        self.predict_batch(std::slice::from_ref(pixels)).remove(0)
    }

    /// Predicts many 28x28 images in one forward pass.
    pub fn predict_batch(&self, images: &[[u8; 784]]) -> Vec<Prediction> {
        if images.is_empty() {
            return Vec::new();
        }
        let pixels = images.as_flattened();
        let probabilities = softmax(self.net.forward(images_to_tensor(pixels, &self.device)), 1)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("float output");
        probabilities
            .chunks_exact(10)
            .map(|row| {
                let probabilities: [f32; 10] = row.try_into().expect("10 classes");
                let label = (0..10)
                    .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
                    .expect("10 classes") as u8;
                Prediction {
                    label,
                    probabilities,
                }
            })
            .collect()
    }

    /// Preprocesses any picture of a digit (see [`preprocess`]) and predicts it.
    pub fn predict_image(&self, image: &DynamicImage) -> Result<Prediction, InferError> {
        Ok(self.predict(&preprocess::preprocess(image)?))
    }
}

/// Opens an image file (PNG or JPEG, decided by content).
pub fn open_image(path: &Path) -> Result<DynamicImage, InferError> {
    image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| InferError::Image {
            path: path.into(),
            message: e.to_string(),
        })?
        .decode()
        .map_err(|e| InferError::Image {
            path: path.into(),
            message: e.to_string(),
        })
}

fn existing(path: PathBuf) -> Result<PathBuf, InferError> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(InferError::MissingFile { path })
    }
}
