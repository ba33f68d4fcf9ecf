//! The IDX reader and the data sets on small fixtures written by the tests themselves.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::Path;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::tensor::Device;
use data::idx::write_idx;
use data::source::{Location, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};
use data::{Augmentation, AugmentedDataset, DataError, Mnist, MnistBatcher, MnistSet};
use model::IMAGE_PIXELS as PIXELS;

/// `n` digits whose pixel values encode their index, labels cycling 0-9.
fn fixture(n: usize) -> (Vec<u8>, Vec<u8>) {
    let images = (0..n * PIXELS)
        .map(|i| ((i / PIXELS) * 7 + i % 251) as u8)
        .collect();
    let labels = (0..n).map(|i| (i % 10) as u8).collect();
    (images, labels)
}

fn write_set(dir: &Path, images_stem: &str, labels_stem: &str, n: usize, gz: bool) {
    let ext = if gz { ".gz" } else { "" };
    let (images, labels) = fixture(n);
    write_idx(
        &dir.join(format!("{images_stem}{ext}")),
        &dir.join(format!("{labels_stem}{ext}")),
        &images,
        &labels,
    )
    .unwrap();
}

fn write_mnist_dir(dir: &Path, gz: bool) {
    write_set(dir, TRAIN_IMAGES.stem, TRAIN_LABELS.stem, 50, gz);
    write_set(dir, TEST_IMAGES.stem, TEST_LABELS.stem, 20, gz);
}

#[test]
fn round_trip_gzip_and_raw() {
    for gz in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), "img", "lbl", 12, gz);
        let ext = if gz { ".gz" } else { "" };
        let set = MnistSet::read(
            &dir.path().join(format!("img{ext}")),
            &dir.path().join(format!("lbl{ext}")),
        )
        .unwrap();
        let (images, labels) = fixture(12);
        assert_eq!(set.len(), 12);
        assert_eq!(set.labels(), labels.as_slice());
        assert_eq!(set.image(5), &images[5 * PIXELS..6 * PIXELS]);
    }
}

#[test]
fn gzip_is_detected_by_content_not_name() {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), "img", "lbl", 3, true);
    // A gzipped file without .gz and a raw file with .gz both load.
    std::fs::rename(dir.path().join("img.gz"), dir.path().join("img-plain-name")).unwrap();
    let raw_dir = tempfile::tempdir().unwrap();
    write_set(raw_dir.path(), "img", "lbl", 3, false);
    std::fs::copy(raw_dir.path().join("lbl"), dir.path().join("lbl-raw.gz")).unwrap();
    let set = MnistSet::read(
        &dir.path().join("img-plain-name"),
        &dir.path().join("lbl-raw.gz"),
    )
    .unwrap();
    assert_eq!(set.len(), 3);
}

fn read_err(images: &[u8], labels: &[u8]) -> DataError {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("i"), images).unwrap();
    std::fs::write(dir.path().join("l"), labels).unwrap();
    MnistSet::read(&dir.path().join("i"), &dir.path().join("l")).unwrap_err()
}

