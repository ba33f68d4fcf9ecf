//! The training and validation data loaders: the seeded validation split carved out of the
//! training set, shuffling and augmentation of the training side only.

use std::sync::Arc;

use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::Dataset;
use data::{Augmentation, AugmentedDataset, DataError, MnistBatch, MnistBatcher, MnistSet};

use crate::config::TrainingConfig;

/// The validation loader's batch size at least: no gradients are kept, so bigger batches cost
/// little memory and run faster.
const MIN_VALID_BATCH: usize = 256;

/// The two loaders of a run.
pub struct Loaders {
    /// Shuffled (and, with `augment`, augmented) training batches.
    pub train: Arc<dyn DataLoader<MnistBatch>>,
    /// Validation batches in file order.
    pub valid: Arc<dyn DataLoader<MnistBatch>>,
    /// Images in the training split (for the schedule's step count).
    pub train_len: usize,
}

impl Loaders {
    /// Splits `train_set` into training and validation by `config.valid_size` and
    /// `config.seed`, and builds a loader for each, of batches of `device_batch` images (on
    /// several devices Burn splits the training loader, one part per device, each giving
    /// batches of this size: [`crate::config::DeviceSplit`]).
    pub fn new(
        config: &TrainingConfig,
        device_batch: usize,
        train_set: &MnistSet,
    ) -> Result<Self, DataError> {
        let (train_split, valid_split) = train_set.split(config.valid_size, config.seed)?;
        let train_len = train_split.len();
        let builder = DataLoaderBuilder::new(MnistBatcher)
            .batch_size(device_batch)
            .shuffle(config.seed)
            .num_workers(config.workers);
        let train = if config.augment {
            builder.build(AugmentedDataset::new(
                train_split,
                Augmentation::new(config.seed),
            ))
        } else {
            builder.build(train_split)
        };
        let valid = DataLoaderBuilder::new(MnistBatcher)
            .batch_size(device_batch.max(MIN_VALID_BATCH))
            .num_workers(config.workers)
            .build(valid_split);
        Ok(Self {
            train,
            valid,
            train_len,
        })
    }
}
