//! Small synthetic digit sets that a CNN learns in a few steps, for tests and benchmarks that
//! must run offline and without MNIST (whose images never enter the repository).
//!
//! Digit `d` is a bright horizontal bar at rows `2d+4..2d+6`, shifted sideways by a seeded
//! amount, over seeded speckle: learnable, yet not trivially identical from image to image.

use std::path::Path;

use model::{IMAGE_PIXELS, IMAGE_SIZE, NUM_CLASSES};

use crate::idx::write_idx;
use crate::{DataError, Location, Mnist, MnistSet};

/// `count` synthetic digits from `seed`; the same seed gives the same set.
pub fn digits(count: usize, seed: u64) -> MnistSet {
    let mut next = lcg(seed);
    let mut images = vec![0u8; count * IMAGE_PIXELS];
    let mut labels = Vec::with_capacity(count);
    for image in images.chunks_exact_mut(IMAGE_PIXELS) {
        let digit = next() as usize % NUM_CLASSES;
        labels.push(digit as u8);
        for p in image.iter_mut() {
            *p = if next().is_multiple_of(10) {
                (next() % 128) as u8
            } else {
                0
            };
        }
        let shift = next() as usize % 5;
        for row in 2 * digit + 4..2 * digit + 6 {
            for col in 4 + shift..20 + shift {
                image[row * IMAGE_SIZE + col] = 255;
            }
        }
    }
    MnistSet::from_parts(images, labels)
}

/// A synthetic MNIST: `train` training digits (seed 1) and `test` test digits (seed 2).
pub fn mnist(train: usize, test: usize) -> Mnist {
    Mnist {
        train: digits(train, 1),
        test: digits(test, 2),
        location: Location::DataDir("synthetic".into()),
    }
}

/// Writes `mnist` as the four IDX files MNIST is published in: the training files gzipped, the
/// test files raw, so that readers of both forms are exercised.
pub fn write_idx_files(mnist: &Mnist, dir: &Path) -> Result<(), DataError> {
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
        write_idx(&dir.join(images), &dir.join(labels), &pixels, set.labels()).map_err(
            |source| DataError::Io {
                path: dir.join(images),
                source,
            },
        )?;
    }
    Ok(())
}

/// A linear congruential generator: enough randomness for fixtures, no dependency.
fn lcg(seed: u64) -> impl FnMut() -> u32 {
    const MUL: u64 = 6_364_136_223_846_793_005;
    const INC: u64 = 1_442_695_040_888_963_407;
    let mut state = seed.wrapping_mul(MUL).wrapping_add(INC);
    move || {
        state = state.wrapping_mul(MUL).wrapping_add(INC);
        (state >> 33) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_labelled_by_their_bar() {
        let a = digits(50, 7);
        let b = digits(50, 7);
        assert_eq!(a.labels(), b.labels());
        assert_eq!(a.image(3), b.image(3));
        assert_ne!(digits(50, 8).labels(), a.labels());
        for i in 0..a.len() {
            let d = a.labels()[i] as usize;
            let row = 2 * d + 4;
            let bar = &a.image(i)[row * IMAGE_SIZE..(row + 1) * IMAGE_SIZE];
            assert_eq!(bar.iter().filter(|&&p| p == 255).count(), 16, "digit {d}");
        }
    }

    #[test]
    fn idx_files_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let m = mnist(30, 10);
        write_idx_files(&m, dir.path()).unwrap();
        let back = Mnist::load_from(Location::DataDir(dir.path().into())).unwrap();
        assert_eq!(back.train.labels(), m.train.labels());
        assert_eq!(back.test.image(9), m.test.image(9));
    }
}
