//! Checks on the real MNIST files. Ignored by default; `.ci/run` runs them with
//! `MNIST_DIR` pointing at the four files. They fail, never skip, when it is not set.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;

use burn::data::dataset::Dataset;
use data::idx::read_idx;
use data::source::{Location, MNIST_FILES};
use data::{Mnist, download::content_sha256};

fn mnist_dir() -> PathBuf {
    std::env::var_os("MNIST_DIR")
        .map(PathBuf::from)
        .expect("these tests need MNIST_DIR set to a directory with the four MNIST files")
}

#[test]
#[ignore = "needs real MNIST in MNIST_DIR"]
fn files_match_the_published_checksums() {
    let location = Location::EnvVar(mnist_dir());
    for file in MNIST_FILES {
        let path = location.find(&file).unwrap();
        assert_eq!(
            content_sha256(&read_idx(&path, file.kind).unwrap()),
            file.sha256,
            "{}",
            path.display()
        );
    }
}

#[test]
#[ignore = "needs real MNIST in MNIST_DIR"]
fn counts_and_test_label_histogram() {
    let mnist = Mnist::load(Some(&mnist_dir())).unwrap();
    assert_eq!(mnist.train.len(), 60_000);
    assert_eq!(mnist.test.len(), 10_000);
    let mut histogram = [0usize; 10];
    for &label in mnist.test.labels() {
        histogram[label as usize] += 1;
    }
    assert_eq!(
        histogram,
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
}

#[test]
#[ignore = "needs real MNIST in MNIST_DIR"]
fn validation_split_is_disjoint_and_stable() {
    let mnist = Mnist::load(Some(&mnist_dir())).unwrap();
    let (train, valid) = mnist.train.split(5_000, 42).unwrap();
    assert_eq!((train.len(), valid.len()), (55_000, 5_000));
    let in_valid: std::collections::HashSet<u32> = valid.file_indices().iter().copied().collect();
    assert!(train.file_indices().iter().all(|i| !in_valid.contains(i)));
    let (_, again) = mnist.train.split(5_000, 42).unwrap();
    assert_eq!(again.file_indices(), valid.file_indices());
    // Every digit is represented in the validation set in roughly its share.
    let mut histogram = [0usize; 10];
    for i in 0..valid.len() {
        histogram[valid.get(i).unwrap().label as usize] += 1;
    }
    assert!(
        histogram.iter().all(|&n| (350..650).contains(&n)),
        "{histogram:?}"
    );
}
