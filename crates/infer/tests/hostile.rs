//! Hostile and careless input (issue 14): decompression bombs, lying headers, ancillary chunks,
//! names that are not UTF-8, configurations and records that describe no usable model. Each
//! gets a typed error or a clear one-line message, with bounded memory where memory is the
//! attack (the peak RSS of the `infer` process is measured), and the other inputs are still
//! answered.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};

use burn::store::ModuleSnapshot;
use burn::tensor::Device;
use infer::image_decode::MAX_IMAGE_SIDE;
use infer::{InferError, Predictor};

#[path = "common/process.rs"]
mod process;
use process::{infer_bounded, infer_measured};

fn digits() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/mnist-cnn")
}

// ---------------------------------------------------------------- hand-made files

/// One PNG chunk: length, type, data, CRC of type and data.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn zlib(data: impl IntoIterator<Item = Vec<u8>>) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for part in data {
        encoder.write_all(&part).unwrap();
    }
    encoder.finish().unwrap()
}

/// A 1-bit grayscale PNG of `side` x `side` white pixels with black ink in the top-left and
/// bottom-right corners, written row by row (the raw image is never in memory): 23000 px
/// compress to about 70 KB.
fn bilevel_bomb(path: &Path, side: u32) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row_bytes = side.div_ceil(8) as usize;
    let white = vec![0xFF; row_bytes];
    let mut inked = white.clone();
    inked[..4].fill(0);
    let last = row_bytes - 4;
    inked[last..].fill(0);
    for y in 0..side {
        let row = if y < 64 || y >= side - 64 {
            &inked
        } else {
            &white
        };
        stream.write_all(row).unwrap();
    }
    stream.finish().unwrap();
}

/// A PNG header declaring 1 x 500,000,000 1-bit pixels, with an IDAT holding the first 1,000
/// rows (all a decoder could check before allocating).
fn tall_png_header() -> Vec<u8> {
    let mut ihdr = 1u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&500_000_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // 1-bit gray, deflate, adaptive, no interlace
    let rows = (0..1000).map(|_| vec![0u8, 0x80]);
    let mut png = PNG_SIGNATURE.to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &zlib(rows)));
    png.extend(chunk(b"IEND", &[]));
    png
}

/// The PNG `digit` with an `iCCP` chunk whose profile inflates to `profile_bytes` (zeros), put
/// right after IHDR as the PNG standard orders it.
fn with_iccp(digit: &[u8], profile_bytes: usize) -> Vec<u8> {
    let mut data = b"bomb\0\0".to_vec(); // profile name, NUL, compression method 0
    let chunks = profile_bytes / (1 << 20);
    data.extend(zlib((0..chunks).map(|_| vec![0u8; 1 << 20])));
    let ihdr_end = PNG_SIGNATURE.len() + 8 + 13 + 4;
    let mut png = digit[..ihdr_end].to_vec();
    png.extend(chunk(b"iCCP", &data));
    png.extend_from_slice(&digit[ihdr_end..]);
    png
}

/// The first 200-odd bytes of a baseline JPEG declaring 23000 x 23000 pixels (one component):
/// quantisation table, frame header, Huffman tables, scan header and a few bytes of scan; the
/// rest is missing, as in a truncated download.
fn truncated_jpeg() -> Vec<u8> {
    let mut jpeg = vec![0xFF, 0xD8]; // SOI
    // DQT: table 0, 8-bit, all ones.
    jpeg.extend([0xFF, 0xDB, 0x00, 0x43, 0x00]);
    jpeg.extend([1u8; 64]);
    // SOF0: 8-bit, height 23000, width 23000, 1 component (id 1, 1x1 sampling, table 0).
    jpeg.extend([0xFF, 0xC0, 0x00, 0x0B, 0x08]);
    jpeg.extend(23000u16.to_be_bytes());
    jpeg.extend(23000u16.to_be_bytes());
    jpeg.extend([0x01, 0x01, 0x11, 0x00]);
    // DHT: DC table 0 and AC table 0, each one code of length 1 (symbol 0).
    for class_id in [0x00, 0x10] {
        jpeg.extend([0xFF, 0xC4, 0x00, 0x14, class_id, 1]);
        jpeg.extend([0u8; 15]);
        jpeg.push(0);
    }
    // SOS: 1 component, tables 0/0, spectral 0..63, no approximation.
    jpeg.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    jpeg.extend([0u8; 16]); // the start of the scan; no EOI
    jpeg
}

