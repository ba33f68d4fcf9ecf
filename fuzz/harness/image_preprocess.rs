//! An uploaded picture file through what `infer predict` does with it: `infer::open_image`
//! (PNG or JPEG, decided by content) then `infer::preprocess` to 28x28. Errors are fine; a
//! panic, an abort or an allocation past the fuzzer's limit is a finding.

use std::io::Write;

/// Writes `data` to a temporary file (`open_image` takes a path) and preprocesses it.
pub fn run(data: &[u8]) {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(data).expect("a writable temporary file");
    if let Ok(image) = infer::open_image(file.path()) {
        let _ = infer::preprocess(&image);
    }
}
