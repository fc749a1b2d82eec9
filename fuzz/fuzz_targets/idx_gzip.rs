//! `cargo +nightly fuzz run idx_gzip`: see `checks::idx_gzip` for what it checks.

#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::idx_gzip(bytes));
