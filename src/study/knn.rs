//! Section 3.2 of the study: kNN on raw pixels against kNN on PCA scores.
//!
//! Protocol (the study's, with its one flaw fixed):
//! - training rows: the first 10,000 training images; test rows: all 10,000 test images;
//! - raw pixels: caret's near-zero-variance filter (freqCut 90, uniqueCut 10), then centring and
//!   scaling, all fitted on the training rows of each fold, and on all training rows for the
//!   final model (the study scaled the test set with its own statistics);
//! - PCA: scores on the components fitted on all 60,000 training images (187 for 95% of the
//!   variance), unscaled, so distances stay those of the pixel space, minus its noise;
//! - tuning: 5-fold cross-validation repeated 3 times over k = 1, 3, …, 11, the same folds for
//!   both feature sets; the k with the best mean accuracy is refitted on all training rows;
//! - test: accuracy with its exact 95% interval, kappa, confusion matrix, and McNemar's exact
//!   test of raw against PCA on the same test images.

use std::fmt::Write as _;
use std::time::Instant;

use crate::progress::Progress;
use ndarray::Axis;

use crate::data::{Class, FashionMnist};
use crate::eval::{ConfusionMatrix, GridSearch, McNemar, StratifiedKFold};
use crate::figures::KnnTuning;
use crate::models::knn;
use crate::pca::{Pca, PcaError};
use crate::preprocess::PixelPrep;
use crate::report::{pct, pct_interval, thousands, Cell, Table};
use crate::study::{
    require_at_least, require_ks, require_share, require_test_rows, require_train_rows, FigureFile,
    Preset, Section, Study, StudyError, TableFile,
};

/// The study's numbers for this section, for comparison.
pub mod paper {
    /// Chosen k, raw pixels.
    pub const RAW_K: usize = 5;
    /// Test accuracy, raw pixels (k = 5), and its printed 95% interval.
    pub const RAW_ACCURACY: (f64, f64, f64) = (0.8133, 0.8057, 0.8209);
    /// Chosen k, PCA scores.
    pub const PCA_K: usize = 7;
    /// Test accuracy, PCA scores (k = 7), and its printed 95% interval.
    pub const PCA_ACCURACY: (f64, f64, f64) = (0.8236, 0.8161, 0.8311);
}

/// Settings of the kNN study; [`KnnStudyParams::default`] is the study's protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnStudyParams {
    /// Training rows: the first this many training images.
    pub train_rows: usize,
    /// Test rows: the first this many test images.
    pub test_rows: usize,
    /// Folds per repeat.
    pub folds: usize,
    /// Repeats of the k-fold split.
    pub repeats: usize,
    /// The values of k tried.
    pub ks: Vec<usize>,
    /// Share of variance the PCA components must explain.
    pub variance: f64,
    /// Seed of the folds.
    pub seed: u64,
}

impl Preset for KnnStudyParams {
    /// A run of seconds that exercises every step (1,500 training and 500 test images): for
    /// checking the pipeline, not for its numbers.
    fn quick() -> Self {
        KnnStudyParams {
            train_rows: 1_500,
            test_rows: 500,
            ..KnnStudyParams::default()
        }
    }

    fn with_seed(self, seed: u64) -> Self {
        KnnStudyParams { seed, ..self }
    }
}

impl Default for KnnStudyParams {
    fn default() -> Self {
        KnnStudyParams {
            train_rows: 10_000,
            test_rows: 10_000,
            folds: 5,
            repeats: 3,
            ks: vec![1, 3, 5, 7, 9, 11],
            variance: 0.95,
            seed: 42,
        }
    }
}

/// One feature set's results.
#[derive(Debug, Clone)]
pub struct KnnArm {
    /// "raw pixels" or "PCA scores".
    pub name: &'static str,
    /// Columns the classifier saw (after filtering, or the number of components).
    pub columns: usize,
    /// Cross-validated accuracy of every k.
    pub cv: GridSearch<usize>,
    /// Predicted labels of the test rows with the chosen k.
    pub predictions: Vec<u8>,
    /// The test confusion matrix.
    pub confusion: ConfusionMatrix,
    /// Seconds spent cross-validating.
    pub cv_seconds: f64,
    /// Seconds spent refitting and predicting the test rows.
    pub test_seconds: f64,
}

