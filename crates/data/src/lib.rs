//! MNIST for the `mnist-cnn` project: the IDX reader, where the files come from (a directory,
//! `MNIST_DIR`, or a verified download into a cache), Burn datasets with a seeded validation
//! split, optional augmentation, the batcher that turns digits into normalised tensors, and the
//! test-time perturbations of the robustness report.
//!
//! Layout: [`idx`] (the IDX format, gzipped or raw, bounded), [`source`] (where the files are:
//! a directory, `MNIST_DIR`, the cache), `download` (feature `download`: fetching and verifying
//! the files), [`regular`] (opening a user's path, regular files only), [`dataset`] (Burn
//! datasets, the seeded validation split), [`augment`] (training-time affine augmentation),
//! [`batcher`] (digits to normalised tensors), [`perturb`] (test-time perturbations for the
//! robustness report), [`synthetic`] (small offline digit sets for tests and benchmarks), and one
//! error type, [`DataError`].

pub mod augment;
pub mod batcher;
pub mod dataset;
#[cfg(feature = "download")]
pub mod download;
mod error;
pub mod idx;
pub mod perturb;
pub mod regular;
pub mod source;
pub mod synthetic;

pub use augment::{Affine, Augmentation, AugmentedDataset, affine};
pub use batcher::{MnistBatch, MnistBatcher};
pub use dataset::{Mnist, MnistDataset, MnistItem, MnistSet};
#[cfg(feature = "download")]
pub use download::Downloader;
pub use error::DataError;
pub use source::Location;
