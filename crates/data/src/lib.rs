//! MNIST for the `mnist-cnn` project: the IDX reader, where the files come from (a directory,
//! `MNIST_DIR`, or a verified download into a cache), Burn datasets with a seeded validation
//! split, optional augmentation, and the batcher that turns digits into normalised tensors.

pub mod augment;
pub mod batcher;
pub mod dataset;
mod error;
pub mod idx;
pub mod source;

pub use augment::{Augmentation, AugmentedDataset};
pub use batcher::{MEAN, MnistBatch, MnistBatcher, STD, images_to_tensor, normalize};
pub use dataset::{Mnist, MnistDataset, MnistItem, MnistSet};
pub use error::DataError;
pub use source::{Downloader, Location};
