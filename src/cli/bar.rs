//! The command line's [`Progress`]: section titles and notes as lines on standard error (also
//! when it is not a terminal), the work inside a section as an indicatif bar below them.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use fmnist::progress::Progress;

/// A terminal progress bar for the study's sections (hidden when standard error is not a
/// terminal, as indicatif does by itself).
#[derive(Debug, Default)]
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    /// No bar yet: each section starts its own.
    pub fn new() -> Bar {
        Bar::default()
    }

    fn with(&self, f: impl FnOnce(&ProgressBar)) {
        let mut bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        let bar = bar.get_or_insert_with(|| {
            ProgressBar::new(0).with_style(
                ProgressStyle::with_template("{msg:24} {bar:30} {pos}/{len} {elapsed}")
                    .expect("a valid template"),
            )
        });
        f(bar)
    }
}

impl Progress for Bar {
    fn section(&self, title: &str) {
        self.with(|b| b.suspend(|| eprintln!("{title}")));
    }

    fn stage(&self, message: &str, total: u64) {
        self.with(|b| {
            b.set_length(total);
            b.set_position(0);
            b.set_message(message.to_string());
        });
    }

    fn message(&self, message: &str) {
        self.with(|b| b.set_message(message.to_string()));
    }

    fn advance(&self, n: u64) {
        self.with(|b| b.inc(n));
    }

    fn note(&self, text: &str) {
        self.with(|b| b.suspend(|| eprintln!("{text}")));
    }

    fn finish(&self) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}
