//! Replays every input the fuzzers keep (`fuzz/corpus/<target>/`, what they found interesting,
//! and `fuzz/regressions/<target>/`, each input that once crashed a target) through the same
//! checks the targets run, on stable Rust: a parser regression fails CI without nightly or
//! cargo-fuzz. The fuzzing itself is described in `fuzz/README.md`.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

/// Runs `check` on every file under `fuzz/{corpus,regressions}/target`; returns how many.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for kept in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(kept).join(target)) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&bytes));
            assert!(outcome.is_ok(), "{target} fails on {}", file.display());
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn the_idx_reader_survives_every_kept_input() {
    let raw = replay("idx_raw", checks::idx_raw);
    let gzip = replay("idx_gzip", checks::idx_gzip);
    assert!(
        raw > 0 && gzip > 0,
        "{raw} and {gzip} inputs: the corpus is committed"
    );
}

#[test]
fn the_saved_cnn_loader_survives_every_kept_input() {
    assert!(replay("saved_cnn", checks::saved_cnn) > 0);
}
