//! The `fmnist` binary's own modules: its arguments, its progress bar, `fmnist bench`, and
//! what it does on a signal.

pub mod args;
pub mod bar;
pub mod bench;
pub mod signals;