impl KnnArm {
    /// The k chosen by cross-validation.
    pub fn k(&self) -> usize {
        self.cv.best().params
    }
}

/// The results of the kNN study.
#[derive(Debug, Clone)]
pub struct KnnStudy {
    /// The settings it ran with.
    pub params: KnnStudyParams,
    /// Raw pixels, filtered and scaled.
    pub raw: KnnArm,
    /// PCA scores.
    pub pca: KnnArm,
    /// McNemar's exact test, raw (first) against PCA (second).
    pub mcnemar: McNemar,
    /// Pixels the near-zero-variance filter dropped (fitted on all training rows).
    pub dropped_pixels: usize,
}

/// Runs the study. `pca` is the PCA of all 60,000 training images (shared with the figures);
/// `progress` advances once per fold and once per test evaluation.
pub fn run(
    data: &FashionMnist,
    pca: &Pca,
    params: &KnnStudyParams,
    progress: &dyn Progress,
) -> Result<KnnStudy, PcaError> {
    let train = data.train.first(params.train_rows);
    let test = data.test.first(params.test_rows);
    let y = train.labels().to_vec();
    let y_test = test.labels().to_vec();
    let folds = StratifiedKFold::repeated(params.folds, params.repeats, params.seed).split(&y);
    progress.stage("kNN, raw pixels", (2 * folds.len() + 2) as u64);

    // Raw pixels: filter and scale inside every fold, on the fold's training rows only.
    let raw_images = train.images();
    let start = Instant::now();
    let raw_cv = knn::cross_validate(
        &y,
        &folds,
        &params.ks,
        |fold| {
            let fit_rows = raw_images.select(Axis(0), &fold.train);
            let val_rows = raw_images.select(Axis(0), &fold.test);
            let prep = PixelPrep::fit(fit_rows.view());
            (prep.apply(fit_rows.view()), prep.apply(val_rows.view()))
        },
        || progress.advance(1),
    );
    let cv_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let prep = PixelPrep::fit(raw_images);
    let raw_train = prep.apply(raw_images);
    let raw_test = prep.apply(test.images());
    let raw_pred = knn::predict(raw_train.view(), &y, raw_test.view(), raw_cv.best().params);
    progress.advance(1);
    let raw = KnnArm {
        name: "raw pixels",
        columns: raw_train.ncols(),
        confusion: ConfusionMatrix::new(&y_test, &raw_pred),
        predictions: raw_pred,
        cv: raw_cv,
        cv_seconds,
        test_seconds: start.elapsed().as_secs_f64(),
    };

    // PCA scores: one projection, shared by every fold.
    progress.message("kNN, PCA scores");
    let k_pca = pca.components_for(params.variance);
    let start = Instant::now();
    let scores = pca.transform(train.images(), k_pca)?.mapv(|v| v as f32);
    let scores_test = pca.transform(test.images(), k_pca)?.mapv(|v| v as f32);
    let pca_cv = knn::cross_validate(
        &y,
        &folds,
        &params.ks,
        |fold| {
            (
                scores.select(Axis(0), &fold.train),
                scores.select(Axis(0), &fold.test),
            )
        },
        || progress.advance(1),
    );
    let cv_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let pca_pred = knn::predict(scores.view(), &y, scores_test.view(), pca_cv.best().params);
    progress.advance(1);
    let pca_arm = KnnArm {
        name: "PCA scores",
        columns: k_pca,
        confusion: ConfusionMatrix::new(&y_test, &pca_pred),
        predictions: pca_pred,
        cv: pca_cv,
        cv_seconds,
        test_seconds: start.elapsed().as_secs_f64(),
    };

    Ok(KnnStudy {
        mcnemar: crate::eval::mcnemar_exact(&y_test, &raw.predictions, &pca_arm.predictions),
        dropped_pixels: prep.n_dropped(),
        params: params.clone(),
        raw,
        pca: pca_arm,
    })
}

