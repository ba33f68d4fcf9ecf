//! Labelled image folders in the common "MNIST as PNGs" layout: `DIR/<digit>/*.png`.

use std::path::{Path, PathBuf};

use data::MnistSet;
use model::NUM_CLASSES;

use crate::{InferError, open_image, preprocess};

/// Images of a labelled folder, preprocessed, with the files that could not be used.
pub struct LabelledFolder {
    /// The usable images and their labels.
    pub set: MnistSet,
    /// The file of each image of `set`, in order.
    pub files: Vec<PathBuf>,
    /// Files that failed, with why.
    pub failures: Vec<InferError>,
}

/// Reads every image under `dir/0` .. `dir/9` (PNG or JPEG, within the limits of
/// [`crate::image_decode`]). A file that fails (not an image, too large, blank) is listed in
/// `failures` and the others are still read; when every file fails, the error says how many
/// were found and why the first failed.
pub fn read_labelled_folder(dir: &Path) -> Result<LabelledFolder, InferError> {
    if !dir.is_dir() {
        return Err(InferError::NotADirectory { path: dir.into() });
    }
    let (mut pixels, mut labels, mut files, mut failures) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for digit in (0u8..).take(NUM_CLASSES) {
        let sub = dir.join(digit.to_string());
        let Ok(entries) = std::fs::read_dir(&sub) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for path in paths {
            match open_image(&path).and_then(|img| preprocess(&img)) {
                Ok(image) => {
                    pixels.extend_from_slice(&image);
                    labels.push(digit);
                    files.push(path);
                }
                Err(InferError::NoInk) => failures.push(InferError::BlankImage { path }),
                Err(err) => failures.push(err),
            }
        }
    }
    if labels.is_empty() {
        let failed = failures.len();
        return Err(match failures.into_iter().next() {
            // Files were found: say so, and why the first one failed.
            Some(first) => InferError::AllImagesFailed {
                path: dir.into(),
                failed,
                first: Box::new(first),
            },
            None => InferError::NoImages { path: dir.into() },
        });
    }
    Ok(LabelledFolder {
        set: MnistSet::from_parts(pixels, labels),
        files,
        failures,
    })
}