// ---------------------------------------------------------------- running `infer`

fn os(s: &str) -> &std::ffi::OsStr {
    s.as_ref()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------- images

#[test]
fn a_23000_px_bilevel_png_is_refused_from_its_header_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.png");
    bilevel_bomb(&bomb, 23000);
    let size = std::fs::metadata(&bomb).unwrap().len();
    assert!(size < 200_000, "the bomb is small on disk: {size} bytes");

    let seven = digits().join("seven.png");
    let out = infer_bounded(
        "1-bit 23000x23000 PNG and a digit",
        &[os("predict"), bomb.as_os_str(), seven.as_os_str()],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success());
    assert!(
        stderr.contains("declares 23000x23000 pixels, more than the 4096"),
        "{stderr}"
    );
    assert!(stdout.contains("seven.png: 7"), "the other file: {stdout}");

    // The same through the library: a typed error naming the declared size and the limit.
    let Err(err) = infer::open_image(&bomb) else {
        panic!("refused");
    };
    assert!(
        matches!(
            err,
            InferError::ImageTooLarge {
                width: 23000,
                height: 23000,
                limit: MAX_IMAGE_SIDE,
                ..
            }
        ),
        "{err}"
    );
    let bytes = std::fs::read(&bomb).unwrap();
    assert!(matches!(
        infer::decode_image(&bytes),
        Err(InferError::ImageTooLarge { .. })
    ));
}