impl Section for KnnStudy {
    type Params = KnnStudyParams;
    const TITLE: &'static str = "Section 3.2: kNN and Figures 9-10";
    const FIGURES: &'static [u8] = &[9, 10];

    fn default_params(study: &Study) -> KnnStudyParams {
        KnnStudyParams::for_study(study)
    }

    fn params(&self) -> &KnnStudyParams {
        &self.params
    }

    fn check(study: &Study, p: &KnnStudyParams) -> Result<(), StudyError> {
        require_at_least("folds", p.folds, 2)?;
        require_at_least("repeats", p.repeats, 1)?;
        require_train_rows(study, p.train_rows, p.folds)?;
        require_test_rows(study, p.test_rows)?;
        require_ks("ks", &p.ks, p.train_rows, p.folds)?;
        require_share("variance", p.variance)
    }

    fn run(study: &mut Study, params: &KnnStudyParams) -> Result<Self, StudyError> {
        let pca = study.pca()?;
        Ok(run(study.data(), &pca, params, study.progress())?)
    }

    fn tables(&self) -> Vec<TableFile> {
        vec![
            TableFile::new("knn.csv", self.table().to_csv()),
            TableFile::new("knn_cv.csv", self.cv_table().to_csv()),
            TableFile::new("knn.md", self.markdown()),
        ]
    }

    fn figures(&self) -> Vec<FigureFile<'_>> {
        vec![
            FigureFile::new(
                9,
                Some("Figure 9: kNN accuracy against k, raw pixels"),
                KnnTuning::raw(self),
            ),
            FigureFile::new(
                10,
                Some("Figure 10: kNN accuracy against k, PCA scores"),
                KnnTuning::pca(self),
            ),
        ]
    }
}

impl KnnStudy {
    fn arms(&self) -> [(&KnnArm, usize, (f64, f64, f64)); 2] {
        [
            (&self.raw, paper::RAW_K, paper::RAW_ACCURACY),
            (&self.pca, paper::PCA_K, paper::PCA_ACCURACY),
        ]
    }

