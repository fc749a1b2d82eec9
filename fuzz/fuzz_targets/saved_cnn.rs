//! `cargo +nightly fuzz run saved_cnn`: see `checks::saved_cnn` for what it checks.

#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::saved_cnn(bytes));
