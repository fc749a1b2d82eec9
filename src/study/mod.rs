//! The study's sections and the [`Study`] that runs them.
//!
//! Each section of the study is one type: its parameters, its `run`, and the tables and figures
//! it produces, each named once ([`Section`]). A [`Study`] holds the data, the seed, quick mode
//! and the output folders, runs each section on first use and keeps the result keyed by its
//! parameters; the command line and the notebooks are two clients of it, so a notebook shows
//! exactly what `fmnist reproduce` writes, under the same file names and titles.
//!
//! ```no_run
//! use fmnist::study::table1::{Table1, Table1Params};
//! use fmnist::Study;
//!
//! let mut study = Study::load()?.with_seed(7);
//! let t1 = study.table1()?; // the study's protocol, seed 7
//! let fewer_k = study.run::<Table1>(&Table1Params {
//!     ks: vec![5, 7],
//!     ..study.params::<Table1>()
//! })?; // another grid: computed anew; asking for either again reuses it
//! println!("{}", t1.table().to_markdown());
//! # Ok::<(), fmnist::study::StudyError>(())
//! ```

// Without the `linalg` feature only the first sections are here; the helpers that the later
// ones share (model results, cross-validation, their settings' checks) are then unused.
#![cfg_attr(not(feature = "linalg"), allow(dead_code))]

#[cfg(feature = "linalg")]
pub mod cnn;
pub mod exploration;
pub mod features;
#[cfg(feature = "linalg")]
pub mod full;
#[cfg(feature = "linalg")]
pub mod knn;
#[cfg(feature = "linalg")]
pub mod leaderboard;
#[cfg(feature = "linfa-baselines")]
pub mod linfa_baselines;
#[cfg(feature = "linalg")]
pub mod pca;
#[cfg(feature = "linalg")]
pub mod pca_models;
mod pipeline;
#[cfg(feature = "linalg")]
pub mod reproduce;
#[cfg(feature = "linalg")]
pub mod table1;

pub use pipeline::{FigureFile, Section, Study, TableFile, LAST_FIGURE};
#[cfg(feature = "linalg")]
pub use pipeline::{Protocol, Reproduced};

use std::time::Instant;

/// The environment variable that asks for quick runs: set (to anything but `0`), a new
/// [`Study`] is in quick mode, so every section runs its [`Preset::quick`] parameters (the
/// notebooks' CI runs use it).
pub const QUICK_ENV: &str = "FMNIST_QUICK";

/// Whether [`QUICK_ENV`] asks for quick runs.
pub fn quick() -> bool {
    std::env::var(QUICK_ENV).is_ok_and(|v| v != "0")
}

use ndarray::{ArrayView2, Axis};
use thiserror::Error;

/// Parameters of a section that runs the study's protocol by default and has a quick variant.
pub trait Preset: Default {
    /// A run of seconds that exercises every step (a few hundred images, tiny grids): for
    /// checking the pipeline, not for its numbers.
    fn quick() -> Self;

    /// The same run with every random step seeded by `seed`.
    fn with_seed(self, seed: u64) -> Self;

    /// What a [`Study`] runs by default: the quick variant in quick mode, the study's protocol
    /// otherwise, seeded with the study's seed.
    fn for_study(study: &Study) -> Self {
        let base = if study.is_quick() {
            Self::quick()
        } else {
            Self::default()
        };
        base.with_seed(study.seed())
    }
}

use crate::data::DataError;
use crate::eval::{accuracy, grid_search, ConfusionMatrix, Fold, GridSearch};
use crate::figures::FigureError;
use crate::fs::WriteError;
#[cfg(feature = "linalg")]
use crate::models::cnn::WeightsError;
use crate::models::{Classifier, Fit, ModelError};
#[cfg(feature = "linalg")]
use crate::pca::PcaError;
use crate::progress::Progress;