    /// One row per feature set: the chosen k, its cross-validated and test accuracy with the
    /// exact 95% interval, kappa, and the study's values. No timings, so two runs with the
    /// same seed give identical files.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "features",
            "columns",
            "k",
            "cv_accuracy",
            "cv_sd",
            "test_accuracy",
            "ci95_low",
            "ci95_high",
            "kappa",
            "study_k",
            "study_accuracy",
            "seed",
        ]);
        for (arm, study_k, (study_acc, _, _)) in self.arms() {
            let (lo, hi) = arm.confusion.accuracy_ci95();
            t.push([
                Cell::text(arm.name),
                Cell::from(arm.columns),
                Cell::from(arm.k()),
                Cell::fixed(arm.cv.best().mean(), 4),
                Cell::fixed(arm.cv.best().sd(), 4),
                Cell::fixed(arm.confusion.accuracy(), 4),
                Cell::fixed(lo, 4),
                Cell::fixed(hi, 4),
                Cell::fixed(arm.confusion.kappa(), 4),
                Cell::from(study_k),
                Cell::fixed(study_acc, 4),
                Cell::from(self.params.seed),
            ]);
        }
        t
    }

    /// The table as a notebook shows it: for each feature set, the k chosen beside the study's
    /// and the test accuracy with its 95% interval beside the study's (`table()` has every
    /// column).
    pub fn summary(&self) -> Table {
        let mut t = Table::new([
            "features",
            "k (the study's)",
            "test accuracy (95% interval)",
            "the study's (its interval)",
        ]);
        for (arm, study_k, (study, lo, hi)) in self.arms() {
            let cm = &arm.confusion;
            t.push([
                Cell::text(format!("{} ({} columns)", arm.name, arm.columns)),
                Cell::text(format!("{} ({study_k})", arm.k())),
                Cell::number(
                    cm.accuracy(),
                    pct_interval(cm.accuracy(), cm.accuracy_ci95()),
                ),
                Cell::number(study, pct_interval(study, (lo, hi))),
            ]);
        }
        t
    }

    /// Mean and standard deviation of the cross-validated accuracy for every k.
    pub fn cv_table(&self) -> Table {
        let mut t = Table::new(["k", "raw_mean", "raw_sd", "pca_mean", "pca_sd"]);
        for (r, p) in self.raw.cv.points.iter().zip(&self.pca.cv.points) {
            t.push([
                Cell::from(r.params),
                Cell::fixed(r.mean(), 4),
                Cell::fixed(r.sd(), 4),
                Cell::fixed(p.mean(), 4),
                Cell::fixed(p.sd(), 4),
            ]);
        }
        t
    }

    /// The study's claim, tested: is PCA-kNN's accuracy different from raw-pixel kNN's?
    pub fn verdict(&self) -> String {
        let m = &self.mcnemar;
        let better = if self.pca.confusion.accuracy() > self.raw.confusion.accuracy() {
            "PCA scores"
        } else {
            "raw pixels"
        };
        if m.p_value < 0.05 {
            format!(
                "confirmed: {better} are more accurate, and McNemar's exact test on the same \
                 {} test images finds the difference significant (p = {:.2e}; {} images right \
                 only with raw pixels, {} only with PCA scores)",
                thousands(self.raw.predictions.len()),
                m.p_value,
                m.only_first,
                m.only_second
            )
        } else {
            format!(
                "not confirmed: McNemar's exact test finds no significant difference (p = {:.3}; \
                 {} images right only with raw pixels, {} only with PCA scores)",
                m.p_value, m.only_first, m.only_second
            )
        }
    }

    /// The whole report as Markdown: protocol, results beside the study's, the tuning curves,
    /// the significance test, per-class sensitivity and timings.
    pub fn markdown(&self) -> String {
        let p = &self.params;
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# kNN on raw pixels against kNN on PCA scores (study section 3.2)\n"
        );
        let _ = writeln!(
            md,
            "Training rows: the first {} training images; test rows: the first {} test images. \
             Tuning: {}-fold cross-validation repeated {} times over k = {:?}, the same folds for \
             both feature sets (seed {}). Raw pixels: near-zero-variance filter (freqCut 90, \
             uniqueCut 10; {} of 784 pixels dropped on all training rows), then centring and \
             scaling, fitted on each fold's training rows and, for the test, on all training \
             rows (the study scaled its test set with the test set's own statistics). PCA: the \
             {} components that explain {:.0}% of the variance of all 60,000 training images, \
             scores unscaled.\n",
            thousands(p.train_rows),
            thousands(p.test_rows),
            p.folds,
            p.repeats,
            p.ks,
            p.seed,
            self.dropped_pixels,
            self.pca.columns,
            p.variance * 100.0
        );
        let _ = writeln!(md, "## Test accuracy\n");
        let mut t = Table::new([
            "features",
            "k (study)",
            "accuracy, 95% interval",
            "kappa",
            "study",
            "verdict",
        ]);
        for (arm, study_k, (acc, lo, hi)) in self.arms() {
            let (l, h) = arm.confusion.accuracy_ci95();
            let ours = arm.confusion.accuracy();
            let verdict = if (lo..=hi).contains(&ours) || (l..=h).contains(&acc) {
                "reproduced (intervals overlap the study's value)"
            } else if ours > acc {
                "better"
            } else {
                "worse"
            };
            t.push([
                arm.name.to_string(),
                format!("{} ({study_k})", arm.k()),
                format!("{} ({} to {})", pct(ours), pct(l), pct(h)),
                format!("{:.4}", arm.confusion.kappa()),
                format!("{} ({} to {})", pct(acc), pct(lo), pct(hi)),
                verdict.to_string(),
            ]);
        }
        md.push_str(&t.to_markdown());
        let _ = writeln!(
            md,
            "\nThe study's claim that PCA scores beat raw pixels: {}.\n",
            self.verdict()
        );
        let _ = writeln!(md, "## Cross-validated accuracy by k (Figures 9 and 10)\n");
        md.push_str(&self.cv_table().to_markdown());
        let _ = writeln!(md, "\n## Sensitivity by class (test)\n");
        let mut t = Table::new(["class", "raw pixels", "PCA scores"]);
        for class in Class::ALL {
            let c = usize::from(class.label());
            t.push([
                class.name().to_string(),
                pct(self.raw.confusion.class_metrics(c).sensitivity),
                pct(self.pca.confusion.class_metrics(c).sensitivity),
            ]);
        }
        md.push_str(&t.to_markdown());
        for arm in [&self.raw, &self.pca] {
            let _ = writeln!(
                md,
                "\n## Confusion matrix, {} (k = {}; rows: actual, columns: predicted)\n",
                arm.name,
                arm.k()
            );
            md.push_str(&confusion_table(&arm.confusion).to_markdown());
        }
        let _ = writeln!(md, "\n## Time on this machine\n");
        for arm in [&self.raw, &self.pca] {
            let _ = writeln!(
                md,
                "- {}: cross-validation {:.1} s, refit and test {:.1} s",
                arm.name, arm.cv_seconds, arm.test_seconds
            );
        }
        md
    }
}