#[test]
fn a_1_by_500_million_png_is_refused_from_its_header() {
    let png = tall_png_header();
    let Err(err) = infer::decode_image(&png) else {
        panic!("refused");
    };
    assert!(
        matches!(
            err,
            InferError::ImageTooLarge {
                width: 1,
                height: 500_000_000,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("1x500000000"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tall.png");
    std::fs::write(&file, &png).unwrap();
    let out = infer_bounded("1x500000000 PNG", &[os("predict"), file.as_os_str()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("1x500000000"));
}

#[test]
fn an_icc_profile_bomb_is_ignored_and_the_digit_predicted() {
    let seven = std::fs::read(digits().join("seven.png")).unwrap();
    // 512 MiB of profile: about 510 KB compressed.
    let png = with_iccp(&seven, 512 << 20);
    assert!(png.len() < 1 << 20, "{} bytes", png.len());
    let decoded = infer::decode_image(&png).unwrap();
    let plain = infer::decode_image(&seven).unwrap();
    assert_eq!(decoded.as_bytes(), plain.as_bytes());

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("iccp.png");
    std::fs::write(&file, &png).unwrap();
    let what = format!("64x64 PNG with a {} KB iCCP bomb", png.len() / 1000);
    let out = infer_bounded(&what, &[os("predict"), file.as_os_str()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("iccp.png: 7"));
}

#[test]
fn a_truncated_23000_px_jpeg_is_refused_from_its_header() {
    let jpeg = truncated_jpeg();
    assert!(jpeg.len() < 300);
    let Err(err) = infer::decode_image(&jpeg) else {
        panic!("refused");
    };
    assert!(
        matches!(
            err,
            InferError::ImageTooLarge {
                width: 23000,
                height: 23000,
                ..
            }
        ),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("truncated.jpg");
    std::fs::write(&file, &jpeg).unwrap();
    let out = infer_bounded(
        "truncated 23000x23000 JPEG",
        &[os("predict"), file.as_os_str()],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("23000x23000"));
}

#[test]
fn an_almost_uniform_image_with_a_faint_speck_is_blank() {
    let mut img = image::GrayImage::from_pixel(64, 64, image::Luma([250]));
    for (x, y) in [(30, 30), (31, 30), (30, 31), (31, 31)] {
        img.put_pixel(x, y, image::Luma([255]));
    }
    let image = image::DynamicImage::ImageLuma8(img);
    assert!(matches!(infer::preprocess(&image), Err(InferError::NoInk)));
}

// ---------------------------------------------------------------- file names and folders

#[cfg(unix)]
#[test]
fn predict_json_survives_a_name_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"seven-\xff\xfe.png");
    let odd = dir.path().join(name);
    std::fs::copy(digits().join("seven.png"), &odd).unwrap();
    let (one, two) = (digits().join("one.png"), digits().join("two.png"));
    let (out, _) = infer_measured(&[
        os("predict"),
        os("--json"),
        one.as_os_str(),
        odd.as_os_str(),
        two.as_os_str(),
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(
        lines
            .iter()
            .map(|l| l["label"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 7, 2]
    );
    let file = lines[1]["file"].as_str().unwrap();
    assert!(file.ends_with("seven-\u{FFFD}\u{FFFD}.png"), "{file}");
}

/// `DIR/<digit>/<name>` for each entry, copied from `source` (a path) or written (bytes).
fn labelled_folder(files: &[(u8, &str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (digit, name, bytes) in files {
        let sub = dir.path().join(digit.to_string());
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(name), bytes).unwrap();
    }
    dir
}

#[test]
fn a_folder_whose_images_all_fail_says_they_were_found() {
    let blank = {
        let img = image::GrayImage::from_pixel(28, 28, image::Luma([255]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let tall = tall_png_header();
    let dir = labelled_folder(&[
        (3, "junk.png", b"not an image"),
        (5, "blank.png", &blank),
        (8, "tall.png", &tall),
    ]);
    let err = match infer::folder::read_labelled_folder(dir.path()) {
        Err(err) => err,
        Ok(_) => panic!("nothing usable in the folder"),
    };
    assert!(
        matches!(err, InferError::AllImagesFailed { failed: 3, .. }),
        "{err}"
    );

    let (out, _) = infer_measured(&[os("eval"), os("--images"), dir.path().as_os_str()]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(!stderr.contains("no images found"), "{stderr}");
    assert!(
        stderr.contains("3 image files found in the digit folders, and every one failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("junk.png: not a readable image"),
        "first reason: {stderr}"
    );
}

#[test]
fn a_folder_with_one_bomb_skips_it_with_bounded_memory() {
    let scratch = tempfile::tempdir().unwrap();
    let bomb = scratch.path().join("bomb.png");
    bilevel_bomb(&bomb, 23000);
    let bomb = std::fs::read(bomb).unwrap();
    let read = |name: &str| std::fs::read(digits().join(name)).unwrap();
    let (seven, one, two) = (read("seven.png"), read("one.png"), read("two.png"));
    let dir = labelled_folder(&[
        (7, "seven.png", &seven),
        (1, "one.png", &one),
        (1, "bomb.png", &bomb),
        (2, "two.png", &two),
    ]);
    let out = infer_bounded(
        "labelled folder of 3 digits and a 23000x23000 PNG",
        &[os("eval"), os("--images"), dir.path().as_os_str()],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("(3 images)"), "{stdout}");
    assert!(
        stderr.contains("bomb.png: the image declares 23000x23000 pixels"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------- models

/// A model directory holding the shipped record and `config` as its config.json.
fn model_dir_with_config(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        shipped_dir().join("model.bpk"),
        dir.path().join("model.bpk"),
    )
    .unwrap();
    std::fs::write(dir.path().join("config.json"), config).unwrap();
    dir
}

fn shipped_config_with(extra: &str) -> String {
    let json = std::fs::read_to_string(shipped_dir().join("config.json")).unwrap();
    json.replacen('{', &format!("{{{extra}"), 1)
}

#[test]
fn a_config_with_5_or_12_classes_is_a_typed_error_and_10_loads() {
    let device = Device::flex();
    for n in [5, 12] {
        let dir = model_dir_with_config(&shipped_config_with(&format!("\"num_classes\": {n},")));
        let err = Predictor::load(dir.path(), &device).unwrap_err();
        assert!(matches!(err, InferError::InvalidConfig { .. }), "{err}");
        let chain = format!("{:#}", anyhow::Error::from(err));
        assert!(chain.contains(&format!("num_classes is {n}")), "{chain}");

        let seven = digits().join("seven.png");
        let (out, _) = infer_measured(&[
            os("--model-dir"),
            dir.path().as_os_str(),
            os("predict"),
            seven.as_os_str(),
        ]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success());
        assert_eq!(
            out.status.code(),
            Some(1),
            "an error, not a panic: {stderr}"
        );
        assert!(stderr.contains(&format!("num_classes is {n}")), "{stderr}");
    }
    let dir = model_dir_with_config(&shipped_config_with("\"num_classes\": 10,"));
    Predictor::load(dir.path(), &device).unwrap();
}

#[test]
fn a_config_with_huge_sizes_is_refused_before_anything_is_allocated() {
    let device = Device::flex();
    let shipped = std::fs::read_to_string(shipped_dir().join("config.json")).unwrap();
    for (from, to) in [
        ("\"hidden_units\": 512", "\"hidden_units\": 1099511627776"),
        ("\"kernel_size\": 3", "\"kernel_size\": 1000001"),
        ("\"conv2_filters\": 64", "\"conv2_filters\": 1000000000"),
    ] {
        let mut config = shipped.replace(from, to);
        if from.contains("kernel") {
            config = config.replace("\"padding\": \"valid\"", "\"padding\": \"same\"");
        }
        assert_ne!(config, shipped);
        let dir = model_dir_with_config(&config);
        let err = Predictor::load(dir.path(), &device).unwrap_err();
        assert!(
            matches!(err, InferError::InvalidConfig { .. }),
            "{to}: {err}"
        );

        let seven = digits().join("seven.png");
        // Refused before the network is built: the process exits too soon to be measured,
        // and it exits with an error, not Burn's allocation abort or panic.
        let (out, _) = infer_measured(&[
            os("--model-dir"),
            dir.path().as_os_str(),
            os("predict"),
            seven.as_os_str(),
        ]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("more than") || stderr.contains("larger than"),
            "{stderr}"
        );
    }
}

/// `record` with the first float32 of `fc2.bias` (its bytes found in the file) set to `value`.
fn poisoned(record: &[u8], value: f32) -> Vec<u8> {
    let predictor = Predictor::shipped(&Device::flex()).unwrap();
    let needle = predictor
        .net()
        .collect(None, None, false)
        .into_iter()
        .find(|t| t.name == "fc2.bias")
        .expect("fc2.bias")
        .to_bytes()
        .unwrap()
        .to_vec();
    let at = record
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("fc2.bias in the file");
    let mut out = record.to_vec();
    out[at..at + 4].copy_from_slice(&value.to_le_bytes());
    out
}

#[test]
fn a_record_with_nan_or_inf_weights_is_a_typed_load_error() {
    let device = Device::flex();
    let record = std::fs::read(shipped_dir().join("model.bpk")).unwrap();
    let safetensors = std::fs::read(shipped_dir().join("model.safetensors")).unwrap();
    for value in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        // Burn's own record.
        let dir = model_dir_with_config(
            &std::fs::read_to_string(shipped_dir().join("config.json")).unwrap(),
        );
        std::fs::write(dir.path().join("model.bpk"), poisoned(&record, value)).unwrap();
        let err = Predictor::load(dir.path(), &device).unwrap_err();
        match &err {
            InferError::NonFiniteWeight { path, tensor, .. } => {
                assert!(path.ends_with("model.bpk"), "{err}");
                assert!(tensor.contains("fc2"), "{err}");
            }
            other => panic!("{value}: {other}"),
        }
        // Safetensors (PyTorch's layout).
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("model.safetensors");
        std::fs::write(&file, poisoned(&safetensors, value)).unwrap();
        let err = Predictor::load(&file, &device).unwrap_err();
        assert!(
            matches!(&err, InferError::NonFiniteWeight { path, .. } if path == &file),
            "{err}"
        );
    }

    let dir =
        model_dir_with_config(&std::fs::read_to_string(shipped_dir().join("config.json")).unwrap());
    std::fs::write(dir.path().join("model.bpk"), poisoned(&record, f32::NAN)).unwrap();
    let seven = digits().join("seven.png");
    let (out, _) = infer_measured(&[
        os("--model-dir"),
        dir.path().as_os_str(),
        os("predict"),
        seven.as_os_str(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("model.bpk: tensor fc2.bias holds NaN"),
        "{stderr}"
    );
}
