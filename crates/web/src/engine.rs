//! What the page asks of the network: its description, and for one drawing the framed 28x28
//! input, the prediction, the logits and every stage as gray levels.

use burn::module::Module;
use burn::store::{ModuleRecord, RecordError};
use burn::tensor::Device;
use burn::tensor::activation::softmax;
use model::{
    InvalidConfig, MnistCnn, MnistCnnConfig, ModelInfo, NUM_CLASSES, Occlusion, Pixels,
    StageValues, images_to_tensor, stage_values,
};
use preprocess::{Layout, Picture, PreprocessError};
use serde::Serialize;

/// Why the model could not be built or a drawing not predicted.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// `config.json` is not a model configuration.
    #[error("config.json: {0}")]
    ConfigJson(#[from] serde_json::Error),
    /// `config.json` describes a network this project does not build.
    #[error("config.json: {0}")]
    InvalidConfig(#[from] InvalidConfig),
    /// `model.bpk` is not a burnpack record, or does not fit the configuration.
    #[error("model.bpk: {0}")]
    Record(#[from] RecordError),
    /// The drawing cannot be framed (blank, or a buffer of the wrong size).
    #[error(transparent)]
    Picture(#[from] PreprocessError),
}

/// The answer for one drawing, as the page reads it (the JSON of `serve`'s
/// `/api/predict?stages=true`, plus the logits).
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The most probable digit.
    pub label: u8,
    /// Probability of each digit (softmax of the logits).
    pub probabilities: [f32; NUM_CLASSES],
    /// The class scores before the softmax.
    pub logits: [f32; NUM_CLASSES],
    /// The framed 28x28 input, row-major (also the first stage's values).
    #[serde(skip)]
    pub pixels: Pixels,
    /// Every stage, input to outputs, as gray levels.
    pub stages: Vec<StageValues>,
}

/// A loaded network on Burn's flex device.
#[derive(Debug)]
pub struct Engine {
    net: MnistCnn,
    config: MnistCnnConfig,
    device: Device,
}

impl Engine {
    /// The model compiled into this crate ([`crate::EMBEDDED_CONFIG`],
    /// [`crate::EMBEDDED_RECORD`]).
    pub fn embedded() -> Result<Self, WebError> {
        Self::from_bytes(crate::EMBEDDED_CONFIG.as_bytes(), crate::EMBEDDED_RECORD)
    }

    /// The model of a `config.json` and a `model.bpk`, checked as `infer` checks them (the
    /// configuration's sizes and shapes first, then the record against it).
    pub fn from_bytes(config_json: &[u8], record: &[u8]) -> Result<Self, WebError> {
        let mut deserializer = serde_json::Deserializer::from_slice(config_json);
        let config = MnistCnnConfig::deserialize_saved(&mut deserializer)??;
        deserializer.end()?;
        let device = Device::flex();
        let record =
            ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(record.to_vec()))?;
        let net = config.init(&device).try_load_record(record)?;
        Ok(Self {
            net,
            config,
            device,
        })
    }

    /// The network's configuration.
    pub fn config(&self) -> &MnistCnnConfig {
        &self.config
    }

    /// Every stage's name, shape, formula and parameters.
    pub fn describe(&self) -> ModelInfo {
        ModelInfo::of(&self.config)
    }

    /// Frames an RGBA drawing (a canvas's `ImageData`: `width * height * 4` bytes) like an
    /// MNIST digit and runs the network on it.
    pub fn predict_rgba(&self, rgba: &[u8], width: u32, height: u32) -> Result<Answer, WebError> {
        Ok(self.predict_pixels(&frame_rgba(rgba, width, height)?))
    }

    /// Which pixels drove the answer for an RGBA drawing: the occlusion map of its framed
    /// input (169 occluded copies in one batch, see [`model::occlusion`]), the page's "why this
    /// digit" button.
    pub fn explain_rgba(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
    ) -> Result<Occlusion, WebError> {
        let pixels = frame_rgba(rgba, width, height)?;
        Ok(model::occlusion_map(&self.net, &pixels, &self.device))
    }

    /// Runs the network on a framed 28x28 image, keeping every stage.
    pub fn predict_pixels(&self, pixels: &Pixels) -> Answer {
        let images = images_to_tensor(std::slice::from_ref(pixels), &self.device);
        let stages = self.net.stages(images);
        let logits = row(model::stage_values::floats(stages.logits.clone()));
        let probabilities = row(model::stage_values::floats(softmax(
            stages.logits.clone(),
            1,
        )));
        let label = (0..NUM_CLASSES)
            .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
            .expect("NUM_CLASSES is not zero") as u8;
        Answer {
            label,
            probabilities,
            logits,
            pixels: *pixels,
            stages: stage_values(&stages, pixels, &probabilities),
        }
    }
}

/// An RGBA drawing (a canvas's `ImageData`) framed like an MNIST digit.
fn frame_rgba(rgba: &[u8], width: u32, height: u32) -> Result<Pixels, WebError> {
    let picture = Picture::new(rgba, width, height, Layout::Rgba)?;
    Ok(preprocess::frame(&picture)?)
}

/// The one row of a batch of one.
fn row(values: Vec<f32>) -> [f32; NUM_CLASSES] {
    values
        .try_into()
        .expect("a batch of one has NUM_CLASSES outputs")
}
