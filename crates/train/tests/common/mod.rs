//! A small synthetic MNIST that a CNN learns in a few steps: each digit is a bright bar at its
//! own position, plus seeded noise.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use data::idx::{PIXELS, write_idx};
use data::{Location, Mnist, MnistSet};
use model::MnistCnnConfig;
use train::{ProgressStyle, RunDir, RunOptions, SelectedDevice, TrainingConfig};

/// A network small enough to train in a second on the synthetic digits.
pub fn small_config() -> TrainingConfig {
    TrainingConfig::new(
        MnistCnnConfig::new()
            .with_conv1_filters(4)
            .with_conv2_filters(8)
            .with_hidden_units(32)
            .with_dropout(0.1),
    )
    .with_epochs(3)
    .with_batch_size(32)
    .with_valid_size(80)
    .with_lr(3e-3)
}

/// Options for a run in `dir` on `device`, quiet progress.
pub fn run_options(dir: &Path, device: SelectedDevice, resume: bool) -> RunOptions {
    RunOptions {
        run_dir: RunDir::new(dir),
        device,
        resume,
        progress: ProgressStyle::Plain(Duration::from_secs(3600)),
        shards: None,
    }
}

/// `n` images; digit d is a horizontal bar at rows 2d+4..2d+6 over random speckle.
pub fn synthetic_set(n: usize, seed: u64) -> MnistSet {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    let mut images = vec![0u8; n * PIXELS];
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let digit = (next() % 10) as usize;
        labels.push(digit as u8);
        let image = &mut images[i * PIXELS..(i + 1) * PIXELS];
        for p in image.iter_mut() {
            *p = if next() % 10 == 0 {
                (next() % 128) as u8
            } else {
                0
            };
        }
        let shift = (next() % 5) as usize;
        for row in 2 * digit + 4..2 * digit + 6 {
            for col in 4 + shift..20 + shift {
                image[row * 28 + col] = 255;
            }
        }
    }
    MnistSet::from_parts(images, labels)
}

/// Train 400 / test 100 synthetic digits.
pub fn synthetic_mnist() -> Mnist {
    Mnist {
        train: synthetic_set(400, 1),
        test: synthetic_set(100, 2),
        location: Location::DataDir("synthetic".into()),
    }
}

/// Writes the synthetic data as the four IDX files in `dir`.
pub fn write_synthetic_idx(dir: &Path) {
    let mnist = synthetic_mnist();
    for (set, images, labels) in [
        (
            &mnist.train,
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
        ),
        (
            &mnist.test,
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ),
    ] {
        let pixels: Vec<u8> = (0..set.len()).flat_map(|i| set.image(i).to_vec()).collect();
        write_idx(&dir.join(images), &dir.join(labels), &pixels, set.labels()).unwrap();
    }
}
