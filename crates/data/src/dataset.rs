//! MNIST in memory, as Burn datasets.
//!
//! Pixels stay `u8` (60,000 images are 47 MB; as `f32` they would be 188 MB) and are shared
//! between the train and validation views of the same file through an `Arc`.

use std::path::Path;
use std::sync::Arc;

use burn::data::dataset::{Dataset, DatasetError};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::DataError;
use model::{IMAGE_PIXELS as PIXELS, Pixels};

#[cfg(feature = "download")]
use crate::download::Downloader;
use crate::idx::{IdxKind, read_idx};
use crate::source::{Location, MnistFile, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};

/// One digit: 28x28 row-major pixels (0 = background, 255 = ink) and its label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MnistItem {
    /// Row-major 28x28 pixels.
    pub image: Pixels,
    /// The digit, 0-9.
    pub label: u8,
}

/// The images and labels of one IDX file pair.
#[derive(Clone, Debug)]
pub struct MnistSet {
    images: Arc<[u8]>,
    labels: Arc<[u8]>,
}

impl MnistSet {
    /// Reads an image file and a label file (gzipped or raw) and checks they agree.
    pub fn read(images_path: &Path, labels_path: &Path) -> Result<Self, DataError> {
        let images = read_idx(images_path, IdxKind::Images)?;
        let labels = read_idx(labels_path, IdxKind::Labels)?.data;
        if images.count != labels.len() {
            return Err(DataError::CountMismatch {
                images_path: images_path.into(),
                images: images.count,
                labels_path: labels_path.into(),
                labels: labels.len(),
            });
        }
        Ok(Self::from_parts(images.data, labels))
    }

    /// Builds a set from pixels (`labels.len() * 784` of them) and labels.
    ///
    /// # Panics
    /// If the lengths disagree (a programming error, not bad input).
    pub fn from_parts(images: Vec<u8>, labels: Vec<u8>) -> Self {
        assert_eq!(
            images.len(),
            labels.len() * PIXELS,
            "one 28x28 image per label"
        );
        Self {
            images: images.into(),
            labels: labels.into(),
        }
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set holds no digit.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 784 pixels of digit `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        &self.images[index * PIXELS..(index + 1) * PIXELS]
    }

    /// All labels, in file order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Digit `index` as an item.
    pub fn item(&self, index: usize) -> MnistItem {
        MnistItem {
            image: self.image(index).try_into().expect("784 pixels"),
            label: self.labels[index],
        }
    }

    /// The whole set as a dataset, in file order.
    pub fn dataset(&self) -> MnistDataset {
        MnistDataset {
            set: self.clone(),
            indices: (0..self.len() as u32).collect(),
        }
    }

    /// Splits the set into (train, validation) with `valid_size` digits drawn at random (seeded)
    /// for validation. Both keep ascending file order; the same seed gives the same split.
    pub fn split(
        &self,
        valid_size: usize,
        seed: u64,
    ) -> Result<(MnistDataset, MnistDataset), DataError> {
        if valid_size >= self.len() {
            return Err(DataError::BadSplit {
                valid_size,
                available: self.len(),
            });
        }
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        let (valid, train) = order.split_at_mut(valid_size);
        valid.sort_unstable();
        train.sort_unstable();
        let view = |indices: &[u32]| MnistDataset {
            set: self.clone(),
            indices: indices.into(),
        };
        Ok((view(train), view(valid)))
    }
}

/// A view of an [`MnistSet`] (all of it, or one side of a split) as a Burn dataset.
#[derive(Clone, Debug)]
pub struct MnistDataset {
    set: MnistSet,
    indices: Arc<[u32]>,
}

impl MnistDataset {
    /// Positions in the underlying file of the digits in this view.
    pub fn file_indices(&self) -> &[u32] {
        &self.indices
    }
}

impl Dataset<MnistItem> for MnistDataset {
    fn get(&self, index: usize) -> Result<MnistItem, DatasetError> {
        Ok(self.set.item(self.indices[index] as usize))
    }

    fn len(&self) -> usize {
        self.indices.len()
    }
}

/// The train (60,000) and test (10,000) sets.
#[derive(Clone, Debug)]
pub struct Mnist {
    /// Training set; carve validation out of it with [`MnistSet::split`].
    pub train: MnistSet,
    /// Test set; for the final evaluation only, never for model selection.
    pub test: MnistSet,
    /// Where the files were read from.
    pub location: Location,
}

impl Mnist {
    /// Loads both sets from `--data-dir`, `MNIST_DIR` or the cache, in that order of precedence
    /// (see [`Mnist::load_from`] for the cache).
    pub fn load(data_dir: Option<&Path>) -> Result<Self, DataError> {
        Self::load_from(Location::from_env(data_dir)?)
    }

    /// Loads both sets from `location`. A cache location is filled from the mirrors first
    /// when the `download` feature is on; without it, the files must already be there.
    pub fn load_from(location: Location) -> Result<Self, DataError> {
        Ok(Self {
            train: load_set(&location, TRAIN_IMAGES, TRAIN_LABELS)?,
            test: load_set(&location, TEST_IMAGES, TEST_LABELS)?,
            location,
        })
    }

    /// Loads the test set alone (for evaluation), from the same places as [`Mnist::load`].
    pub fn load_test(data_dir: Option<&Path>) -> Result<MnistSet, DataError> {
        load_set(&Location::from_env(data_dir)?, TEST_IMAGES, TEST_LABELS)
    }
}

fn load_set(
    location: &Location,
    images: MnistFile,
    labels: MnistFile,
) -> Result<MnistSet, DataError> {
    MnistSet::read(&find(location, &images)?, &find(location, &labels)?)
}

/// The path of `file` in `location`, downloading it into the cache when this build can.
fn find(location: &Location, file: &MnistFile) -> Result<std::path::PathBuf, DataError> {
    match location {
        #[cfg(feature = "download")]
        Location::Cache(dir) => Downloader::default().ensure(dir, file),
        #[cfg(not(feature = "download"))]
        Location::Cache(dir) => location.find(file).map_err(|_| DataError::NotDownloaded {
            file: file.stem,
            dir: dir.clone(),
        }),
        _ => location.find(file),
    }
}
