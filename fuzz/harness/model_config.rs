//! A model `config.json` through `model::MnistCnnConfig`'s serde loader and `validate`; a
//! configuration that validates must also have a summary (shapes and parameter counts) that
//! computes without overflow. The network itself is not built: that allocates what the
//! configuration asks for, which `validate` is there to bound.

use model::MnistCnnConfig;

/// Parses `data` as a configuration and, when it validates, summarises it.
pub fn run(data: &[u8]) {
    let Ok(config) = serde_json::from_slice::<MnistCnnConfig>(data) else {
        return;
    };
    if config.validate().is_ok() {
        let summary = config.summary();
        assert!(summary.total_params() > 0);
    }
}
