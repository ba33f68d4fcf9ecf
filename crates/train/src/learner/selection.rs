//! Model selection: THE one definition of the best epoch, the one with the lowest mean
//! validation loss. The same definition drives which checkpoints Burn keeps, when early stopping
//! ends a run, and which epoch's weights are exported, so that the exported epoch's checkpoint
//! is always one Burn kept.

use std::path::Path;

use burn::lr_scheduler::LrSchedulerRecord;
use burn::module::Module;
use burn::optim::OptimizerRecord;
use burn::store::ModuleRecord;
use burn::tensor::Device;
use burn::train::checkpoint::{
    ComposedCheckpointingStrategy, KeepLastNCheckpoints, MetricCheckpointingStrategy,
};
use burn::train::metric::LossMetric;
use burn::train::metric::store::{Aggregate, Direction, Split};
use burn::train::{MetricEarlyStoppingStrategy, StoppingCondition};
use model::{MnistCnn, MnistCnnConfig};

use crate::error::ArtifactError;
use crate::logging::history::EpochRecord;
use crate::run::dir::RunDir;

/// The metric that ranks epochs: the loss...
fn metric() -> LossMetric {
    LossMetric::new()
}
/// ...averaged over the epoch (weighted by batch size, as [`EpochRecord::valid_loss`] is)...
const AGGREGATE: Aggregate = Aggregate::Mean;
/// ...lower is better...
const DIRECTION: Direction = Direction::Lowest;
/// ...on the validation split.
const SPLIT: Split = Split::Valid;

/// Checkpoints kept besides the best epoch's: the last two, so that a run killed while writing
/// one can still resume from the other.
const KEEP_LAST: usize = 2;

/// Which checkpoints Burn keeps: the last two (for `--resume`) and the best epoch's
/// (for export).
pub fn checkpointing_strategy() -> ComposedCheckpointingStrategy {
    ComposedCheckpointingStrategy::builder()
        .add(KeepLastNCheckpoints::new(KEEP_LAST))
        .add(MetricCheckpointingStrategy::new(
            &metric(),
            AGGREGATE,
            DIRECTION,
            SPLIT,
        ))
        .build()
}

/// Stops training when the best epoch is `patience` epochs old.
pub fn early_stopping(patience: usize) -> MetricEarlyStoppingStrategy {
    MetricEarlyStoppingStrategy::new(
        &metric(),
        AGGREGATE,
        DIRECTION,
        SPLIT,
        StoppingCondition::NoImprovementSince { n_epochs: patience },
    )
}

/// The best epoch of `history`: the lowest validation loss, the earliest on a tie (as Burn's
/// checkpointing picks it). `None` for an empty history.
pub fn best_epoch(history: &[EpochRecord]) -> Option<&EpochRecord> {
    history
        .iter()
        .filter(|r| !r.valid_loss.is_nan())
        .min_by(|a, b| a.valid_loss.total_cmp(&b.valid_loss))
}

/// The network of the selected epoch, loaded from its checkpoint onto `device`.
///
/// The checkpointing strategy keeps that checkpoint by construction, so a missing one means the
/// run directory was tampered with: an error, never a silent fallback to another epoch.
pub fn load_checkpoint(
    dir: &RunDir,
    epoch: usize,
    config: &MnistCnnConfig,
    device: &Device,
) -> Result<MnistCnn, ArtifactError> {
    let path = dir.checkpoint_model(epoch);
    if !path.is_file() {
        return Err(ArtifactError::MissingCheckpoint { epoch, path });
    }
    let record = |source| ArtifactError::Record {
        path: path.clone(),
        source,
    };
    let record = ModuleRecord::load(&path).map_err(record)?;
    // The checkpoint is the Learner's model, the `Classifier` wrapper: its only module field is
    // `net`, so its record applies to a wrapper around a fresh network.
    let classifier = crate::learner::classifier::Classifier::new(config.init(device), 1)
        .try_load_record(record)
        .map_err(|source| ArtifactError::Record {
            path: path.clone(),
            source,
        })?;
    Ok(classifier.net)
}

/// Checks that every record of the checkpoint of `epoch` reads, and that the model record fits
/// the network of `model` (built on `device` to try it).
pub fn verify_checkpoint(
    dir: &RunDir,
    epoch: usize,
    model: &MnistCnnConfig,
    device: &Device,
) -> Result<(), ArtifactError> {
    load_checkpoint(dir, epoch, model, device)?;
    let record_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArtifactError::Record { path, source }
    };
    let optim = dir.checkpoint_file("optim", epoch);
    OptimizerRecord::load(&optim).map_err(record_error(&optim))?;
    let scheduler = dir.checkpoint_file("scheduler", epoch);
    LrSchedulerRecord::load(&scheduler).map_err(record_error(&scheduler))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize, valid_loss: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 1.0,
            train_accuracy: 50.0,
            valid_loss,
            valid_accuracy: 50.0,
            lr: 1e-3,
        }
    }

    #[test]
    fn the_best_epoch_has_the_lowest_validation_loss_earliest_first() {
        assert_eq!(best_epoch(&[]), None);
        let history = [
            record(1, 0.9),
            record(2, 0.3),
            record(3, f64::NAN),
            record(4, 0.3),
            record(5, 0.5),
        ];
        assert_eq!(best_epoch(&history).map(|r| r.epoch), Some(2));
    }

    #[cfg(feature = "flex")]
    #[test]
    fn a_missing_best_checkpoint_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        let err = load_checkpoint(&run, 3, &MnistCnnConfig::new(), &Device::flex()).unwrap_err();
        assert!(
            matches!(err, ArtifactError::MissingCheckpoint { epoch: 3, .. }),
            "{err:?}"
        );
    }
}
