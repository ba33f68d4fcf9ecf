//! The JavaScript API of the WebAssembly module (wasm-bindgen), as `index.html` uses it:
//!
//! ```js
//! import init, { Network } from "./web.js";
//! await init();
//! const net = new Network();                    // the compiled-in model
//! const model = JSON.parse(net.describe());     // stages: shapes, formulas, parameters
//! const answer = JSON.parse(net.predict(imageData.data, width, height));
//! const why = JSON.parse(net.explain(imageData.data, width, height)); // occlusion map
//! ```
//!
//! Answers are JSON text in the shapes of `serve`'s API, so the page reads both the same way.

use wasm_bindgen::prelude::*;

use crate::engine::Engine;

/// The network with the compiled-in weights.
#[wasm_bindgen]
pub struct Network {
    engine: Engine,
}

#[wasm_bindgen]
impl Network {
    /// Loads the compiled-in model (a few hundred milliseconds).
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<Network, JsError> {
        Ok(Network {
            engine: Engine::embedded()?,
        })
    }

    /// The model's description: `model::ModelInfo` as JSON.
    pub fn describe(&self) -> Result<String, JsError> {
        Ok(serde_json::to_string(&self.engine.describe())?)
    }

    /// The answer for an RGBA drawing of `width` x `height` pixels: `{label, probabilities,
    /// logits, stages}` as JSON; a blank drawing is an error whose message says so.
    pub fn predict(&self, rgba: &[u8], width: u32, height: u32) -> Result<String, JsError> {
        let answer = self.engine.predict_rgba(rgba, width, height)?;
        Ok(serde_json::to_string(&answer)?)
    }

    /// Which pixels drove the answer for the same drawing: `model::Occlusion` as JSON (`serve`'s
    /// `explanation` under `?explain=true`), computed only when the page asks.
    pub fn explain(&self, rgba: &[u8], width: u32, height: u32) -> Result<String, JsError> {
        let map = self.engine.explain_rgba(rgba, width, height)?;
        Ok(serde_json::to_string(&map)?)
    }
}
