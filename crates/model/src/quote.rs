//! Quoting what a user typed or a file holds in an error message, cut to a readable length.
//!
//! A file can hold a megabyte-long tensor name and a flag can carry ten thousand entries; an
//! error that repeats such a value whole floods the terminal and the logs and hides the one
//! line that says what is wrong. Every crate of the workspace quotes user values through
//! [`quote`] (and [`quote_path`]), so that no error shows more than [`MAX_QUOTED_CHARS`]
//! characters of any one of them.

use std::borrow::Cow;
use std::path::Path;

/// The most characters of one user value an error message shows.
pub const MAX_QUOTED_CHARS: usize = 100;

/// `value`, or its first [`MAX_QUOTED_CHARS`] characters followed by how many were left out
/// (`abc… (1048476 more characters)`). Cut on a character boundary.
pub fn quote(value: &str) -> Cow<'_, str> {
    quote_at(value, MAX_QUOTED_CHARS)
}

/// [`quote`] with another length: for a message of a library that may quote a user value
/// inside it (serde's `invalid type: string "..."`), cut longer than one value so that its own
/// words stay whole.
pub fn quote_at(value: &str, max_chars: usize) -> Cow<'_, str> {
    match value.char_indices().nth(max_chars) {
        None => Cow::Borrowed(value),
        Some((end, _)) => {
            let rest = value[end..].chars().count();
            Cow::Owned(format!("{}… ({rest} more characters)", &value[..end]))
        }
    }
}

/// [`quote`] of a path as the platform displays it (non-UTF-8 bytes replaced).
pub fn quote_path(path: &Path) -> String {
    quote(&path.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_shown_whole() {
        assert_eq!(quote("conv1.weight"), "conv1.weight");
        let exact = "x".repeat(MAX_QUOTED_CHARS);
        assert_eq!(quote(&exact), exact.as_str());
    }

    #[test]
    fn long_values_are_cut_on_a_character_boundary() {
        let long = "é".repeat(1_000_000);
        let quoted = quote(&long);
        assert!(quoted.starts_with(&"é".repeat(MAX_QUOTED_CHARS)));
        assert!(quoted.ends_with("… (999900 more characters)"), "{quoted}");
        assert!(quoted.chars().count() < MAX_QUOTED_CHARS + 30);
        let path = std::path::PathBuf::from("d/".repeat(500));
        assert!(quote_path(&path).len() < 140);
    }
}