fn header(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

#[test]
fn every_error_kind() {
    let good_labels = [header(&[2049, 1]), vec![3]].concat();
    let good_image = [header(&[2051, 1, 28, 28]), vec![0; PIXELS]].concat();

    let dir = tempfile::tempdir().unwrap();
    let missing = MnistSet::read(&dir.path().join("nope"), &dir.path().join("nope2")).unwrap_err();
    assert!(matches!(missing, DataError::Missing { .. }), "{missing}");
    assert!(missing.to_string().contains("nope: file not found"));

    let bad_magic = read_err(&good_labels, &good_labels);
    assert!(
        matches!(
            bad_magic,
            DataError::BadMagic {
                found: 2049,
                expected: 2051,
                ..
            }
        ),
        "{bad_magic}"
    );

    let wrong_dims = read_err(
        &[header(&[2051, 1, 32, 32]), vec![0; 1024]].concat(),
        &good_labels,
    );
    assert!(
        matches!(
            wrong_dims,
            DataError::WrongDimensions {
                rows: 32,
                cols: 32,
                ..
            }
        ),
        "{wrong_dims}"
    );

    let truncated = read_err(&good_image[..500], &good_labels);
    assert!(
        matches!(truncated, DataError::Truncated { .. }),
        "{truncated}"
    );
    let truncated_header = read_err(&good_image[..10], &good_labels);
    assert!(
        matches!(truncated_header, DataError::Truncated { .. }),
        "{truncated_header}"
    );

    let mismatch = read_err(&good_image, &[header(&[2049, 2]), vec![1, 2]].concat());
    assert!(
        matches!(
            mismatch,
            DataError::CountMismatch {
                images: 1,
                labels: 2,
                ..
            }
        ),
        "{mismatch}"
    );

    let bad_label = read_err(&good_image, &[header(&[2049, 1]), vec![10]].concat());
    assert!(
        matches!(
            bad_label,
            DataError::BadLabel {
                index: 0,
                label: 10,
                ..
            }
        ),
        "{bad_label}"
    );

    let mut corrupt = vec![0x1f, 0x8b, 8, 0];
    corrupt.extend_from_slice(&[0xff; 64]);
    let gzip = read_err(&corrupt, &good_labels);
    assert!(matches!(gzip, DataError::Gzip { .. }), "{gzip}");

    let empty = read_err(&[], &good_labels);
    assert!(matches!(empty, DataError::Truncated { .. }), "{empty}");
}

#[test]
fn location_precedence_data_dir_then_env_then_cache() {
    let explicit = Path::new("/explicit");
    let env = Some("/from-env".into());
    let xdg = Some("/xdg".into());
    let home = Some("/home/me".into());
    assert_eq!(
        Location::choose(Some(explicit), env.clone(), xdg.clone(), home.clone()).unwrap(),
        Location::DataDir(explicit.into())
    );
    assert_eq!(
        Location::choose(None, env, xdg.clone(), home.clone()).unwrap(),
        Location::EnvVar("/from-env".into())
    );
    assert_eq!(
        Location::choose(None, Some("".into()), xdg, home.clone()).unwrap(),
        Location::Cache("/xdg/mnist-cnn/mnist".into())
    );
    assert_eq!(
        Location::choose(None, None, None, home).unwrap(),
        Location::Cache("/home/me/.cache/mnist-cnn/mnist".into())
    );
    assert!(matches!(
        Location::choose(None, None, None, None),
        Err(DataError::NoCacheDir)
    ));
}

#[test]
fn loads_a_directory_and_names_what_is_missing() {
    for gz in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        write_mnist_dir(dir.path(), gz);
        let mnist = Mnist::load(Some(dir.path())).unwrap();
        assert_eq!((mnist.train.len(), mnist.test.len()), (50, 20));
        assert_eq!(mnist.location, Location::DataDir(dir.path().into()));
    }
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), TRAIN_IMAGES.stem, TRAIN_LABELS.stem, 5, true);
    let err = Mnist::load(Some(dir.path())).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::NotInDir {
                file: "t10k-images-idx3-ubyte",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("--data-dir"), "{err}");
}

#[test]
fn split_is_disjoint_complete_and_seeded() {
    let (images, labels) = fixture(100);
    let set = MnistSet::from_parts(images, labels);
    let (train, valid) = set.split(30, 1).unwrap();
    assert_eq!((train.len(), valid.len()), (70, 30));
    let mut all: Vec<u32> = train
        .file_indices()
        .iter()
        .chain(valid.file_indices())
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..100).collect::<Vec<u32>>());
    let (_, again) = set.split(30, 1).unwrap();
    assert_eq!(again.file_indices(), valid.file_indices());
    let (_, other) = set.split(30, 2).unwrap();
    assert_ne!(other.file_indices(), valid.file_indices());
    assert_eq!(
        valid.get(0).unwrap(),
        set.item(valid.file_indices()[0] as usize)
    );
    assert!(matches!(set.split(100, 1), Err(DataError::BadSplit { .. })));
}

#[test]
fn batcher_normalises_into_one_batch() {
    let (images, labels) = fixture(4);
    let set = MnistSet::from_parts(images, labels);
    let items: Vec<_> = (0..4).map(|i| set.item(i)).collect();
    let batch = MnistBatcher.batch(items.clone(), &Device::flex());
    assert_eq!(batch.images.dims(), [4, 1, 28, 28]);
    let values = batch.images.into_data().try_into_vec::<f32>().unwrap();
    for (i, &v) in values.iter().enumerate() {
        let p = items[i / PIXELS].image[i % PIXELS] as f32;
        assert!((v - (p / 255.0 - 0.1307) / 0.3081).abs() < 1e-6);
    }
    let targets = batch
        .targets
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap();
    assert_eq!(targets, [0, 1, 2, 3]);
}

