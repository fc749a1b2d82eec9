//! What the binary does when the machine or the user interrupts it.
//!
//! - SIGINT, SIGTERM, SIGHUP: the unfinished run's staging folders are removed
//!   ([`fmnist::outputs::abandon_all`]), so the output folders keep exactly what they held, and
//!   the process exits with one line and the status a shell gives a killed command (128 + the
//!   signal's number). SIGKILL cannot be caught: the next run into the folder removes what
//!   the killed one left, and `fmnist check` reports it meanwhile.
//! - SIGXFSZ (a file grew past `ulimit -f`): caught, so that the write fails with "File too
//!   large" and the run stops with that error like any other failed write, instead of the
//!   process dying without a word.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
use signal_hook::iterator::Signals;

/// Installs the handlers; a platform that refuses one leaves the default behaviour for it.
pub fn install() {
    // The flag is never read: catching the signal is what turns it into a write error.
    let _ = signal_hook::flag::register(SIGXFSZ, Arc::new(AtomicBool::new(false)));
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            fmnist::outputs::abandon_all();
            let name = match signal {
                SIGINT => "SIGINT",
                SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            };
            eprintln!(
                "error: interrupted by {name}: this run's files were discarded; the output \
                 folders hold what they held before it"
            );
            std::process::exit(128 + signal);
        }
    });
}
