//! The IDX reader (`data::idx::read_idx_from`) on arbitrary bytes, as both kinds of file:
//! gzipped or raw, it must return an error or a file whose data is exactly what its header
//! announces, never panic or allocate past the header's bound.

use std::path::Path;

use data::idx::{IdxKind, MAX_ITEMS, read_idx_from};

/// Reads `data` as an images file and as a labels file.
pub fn run(data: &[u8]) {
    for kind in [IdxKind::Images, IdxKind::Labels] {
        if let Ok(idx) = read_idx_from(Path::new("fuzz-input"), data, kind) {
            assert!(idx.count <= MAX_ITEMS as usize);
            assert_eq!(idx.header.len(), kind.header_len());
            let item = if kind == IdxKind::Images { 784 } else { 1 };
            assert_eq!(idx.data.len(), idx.count * item);
            if kind == IdxKind::Labels {
                assert!(idx.data.iter().all(|&l| l <= 9));
            }
        }
    }
}