#[test]
fn augmentation_is_seeded_bounded_and_varies_per_visit() {
    // A single bright pixel at the centre stays within the shift + rotation bound.
    let mut image = vec![0u8; PIXELS];
    image[14 * 28 + 14] = 255;
    let set = MnistSet::from_parts(image.clone(), vec![7]);
    let a = AugmentedDataset::new(set.dataset(), Augmentation::new(9));
    let b = AugmentedDataset::new(set.dataset(), Augmentation::new(9));
    let first = a.get(0).unwrap();
    assert_eq!(
        first,
        b.get(0).unwrap(),
        "same seed, same visit, same image"
    );
    assert_eq!(first.label, 7);
    assert_ne!(
        first.image,
        a.get(0).unwrap().image,
        "the next visit is distorted differently"
    );
    let ink: Vec<(usize, usize)> = first
        .image
        .iter()
        .enumerate()
        .filter(|(_, p)| **p > 0)
        .map(|(i, _)| (i % 28, i / 28))
        .collect();
    assert!(!ink.is_empty());
    for (x, y) in ink {
        // shift <= 2 px plus the rotation of a point 0.7 px from the centre plus 1 px of bilinear spread
        assert!(
            x.abs_diff(14) <= 4 && y.abs_diff(14) <= 4,
            "ink at ({x}, {y})"
        );
    }
    // No distortion is the identity.
    let identity = data::augment::transform(&image.try_into().unwrap(), 0.0, 0.0, 0.0);
    assert_eq!(identity[14 * 28 + 14], 255);
    assert_eq!(identity.iter().filter(|p| **p > 0).count(), 1);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn multi_member_gzip_is_read_to_the_end() {
    // As `cat a.gz b.gz` or pigz make it: the header and part of the data in one member,
    // the rest in two more. A reader of the first member alone finds the file truncated.
    let (images, labels) = fixture(3);
    let image_file = [data::idx::images_header(3), images.clone()].concat();
    let label_file = [data::idx::labels_header(3), labels.clone()].concat();
    let dir = tempfile::tempdir().unwrap();
    let members = |bytes: &[u8], cuts: [usize; 2]| {
        [
            gzip(&bytes[..cuts[0]]),
            gzip(&bytes[cuts[0]..cuts[1]]),
            gzip(&bytes[cuts[1]..]),
        ]
        .concat()
    };
    std::fs::write(dir.path().join("i.gz"), members(&image_file, [10, 900])).unwrap();
    std::fs::write(dir.path().join("l.gz"), members(&label_file, [8, 9])).unwrap();
    let set = MnistSet::read(&dir.path().join("i.gz"), &dir.path().join("l.gz")).unwrap();
    assert_eq!(set.len(), 3);
    assert_eq!(set.labels(), labels.as_slice());
    assert_eq!(set.image(2), &images[2 * PIXELS..]);
}

#[test]
fn data_past_what_the_header_announces_is_an_error() {
    let good_labels = [header(&[2049, 1]), vec![3]].concat();
    let image = [header(&[2051, 1, 28, 28]), vec![0; PIXELS]].concat();
    let with_garbage = [image.clone(), vec![0]].concat();
    for file in [with_garbage.clone(), gzip(&with_garbage)] {
        let err = read_err(&file, &good_labels);
        assert!(
            matches!(err, DataError::TrailingData { expected: 800, .. }),
            "{err}"
        );
    }
    // A second gzip member holding the extra byte is caught the same way.
    let err = read_err(&[gzip(&image), gzip(&[0])].concat(), &good_labels);
    assert!(matches!(err, DataError::TrailingData { .. }), "{err}");
    // And so is junk after the gzip stream that is not another member.
    let err = read_err(&[gzip(&image), b"junk".to_vec()].concat(), &good_labels);
    assert!(matches!(err, DataError::Gzip { .. }), "{err}");
}

#[test]
fn a_header_announcing_more_than_the_limit_is_refused_before_reading() {
    use data::idx::MAX_ITEMS;
    let image = [header(&[2051, MAX_ITEMS + 1, 28, 28]), vec![0; PIXELS]].concat();
    let err = read_err(&image, &[header(&[2049, 1]), vec![3]].concat());
    assert!(
        matches!(err, DataError::TooManyItems { count, max: MAX_ITEMS, .. } if count == MAX_ITEMS + 1),
        "{err}"
    );
    let good_image = [header(&[2051, 1, 28, 28]), vec![0; PIXELS]].concat();
    let err = read_err(&good_image, &header(&[2049, u32::MAX]));
    assert!(matches!(err, DataError::TooManyItems { .. }), "{err}");
    assert!(err.to_string().contains("4294967295"), "{err}");
}

#[test]
fn corrupt_crc_of_the_last_member_is_an_error() {
    let image = [header(&[2051, 1, 28, 28]), vec![7; PIXELS]].concat();
    let mut gz = gzip(&image);
    let crc = gz.len() - 8;
    gz[crc] ^= 0xff;
    let err = read_err(&gz, &[header(&[2049, 1]), vec![3]].concat());
    assert!(matches!(err, DataError::Gzip { .. }), "{err}");
}