/// Why a section of the study could not run or be written. Each layer's error is kept whole
/// (its source chain names the file, the parameter or the model at fault).
#[derive(Debug, Error)]
pub enum StudyError {
    /// The dataset could not be found, read or verified.
    #[error("cannot load Fashion-MNIST")]
    Load(#[source] DataError),
    /// A sample of the data could not be drawn.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The PCA could not be fitted or applied.
    #[cfg(feature = "linalg")]
    #[error(transparent)]
    Pca(#[from] PcaError),
    /// A model could not be fitted.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The CNN's saved weights could not be read or written.
    #[cfg(feature = "linalg")]
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// A figure could not be drawn or written.
    #[error(transparent)]
    Figure(#[from] FigureError),
    /// A table could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// One of linfa's own algorithms, run beside ours, failed.
    #[error("linfa's {algorithm} failed")]
    Linfa {
        /// The crate and algorithm, e.g. "linfa-svm Svm".
        algorithm: &'static str,
        /// linfa's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A run's output folders could not be locked, staged or committed.
    #[error(transparent)]
    Output(#[from] crate::outputs::OutputError),
    /// A setting of the study itself is out of range.
    #[error("invalid setting {param}: {reason}")]
    InvalidParams {
        /// The setting, as the parameter type names it.
        param: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
}

/// One model's results.
#[derive(Debug, Clone)]
pub struct ModelResult {
    /// Row name, e.g. "SVM (radial)".
    pub name: &'static str,
    /// Index of the study's row for this model in its section's table of the study's numbers;
    /// `None` for a model the study did not fit (a row added from a notebook).
    pub paper_row: Option<usize>,
    /// The chosen hyperparameters, formatted.
    pub chosen: String,
    /// Every grid point: its label, mean and standard deviation of CV accuracy.
    pub grid: Vec<(String, f64, f64)>,
    /// Index of the chosen grid point.
    pub best: usize,
    /// Seconds for the whole cross-validation.
    pub cv_seconds: f64,
    /// Seconds to refit the chosen setting on all training rows.
    pub fit_seconds: f64,
    /// Seconds to predict the test rows.
    pub predict_seconds: f64,
    /// Test predictions.
    pub predictions: Vec<u8>,
    /// Test confusion matrix.
    pub confusion: ConfusionMatrix,
}

impl ModelResult {
    /// Mean CV accuracy of the chosen setting.
    pub fn cv_accuracy(&self) -> f64 {
        self.grid[self.best].1
    }

    /// The columns a notebook's table shows of a model: its name, the setting chosen, the test
    /// accuracy with its 95% interval, and kappa.
    pub(crate) fn summary_cells(&self) -> [crate::report::Cell; 4] {
        use crate::report::{pct_interval, Cell};
        let cm = &self.confusion;
        [
            Cell::text(self.name),
            Cell::text(&self.chosen),
            Cell::number(
                cm.accuracy(),
                pct_interval(cm.accuracy(), cm.accuracy_ci95()),
            ),
            Cell::fixed(cm.kappa(), 3),
        ]
    }

    /// The columns every section's results table starts with: `model, chosen, cv_accuracy,
    /// cv_sd, test_accuracy, ci95_low, ci95_high, kappa`.
    pub(crate) fn result_cells(&self) -> [crate::report::Cell; 8] {
        use crate::report::Cell;
        let (lo, hi) = self.confusion.accuracy_ci95();
        [
            Cell::text(self.name),
            Cell::text(&self.chosen),
            Cell::fixed(self.cv_accuracy(), 4),
            Cell::fixed(self.grid[self.best].2, 4),
            Cell::fixed(self.confusion.accuracy(), 4),
            Cell::fixed(lo, 4),
            Cell::fixed(hi, 4),
            Cell::fixed(self.confusion.kappa(), 4),
        ]
    }
}

pub(crate) fn grid_of<P>(
    g: &GridSearch<P>,
    label: impl Fn(&P) -> String,
) -> Vec<(String, f64, f64)> {
    g.points
        .iter()
        .map(|p| (label(&p.params), p.mean(), p.sd()))
        .collect()
}

/// Cross-validates `grid` of any model, fitting each fold's training rows.
pub(crate) fn cv<P>(
    x: ArrayView2<'_, f64>,
    y: &[u8],
    folds: &[Fold],
    grid: &[P],
    progress: &dyn Progress,
) -> Result<GridSearch<P>, ModelError>
where
    P: Fit + Clone + Sync,
{
    grid_search(grid, folds, |p, fold| {
        let y_fit: Vec<u8> = fold.train.iter().map(|&i| y[i]).collect();
        let y_val: Vec<u8> = fold.test.iter().map(|&i| y[i]).collect();
        let model = p.fit(x.select(Axis(0), &fold.train).view(), &y_fit)?;
        let acc = accuracy(&y_val, &model.predict(x.select(Axis(0), &fold.test).view()));
        progress.advance(1);
        Ok(acc)
    })
}

/// Refits `params` on all training rows, predicts the test rows, and assembles the row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish<P: Fit>(
    name: &'static str,
    paper_row: usize,
    params: &P,
    chosen: String,
    grid: Vec<(String, f64, f64)>,
    best: usize,
    cv_seconds: f64,
    (x, y, xt, yt): (ArrayView2<'_, f64>, &[u8], ArrayView2<'_, f64>, &[u8]),
) -> Result<ModelResult, ModelError> {
    let start = Instant::now();
    let model = params.fit(x, y)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let predictions = model.predict(xt);
    let predict_seconds = start.elapsed().as_secs_f64();
    Ok(ModelResult {
        name,
        paper_row: Some(paper_row),
        chosen,
        grid,
        best,
        cv_seconds,
        fit_seconds,
        predict_seconds,
        confusion: ConfusionMatrix::new(yt, &predictions),
        predictions,
    })
}

/// "reproduced" when the study's accuracy lies in our interval `ci`, else "better" or "worse".
pub(crate) fn verdict(study: f64, ours: f64, (lo, hi): (f64, f64)) -> &'static str {
    if (lo..=hi).contains(&study) {
        "reproduced"
    } else if ours > study {
        "better"
    } else {
        "worse"
    }
}

/// `Ok` when `ok`, else [`StudyError::InvalidParams`] naming `param` and saying why.
pub(crate) fn require(
    ok: bool,
    param: &'static str,
    reason: impl FnOnce() -> String,
) -> Result<(), StudyError> {
    if ok {
        Ok(())
    } else {
        Err(StudyError::InvalidParams {
            param,
            reason: reason(),
        })
    }
}

/// `param` asks for the first `n` of the `available` `what`: at least `least`, at most all.
pub(crate) fn require_rows(
    param: &'static str,
    n: usize,
    least: usize,
    available: usize,
    what: &str,
) -> Result<(), StudyError> {
    require((least..=available).contains(&n), param, || {
        format!("must be between {least} and the {available} {what}, got {n}")
    })
}

/// `train_rows`, the first training images a section uses: at least `least`, at most all.
pub(crate) fn require_train_rows(study: &Study, n: usize, least: usize) -> Result<(), StudyError> {
    let available = study.data().train.len();
    require_rows("train_rows", n, least, available, "training images")
}

/// `test_rows`, the first test images a section scores: at least one, at most all.
pub(crate) fn require_test_rows(study: &Study, n: usize) -> Result<(), StudyError> {
    require_rows("test_rows", n, 1, study.data().test.len(), "test images")
}

/// `per_class`, training images sampled per class: at least one, at most the training images
/// over the number of classes (a class with fewer is the sample's own error).
pub(crate) fn require_per_class(study: &Study, n: usize) -> Result<(), StudyError> {
    let per_class = study.data().train.len() / crate::data::N_CLASSES;
    require_rows("per_class", n, 1, per_class, "images per class")
}

/// `param`'s values of k, for kNN cross-validated on `rows` rows in `folds` folds: each at least 1
/// and at most the rows a fold trains on.
pub(crate) fn require_ks(
    param: &'static str,
    ks: &[usize],
    rows: usize,
    folds: usize,
) -> Result<(), StudyError> {
    let fit_rows = rows - rows.div_ceil(folds.max(1));
    require_each(
        param,
        ks,
        &format!("between 1 and the {fit_rows} rows a fold trains on"),
        |&k| (1..=fit_rows).contains(&k),
    )
}

/// `param` is a share in (0, 1].
pub(crate) fn require_share(param: &'static str, v: f64) -> Result<(), StudyError> {
    require(v > 0.0 && v <= 1.0, param, || {
        format!("must be in (0, 1], got {v}")
    })
}

/// `param` is a count of at least `least`.
pub(crate) fn require_at_least(
    param: &'static str,
    n: usize,
    least: usize,
) -> Result<(), StudyError> {
    require(n >= least, param, || {
        format!("must be at least {least}, got {n}")
    })
}

/// `param` is a non-empty list whose every value passes `ok` (`what` says what passing means).
pub(crate) fn require_each<T: std::fmt::Debug>(
    param: &'static str,
    values: &[T],
    what: &str,
    ok: impl Fn(&T) -> bool,
) -> Result<(), StudyError> {
    require(!values.is_empty(), param, || "must not be empty".into())?;
    match values.iter().find(|v| !ok(v)) {
        Some(bad) => require(false, param, || {
            format!("every value must be {what}, got {bad:?}")
        }),
        None => Ok(()),
    }
}

/// One row of a McNemar table (`first, second, right_only_first, right_only_second, p_value`).
pub(crate) fn mcnemar_row(
    first: &str,
    second: &str,
    m: &crate::eval::McNemar,
) -> [crate::report::Cell; 5] {
    use crate::report::Cell;
    [
        Cell::text(first),
        Cell::text(second),
        Cell::from(m.only_first),
        Cell::from(m.only_second),
        Cell::number(m.p_value, format!("{:.3e}", m.p_value)),
    ]
}

/// Every grid point of every model (mean and sd of CV accuracy, the chosen one marked), as
/// Markdown.
pub(crate) fn grid_markdown(models: &[ModelResult]) -> String {
    let mut t = crate::report::Table::new(["model", "setting", "mean", "sd"]);
    for m in models {
        for (i, (label, mean, sd)) in m.grid.iter().enumerate() {
            let mark = if i == m.best { " (chosen)" } else { "" };
            t.push([
                crate::report::Cell::text(m.name),
                crate::report::Cell::text(format!("{label}{mark}")),
                crate::report::Cell::fixed(*mean, 4),
                crate::report::Cell::fixed(*sd, 4),
            ]);
        }
    }
    t.to_markdown()
}

/// Each model's test confusion matrix under its own heading, as Markdown.
#[cfg(feature = "linalg")]
pub(crate) fn confusion_markdown(models: &[ModelResult]) -> String {
    models
        .iter()
        .map(|m| {
            format!(
                "\n## Confusion matrix, {} (rows: actual, columns: predicted)\n\n{}",
                m.name,
                knn::confusion_table(&m.confusion).to_markdown()
            )
        })
        .collect()
}
