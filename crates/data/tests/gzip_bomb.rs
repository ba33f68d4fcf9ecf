//! Decompression bombs as IDX files cost what their header declares, not what they inflate to.
//!
//! One test in its own file, so that its process runs nothing else while it measures its own
//! peak resident memory (`VmHWM`, reset through `/proc/self/clear_refs` once the bombs are
//! written). Reading any of these bombs whole would take 256 MiB to 2 GiB.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use data::idx::{images_header, labels_header};
use data::{DataError, MnistSet};
use flate2::Compression;
use flate2::write::GzEncoder;

const MIB: u64 = 1 << 20;

/// Peak growth of resident memory allowed while reading one bomb.
const RSS_BUDGET: u64 = 32 * MIB;

/// One gzip member of `prefix` followed by `zeros` zero bytes, streamed through the encoder
/// (zeros compress about 1000:1, so 1 GiB is about 1 MiB).
fn gzip_member(prefix: &[u8], zeros: u64) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(prefix).unwrap();
    let chunk = vec![0u8; MIB as usize];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(MIB);
        enc.write_all(&chunk[..n as usize]).unwrap();
        left -= n;
    }
    enc.finish().unwrap()
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Runs `f`; returns its result, the peak growth of resident memory while it ran, and the time
/// it took.
fn measure<T>(f: impl FnOnce() -> T) -> (T, u64, Duration) {
    // "5" resets the peak (VmHWM) to the current resident size.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_kib("VmRSS:");
    assert!(status_kib("VmHWM:") <= before + 1024, "peak was reset");
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    let growth = (status_kib("VmHWM:") - before) * 1024;
    (out, growth, elapsed)
}

/// Reads `images` with a valid one-label file; returns the error, the peak growth of resident
/// memory over the read, and the time it took.
fn read_bomb(dir: &Path, images: &Path) -> (DataError, u64, Duration) {
    let labels = dir.join("labels");
    std::fs::write(&labels, [labels_header(1), vec![3]].concat()).unwrap();
    measure(|| MnistSet::read(images, &labels).unwrap_err())
}

#[test]
fn gzip_and_raw_bombs_fail_fast_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };

    // 1. A single gzip member: a header for one image, then 256 MiB of zeros.
    let one_member = write("one-member.gz", &gzip_member(&images_header(1), 256 * MIB));
    // 2. 2 GiB in 32 members of 64 MiB (pigz-style), behind a header for one image.
    let zeros = gzip_member(&[], 64 * MIB);
    let mut multi = gzip_member(&images_header(1), 64 * MIB);
    for _ in 1..32 {
        multi.extend_from_slice(&zeros);
    }
    let two_gib = write("two-gib.gz", &multi);
    // 3. The same 2 GiB behind a header that claims four billion images.
    let mut huge = gzip_member(&images_header(u32::MAX), 64 * MIB);
    for _ in 1..32 {
        huge.extend_from_slice(&zeros);
    }
    let huge_count = write("huge-count.gz", &huge);
    // 4. A raw (sparse) 2 GiB file behind a header for one image.
    let raw = dir.path().join("raw");
    let mut file = std::fs::File::create(&raw).unwrap();
    file.write_all(&images_header(1)).unwrap();
    file.set_len(2 << 30).unwrap();
    drop(file);

    // The measurement sees what it must: touching 64 MiB shows up as 64 MiB of growth.
    let (sum, growth, _) = measure(|| {
        let touched = vec![1u8; 64 * MIB as usize];
        std::hint::black_box(&touched)
            .iter()
            .map(|&b| u64::from(b))
            .sum::<u64>()
    });
    assert_eq!(sum, 64 * MIB);
    assert!(
        growth >= 60 * MIB,
        "calibration: 64 MiB touched, {growth} bytes seen"
    );

    for (path, trailing) in [
        (&one_member, true),
        (&two_gib, true),
        (&huge_count, false),
        (&raw, true),
    ] {
        let (err, growth, elapsed) = read_bomb(dir.path(), path);
        let name = path.file_name().unwrap().to_string_lossy();
        eprintln!(
            "{name}: {} bytes on disk, {growth} bytes of peak RSS growth, {elapsed:?}: {err}",
            std::fs::metadata(path).unwrap().len()
        );
        if trailing {
            assert!(
                matches!(err, DataError::TrailingData { expected: 800, .. }),
                "{name}: {err}"
            );
        } else {
            assert!(
                matches!(
                    err,
                    DataError::TooManyItems {
                        count: u32::MAX,
                        ..
                    }
                ),
                "{name}: {err}"
            );
        }
        assert!(
            growth < RSS_BUDGET,
            "{name}: resident memory grew {growth} bytes"
        );
        assert!(elapsed < Duration::from_secs(5), "{name}: took {elapsed:?}");
    }
}
