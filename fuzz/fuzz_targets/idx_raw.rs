//! `cargo +nightly fuzz run idx_raw`: see `checks::idx_raw` for what it checks.

#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::idx_raw(bytes));
