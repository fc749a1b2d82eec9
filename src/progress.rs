//! How long work tells its caller how far it has got.
//!
//! Every section of the study reports through [`Progress`], a small trait of ours, so the library
//! needs no terminal crate: the command line implements it with a progress bar (indicatif), a
//! notebook passes [`PrintProgress`] (a line per stage with the elapsed time, which evcxr shows
//! under the cell) or [`NoProgress`].

use std::sync::Mutex;
use std::time::Instant;

/// Receives the progress of a long computation. Every method has a default that does nothing,
/// so an implementation overrides only what it shows. Calls may come from several threads at
/// once (cross-validation folds run in parallel).
pub trait Progress: Send + Sync {
    /// A section of the study begins (`"Section 2: Table 1 and Figures 4, 15, 16"`).
    fn section(&self, _title: &str) {}
    /// A stage of `total` steps begins; its position is 0.
    fn stage(&self, _message: &str, _total: u64) {}
    /// The current stage is now doing `message` (its count goes on).
    fn message(&self, _message: &str) {}
    /// `n` more steps of the current stage are done.
    fn advance(&self, _n: u64) {}
    /// A line worth keeping after the work is done ("reused the CNN weights in …").
    fn note(&self, _text: &str) {}
    /// The section is done.
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Prints a line to standard error when a section, a stage or a message begins, with the
/// seconds since the section began, and at least every [`PrintProgress::EVERY`] seconds while
/// a stage advances (`12/40 steps, 30%`): what a notebook cell shows while it computes, so
/// that no long cell is silent.
#[derive(Debug)]
pub struct PrintProgress {
    state: Mutex<PrintState>,
}

#[derive(Debug)]
struct PrintState {
    /// When the section began.
    start: Instant,
    /// When the last line was printed.
    last: Instant,
    /// The current stage's steps: done and total.
    done: u64,
    total: u64,
}

impl Default for PrintProgress {
    fn default() -> Self {
        let now = Instant::now();
        PrintProgress {
            state: Mutex::new(PrintState {
                start: now,
                last: now,
                done: 0,
                total: 0,
            }),
        }
    }
}

impl PrintProgress {
    /// The longest silence while a stage advances, in seconds.
    pub const EVERY: f64 = 5.0;

    fn state(&self) -> std::sync::MutexGuard<'_, PrintState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn line(state: &mut PrintState, text: &str) {
        state.last = Instant::now();
        eprintln!("[{:>6.1} s] {text}", state.start.elapsed().as_secs_f64());
    }
}

impl Progress for PrintProgress {
    fn section(&self, title: &str) {
        let mut state = self.state();
        state.start = Instant::now();
        Self::line(&mut state, title);
    }

    fn stage(&self, message: &str, total: u64) {
        let mut state = self.state();
        (state.done, state.total) = (0, total);
        Self::line(&mut state, &format!("{message} ({total} steps)"));
    }

    fn message(&self, message: &str) {
        Self::line(&mut self.state(), message);
    }

    fn advance(&self, n: u64) {
        let mut state = self.state();
        state.done += n;
        if state.last.elapsed().as_secs_f64() >= Self::EVERY {
            let (done, total) = (state.done, state.total.max(1));
            let text = format!("  {done}/{total} steps, {}%", done * 100 / total);
            Self::line(&mut state, &text);
        }
    }

    fn note(&self, text: &str) {
        Self::line(&mut self.state(), text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(Default)]
    struct Count(AtomicU64);

    impl Progress for Count {
        fn advance(&self, n: u64) {
            self.0.fetch_add(n, Ordering::Relaxed);
        }
    }

    #[test]
    fn an_implementation_overrides_only_what_it_shows() {
        let count = Count::default();
        let p: &dyn Progress = &count;
        p.section("s");
        p.stage("a", 3);
        p.advance(2);
        p.advance(1);
        p.finish();
        assert_eq!(count.0.load(Ordering::Relaxed), 3);
        NoProgress.advance(1);
        PrintProgress::default().stage("printed", 1);
    }
}
