//! The `fmnist` binary's own modules: its arguments, its progress bar, and `fmnist bench`.

pub mod args;
pub mod bar;
pub mod bench;
