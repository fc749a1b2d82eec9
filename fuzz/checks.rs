//! What each fuzz target checks, on one input: shared by the targets (`fuzz_targets/`, run by
//! `cargo +nightly fuzz`) and by `tests/fuzz_corpus.rs`, which replays every input kept in
//! `fuzz/corpus/` and `fuzz/regressions/` on stable Rust in CI. A check panics on a defect.

#![allow(dead_code)] // each fuzz target uses one of the checks

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use fmnist::data::idx::{read, IdxKind};
use fmnist::models::cnn::TrainedCnn;

/// The IDX reader on the bytes of a file as they come from disk (raw IDX, gzip, or neither):
/// the data or a typed error, never a panic; data it returns holds what its header declares.
pub fn idx_raw(bytes: &[u8]) {
    for kind in [IdxKind::Images, IdxKind::Labels] {
        if let Ok(idx) = read(bytes, kind) {
            let item = match kind {
                IdxKind::Images => fmnist::data::PIXELS,
                IdxKind::Labels => 1,
            };
            assert_eq!(idx.values.len(), idx.count * item);
        }
    }
}

/// The IDX reader behind gzip: the input is compressed first, so that every mutation reaches
/// the header and value checks through the decompressor (mutating compressed bytes directly
/// mostly breaks the checksum); the compressed stream is also read cut short.
pub fn idx_gzip(bytes: &[u8]) {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).expect("writing to a Vec");
    let gz = gz.finish().expect("writing to a Vec");
    // The first byte picks where to cut the stream: nowhere, or somewhere inside it.
    let cut = match bytes.first() {
        Some(&b) if b % 4 == 0 => gz.len() * usize::from(b) / 256,
        _ => gz.len(),
    };
    for kind in [IdxKind::Images, IdxKind::Labels] {
        let whole = read(&gz[..], kind);
        let plain = read(bytes, kind);
        // Compression changes nothing but the transport: the same data and digest.
        if let (Ok(a), Ok(b)) = (&whole, &plain) {
            assert_eq!(
                (a.count, &a.values, a.sha256),
                (b.count, &b.values, b.sha256)
            );
        }
        assert!(read(&gz[..cut], kind).is_err() || cut == gz.len());
    }
}

/// The saved-CNN loader on arbitrary bytes: a network or a typed error, never a panic; a
/// network it accepts saves back to a file that loads as the same network.
pub fn saved_cnn(bytes: &[u8]) {
    if let Ok(trained) = TrainedCnn::from_safetensors(bytes) {
        let again =
            TrainedCnn::from_safetensors(&trained.to_safetensors()).expect("what we save, we load");
        assert_eq!(again, trained);
    }
}
