//! An uploaded picture through what `infer predict` and `POST /api/predict` do with it:
//! `infer::decode_image` (PNG or JPEG, decided by content, within the decoder limits) then
//! `infer::preprocess` to 28x28. Errors are fine; a panic, an abort or an allocation past the
//! fuzzer's limit is a finding.

/// Decodes `data` as a picture file and preprocesses it.
pub fn run(data: &[u8]) {
    if let Ok(image) = infer::decode_image(data) {
        let _ = infer::preprocess(&image);
    }
}