/// A confusion matrix as a table: one row per actual class, one column per predicted class
/// (any number of classes; see [`crate::data::class_names`]).
pub fn confusion_table(cm: &ConfusionMatrix) -> Table {
    let names = crate::data::class_names(cm.n_classes());
    let mut t =
        Table::new(std::iter::once("actual \\ predicted").chain(names.iter().map(String::as_str)));
    for (name, row) in names.iter().zip(&cm.counts) {
        t.push(std::iter::once(name.clone()).chain(row.iter().map(u64::to_string)));
    }
    t
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::{Origin, Source, Split, PIXELS, SIDE};
    use ndarray::{Array1, Array2};

    /// Ten classes, each a bright horizontal band at its own height, with noise; the bottom
    /// rows stay white, as an image's border does.
    fn toy_split(n: usize, salt: usize) -> Split {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let images = Array2::from_shape_fn((n, PIXELS), |(i, p)| {
            let band = 2 + 2 * (i % 10);
            let noise = ((i + salt) * 7919 + p * 104_729) % 97;
            if p / SIDE >= 24 {
                0
            } else if (band..band + 2).contains(&(p / SIDE)) {
                150 + noise as u8
            } else if noise < 20 {
                noise as u8
            } else {
                0
            }
        });
        Split::new(images, Array1::from(labels)).unwrap()
    }

    fn toy_data() -> FashionMnist {
        FashionMnist {
            train: toy_split(200, 0),
            test: toy_split(60, 1),
            source: Source {
                dir: "toy".into(),
                origin: Origin::Explicit,
                files: vec![],
                sha256: vec![],
                verified: false,
                skipped: vec![],
            },
        }
    }

    pub(crate) fn toy_study() -> KnnStudy {
        let data = toy_data();
        let pca = Pca::fit(data.train.images()).unwrap();
        let params = KnnStudyParams {
            train_rows: 200,
            test_rows: 60,
            folds: 2,
            repeats: 1,
            ks: vec![1, 3, 5],
            variance: 0.9,
            seed: 3,
        };
        run(&data, &pca, &params, &crate::progress::NoProgress).unwrap()
    }

    #[test]
    fn the_study_runs_end_to_end_and_reports_both_arms() {
        let study = toy_study();
        assert_eq!(study.raw.cv.points.len(), 3);
        assert_eq!(study.raw.predictions.len(), 60);
        assert!(study.raw.confusion.accuracy() > 0.9, "bands are easy");
        assert!(study.pca.confusion.accuracy() > 0.9);
        assert!(
            study.raw.columns < 784,
            "the near-zero-variance filter dropped pixels"
        );
        let csv = study.table().to_csv();
        assert!(csv.starts_with("features,columns,k,"));
        assert_eq!(csv.lines().count(), 3);
        let md = study.markdown();
        assert!(md.contains("## Test accuracy") && md.contains("Ankle boot"));
        assert!(md.contains("## Confusion matrix, raw pixels"));
        assert!(study.verdict().contains("McNemar"));
    }

    #[test]
    fn the_same_seed_gives_the_same_tables() {
        let (a, b) = (toy_study(), toy_study());
        assert_eq!(a.table(), b.table());
        assert_eq!(a.cv_table(), b.cv_table());
        assert_eq!(a.raw.predictions, b.raw.predictions);
    }
}
