//! What a run reports while it trains and leaves behind: the per-epoch history and the Burn
//! logger that writes it, the curves drawn from it, the stop on a non-finite loss, the progress
//! lines, and the metrics they all recognise.

pub(crate) mod curves;
pub(crate) mod float_json;
pub(crate) mod history;
pub(crate) mod history_logger;
pub(crate) mod nan_stop;
pub(crate) mod renderer;
pub(crate) mod tracked_metrics;
