//! Beyond the study: linfa's own algorithms beside ours, on the same inputs.
//!
//! The Rust ecosystem's baseline for each algorithm we wrote ourselves: linfa-logistic's
//! `MultiLogisticRegression`, linfa-bayes' `GaussianNb`, linfa-reduction's `Pca`, linfa-svm
//! (one binary machine per class pair, as ours) and linfa-trees' `DecisionTree`. Each pair of
//! rows sees the same inputs as Table 1: the study's seeded sample of 1,001 training images per
//! class, their 84 engineered features, the first 10,000 test images; the PCA sees the first
//! 10,000 training images' pixels. Settings are the ones Table 1's cross-validation chose at
//! seed 42 (weight decay 1, C = 8 with γ from `sigest`), fixed here so that the comparison never
//! looks at the test set and does not rerun Table 1; where linfa's parameter means something
//! else, it is translated (logistic regression's `alpha` is twice our decay; linfa-svm's
//! Gaussian `eps` is 1/γ). Each row says why the two differ. Time is fit plus prediction,
//! wall-clock; ours use both cores where their work is parallel, and so does the linfa SVM's
//! loop over class pairs (each linfa fit itself runs on one core).
//!
//! `fmnist linfa` writes the table as `results/linfa_baselines.csv` and `.md`.

use std::time::Instant;

use linfa::traits::{Fit as _, Predict as _};
use linfa::Dataset;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::data::N_CLASSES;
use crate::eval::ConfusionMatrix;
use crate::models::bayes::{BayesParams, Density};
use crate::models::forest::ForestParams;
use crate::models::logistic::LogisticParams;
use crate::models::svm::{self, Gamma, SvmParams};
use crate::models::{n_classes, Classifier, Fit};
use crate::pca::Pca;
use crate::preprocess::Standardizer;
use crate::report::{pct, Cell, Table};
use crate::study::table1::{Table1Inputs, Table1Params};
use crate::study::{
    require_at_least, require_per_class, require_rows, require_test_rows, Preset, Section, Study,
    StudyError, TableFile,
};

/// Settings of the comparison; the default is Table 1's inputs and chosen settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LinfaBaselinesParams {
    /// Training images sampled per class, as Table 1 (1,001).
    pub per_class: usize,
    /// Test rows: the first this many test images.
    pub test_rows: usize,
    /// Logistic regression's weight decay (ours; linfa's `alpha` is twice it).
    pub decay: f64,
    /// The SVM's cost C; γ is `sigest`'s estimate on the centred and scaled training rows.
    pub svm_c: f64,
    /// Training images (the first this many) whose pixels both PCAs are fitted on.
    pub pca_rows: usize,
    /// Components linfa's truncated PCA keeps (ours computes all 784).
    pub pca_components: usize,
    /// Seed of the sample, γ's estimate and our forest.
    pub seed: u64,
}

impl Default for LinfaBaselinesParams {
    fn default() -> Self {
        LinfaBaselinesParams {
            per_class: 1_001,
            test_rows: 10_000,
            decay: 1.0,
            svm_c: 8.0,
            pca_rows: 10_000,
            pca_components: 4,
            seed: 42,
        }
    }
}

impl Preset for LinfaBaselinesParams {
    /// 60 images per class, 300 test images, a PCA of 600 images: seconds.
    fn quick() -> Self {
        LinfaBaselinesParams {
            per_class: 60,
            test_rows: 300,
            pca_rows: 600,
            ..LinfaBaselinesParams::default()
        }
    }

    fn with_seed(self, seed: u64) -> Self {
        LinfaBaselinesParams { seed, ..self }
    }
}

/// What one implementation gave.
#[derive(Debug, Clone)]
pub enum Measure {
    /// A classifier's test predictions and their confusion matrix.
    Accuracy {
        /// The predicted label of each test row.
        predictions: Vec<u8>,
        /// Test confusion matrix.
        confusion: ConfusionMatrix,
    },
    /// A PCA's explained-variance ratios of its leading components, as it reports them.
    VarianceRatio(Vec<f64>),
}

impl Measure {
    /// A classifier's predictions of `actual`, tallied against it.
    fn classified(n_classes: usize, actual: &[u8], predictions: Vec<u8>) -> Measure {
        Measure::Accuracy {
            confusion: ConfusionMatrix::with_classes(n_classes, actual, &predictions),
            predictions,
        }
    }

    /// Test accuracy, for a classifier.
    pub fn accuracy(&self) -> Option<f64> {
        match self {
            Measure::Accuracy { confusion, .. } => Some(confusion.accuracy()),
            Measure::VarianceRatio(_) => None,
        }
    }

    /// A classifier's test predictions.
    pub fn predictions(&self) -> Option<&[u8]> {
        match self {
            Measure::Accuracy { predictions, .. } => Some(predictions),
            Measure::VarianceRatio(_) => None,
        }
    }

    /// The result as the table shows it: an accuracy with its exact 95% interval, or the
    /// variance ratios.
    pub fn describe(&self) -> String {
        match self {
            Measure::Accuracy { confusion, .. } => {
                let (lo, hi) = confusion.accuracy_ci95();
                format!("{} [{}, {}]", pct(confusion.accuracy()), pct(lo), pct(hi))
            }
            Measure::VarianceRatio(r) => {
                let shares: Vec<String> = r.iter().map(|&v| format!("{:.1}%", 100.0 * v)).collect();
                format!("PC1–{}: {}", r.len(), shares.join(", "))
            }
        }
    }
}

/// One implementation of an algorithm, run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The implementation and how it was called.
    pub call: String,
    /// What it gave.
    pub measure: Measure,
    /// Seconds to fit and predict (or, for the PCA, to fit).
    pub seconds: f64,
}

/// One algorithm, linfa's implementation beside ours.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The algorithm, e.g. "Multinomial logistic regression".
    pub algorithm: &'static str,
    /// The inputs and setting both ran with.
    pub setting: String,
    /// linfa's.
    pub linfa: Outcome,
    /// Ours.
    pub ours: Outcome,
    /// Why the two differ.
    pub why: &'static str,
}

impl Comparison {
    /// For classifiers, the share of test images that both label alike.
    pub fn agreement(&self) -> Option<f64> {
        let (a, b) = (
            self.linfa.measure.predictions()?,
            self.ours.measure.predictions()?,
        );
        let same = a.iter().zip(b).filter(|(a, b)| a == b).count();
        Some(same as f64 / a.len() as f64)
    }
}

/// linfa's algorithms beside ours.
#[derive(Debug, Clone)]
pub struct LinfaBaselines {
    /// The settings it ran with.
    pub params: LinfaBaselinesParams,
    /// One row per algorithm.
    pub rows: Vec<Comparison>,
}

impl LinfaBaselines {
    /// The comparison as a table: per algorithm, each implementation's call, result and time.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "algorithm",
            "setting",
            "linfa",
            "linfa_result",
            "linfa_seconds",
            "ours",
            "our_result",
            "our_seconds",
            "agreement",
            "why_they_differ",
            "seed",
        ]);
        for r in &self.rows {
            t.push([
                Cell::text(r.algorithm),
                Cell::text(&r.setting),
                Cell::text(&r.linfa.call),
                Cell::text(r.linfa.measure.describe()),
                Cell::fixed(r.linfa.seconds, 2),
                Cell::text(&r.ours.call),
                Cell::text(r.ours.measure.describe()),
                Cell::fixed(r.ours.seconds, 2),
                r.agreement().map(|a| Cell::number(a, pct(a))).into(),
                Cell::text(r.why),
                Cell::from(self.params.seed),
            ]);
        }
        t
    }

    /// The table with a heading and a note on the inputs, for `linfa_baselines.md`.
    pub fn markdown(&self) -> String {
        let p = &self.params;
        format!(
            "# linfa's algorithms beside ours\n\n\
             Classifiers: {} training images ({} per class, seed {}), 84 engineered features, \
             tested on the first {} test images; accuracy with its exact 95% interval. \
             PCA: the pixels of the first {} training images. Time: fit and predict, seconds, \
             wall-clock. Made by `fmnist linfa`.\n\n{}",
            p.per_class * N_CLASSES,
            p.per_class,
            p.seed,
            p.test_rows,
            p.pca_rows,
            self.table().to_markdown()
        )
    }
}

impl Section for LinfaBaselines {
    type Params = LinfaBaselinesParams;
    const TITLE: &'static str = "Beyond the study: linfa's algorithms beside ours";
    const FIGURES: &'static [u8] = &[];

    fn default_params(study: &Study) -> LinfaBaselinesParams {
        LinfaBaselinesParams::for_study(study)
    }

    fn params(&self) -> &LinfaBaselinesParams {
        &self.params
    }

    fn check(study: &Study, p: &LinfaBaselinesParams) -> Result<(), StudyError> {
        require_per_class(study, p.per_class.max(2))?;
        require_at_least("per_class", p.per_class, 2)?;
        require_test_rows(study, p.test_rows)?;
        let available = study.data().train.len();
        require_rows("pca_rows", p.pca_rows, 2, available, "training images")?;
        if !(p.decay.is_finite() && p.decay >= 0.0) {
            return Err(StudyError::InvalidParams {
                param: "decay",
                reason: format!("must be a finite number >= 0, got {}", p.decay),
            });
        }
        if !(p.svm_c.is_finite() && p.svm_c > 0.0) {
            return Err(StudyError::InvalidParams {
                param: "svm_c",
                reason: format!("must be a finite number > 0, got {}", p.svm_c),
            });
        }
        let pixels = study.data().train.images().ncols();
        crate::study::require_rows("pca_components", p.pca_components, 1, pixels, "pixels")
    }

    fn run(study: &mut Study, params: &LinfaBaselinesParams) -> Result<Self, StudyError> {
        let progress = study.progress();
        progress.stage(Self::TITLE, 5);
        let inputs = Table1Inputs::new(
            study.data(),
            &Table1Params {
                per_class: params.per_class,
                test_rows: params.test_rows,
                seed: params.seed,
                folds: 2,
                ..Table1Params::default()
            },
        )?;
        let mut rows = Vec::new();
        progress.message("multinomial logistic regression");
        rows.push(logistic(&inputs, params.decay)?);
        progress.advance(1);
        progress.message("Gaussian naive Bayes");
        rows.push(gaussian_nb(&inputs)?);
        progress.advance(1);
        progress.message("PCA");
        let pixels = study.data().train.first(params.pca_rows);
        rows.push(pca(pixels.images(), params.pca_components)?);
        progress.advance(1);
        progress.message("SVM (radial)");
        rows.push(svm_radial(&inputs, params.svm_c, params.seed)?);
        progress.advance(1);
        progress.message("decision tree");
        rows.push(decision_tree(&inputs, params.seed)?);
        progress.advance(1);
        Ok(LinfaBaselines {
            params: params.clone(),
            rows,
        })
    }

    fn tables(&self) -> Vec<TableFile> {
        vec![
            TableFile::new("linfa_baselines.csv", self.table().to_csv()),
            TableFile::new("linfa_baselines.md", self.markdown()),
        ]
    }
}

/// Wraps an error of linfa's `algorithm` into the study's error.
fn linfa_error<E>(algorithm: &'static str) -> impl FnOnce(E) -> StudyError
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |source| StudyError::Linfa {
        algorithm,
        source: Box::new(source),
    }
}

/// The labels as linfa's targets.
fn targets(y: &[u8]) -> Array1<usize> {
    y.iter().map(|&l| usize::from(l)).collect()
}

/// linfa's test predictions, tallied.
fn classified(inputs: &Table1Inputs, predicted: &Array1<usize>) -> Measure {
    // linfa's classifiers predict only labels they were trained on, all below 256.
    let predicted: Vec<u8> = predicted
        .iter()
        .map(|&l| u8::try_from(l).expect("a label of the training rows"))
        .collect();
    Measure::classified(n_classes(&inputs.y), &inputs.test_y, predicted)
}

/// Fits and tests one of our models.
fn ours<P: Fit>(inputs: &Table1Inputs, call: String, params: &P) -> Result<Outcome, StudyError> {
    let start = Instant::now();
    let model = params.fit(inputs.x.view(), &inputs.y)?;
    let predicted = model.predict(inputs.test_x.view());
    Ok(Outcome {
        call,
        seconds: start.elapsed().as_secs_f64(),
        measure: Measure::classified(n_classes(&inputs.y), &inputs.test_y, predicted),
    })
}

/// Fits and tests one of linfa's classifiers on the section's features, as [`ours`] does ours.
fn theirs<P, E>(
    inputs: &Table1Inputs,
    algorithm: &'static str,
    call: &str,
    params: &P,
) -> Result<Outcome, StudyError>
where
    P: linfa::traits::Fit<Array2<f64>, Array1<usize>, E>,
    P::Object: linfa::traits::PredictInplace<Array2<f64>, Array1<usize>>,
    E: std::error::Error + From<linfa::Error> + Send + Sync + 'static,
{
    let start = Instant::now();
    let train = Dataset::new(inputs.x.clone(), targets(&inputs.y));
    let model = params.fit(&train).map_err(linfa_error(algorithm))?;
    let predicted = model.predict(&inputs.test_x);
    Ok(Outcome {
        call: call.into(),
        seconds: start.elapsed().as_secs_f64(),
        measure: classified(inputs, &predicted),
    })
}

fn logistic(inputs: &Table1Inputs, decay: f64) -> Result<Comparison, StudyError> {
    let alpha = 2.0 * decay;
    let start = Instant::now();
    // Both on the same centred and scaled inputs (ours scales inside the model).
    let scaler = Standardizer::fit(inputs.x.view());
    let train = Dataset::new(scaler.transform(inputs.x.view()), targets(&inputs.y));
    let model = linfa_logistic::MultiLogisticRegression::default()
        .alpha(alpha)
        .max_iterations(100)
        .fit(&train)
        .map_err(linfa_error("linfa-logistic MultiLogisticRegression"))?;
    let predicted = model.predict(&scaler.transform(inputs.test_x.view()));
    let linfa = Outcome {
        call: format!("MultiLogisticRegression::default().alpha({alpha}).max_iterations(100)"),
        seconds: start.elapsed().as_secs_f64(),
        measure: classified(inputs, &predicted),
    };
    let ours = ours(
        inputs,
        format!("LogisticParams::new({decay})"),
        &LogisticParams::new(decay),
    )?;
    Ok(Comparison {
        algorithm: "Multinomial logistic regression",
        setting: format!(
            "decay {decay} (the penalty decay · Σw², linfa's α/2 · Σw²), centred and scaled"
        ),
        linfa,
        ours,
        why: "the same objective, and both stop at the 100-iteration cap (nnet::multinom's \
              maxit, the study's) before converging, at different points of the path: linfa's \
              objective (seed 42) still falls from 4,414.5 at 100 iterations to 4,382.2 at 400 \
              (test accuracy 82.09% to 82.47%), its time in proportion. Per iteration, linfa's \
              L-BFGS (argmin, Moré–Thuente line search) takes longer than ours (a backtracking \
              Armijo search)",
    })
}

fn gaussian_nb(inputs: &Table1Inputs) -> Result<Comparison, StudyError> {
    let linfa = theirs(
        inputs,
        "linfa-bayes GaussianNb",
        "GaussianNb::params()",
        &linfa_bayes::GaussianNb::params(),
    )?;
    let ours = ours(
        inputs,
        "BayesParams { density: Density::Gaussian }".into(),
        &BayesParams {
            density: Density::Gaussian,
        },
    )?;
    Ok(Comparison {
        algorithm: "Gaussian naive Bayes",
        setting: "one normal per class and feature, raw features".into(),
        linfa,
        ours,
        why: "the same model, fitted the same way (variances over n, plus 1e-9 of the \
              largest feature variance, scikit-learn's var_smoothing): the predictions agree",
    })
}

fn pca(pixels: ArrayView2<'_, u8>, components: usize) -> Result<Comparison, StudyError> {
    let start = Instant::now();
    let records: Array2<f64> = pixels.mapv(f64::from);
    let fitted = linfa_reduction::Pca::params(components)
        .fit(&linfa::DatasetBase::from(records))
        .map_err(linfa_error("linfa-reduction Pca"))?;
    let linfa = Outcome {
        call: format!("Pca::params({components}), explained_variance_ratio()"),
        seconds: start.elapsed().as_secs_f64(),
        measure: Measure::VarianceRatio(fitted.explained_variance_ratio().to_vec()),
    };
    let start = Instant::now();
    let ours = Pca::fit(pixels)?;
    let ours = Outcome {
        call: "pca::Pca::fit, explained_variance_ratio()".into(),
        seconds: start.elapsed().as_secs_f64(),
        measure: Measure::VarianceRatio(
            ours.explained_variance_ratio()
                .iter()
                .take(components)
                .copied()
                .collect(),
        ),
    };
    Ok(Comparison {
        algorithm: "PCA",
        setting: format!("{} images' 784 pixels, centred, not scaled", pixels.nrows()),
        linfa,
        ours,
        why: "the same components, a different ratio: linfa divides each component's variance \
              by the kept components' total, not by the data's total variance, so its ratios sum \
              to 1 whatever is kept (docs/upstream.md); it finds the kept components iteratively \
              (LOBPCG), ours all 784 exactly from the covariance matrix",
    })
}

fn svm_radial(inputs: &Table1Inputs, c: f64, seed: u64) -> Result<Comparison, StudyError> {
    let start = Instant::now();
    let scaler = Standardizer::fit(inputs.x.view());
    let (x, test_x) = (
        scaler.transform(inputs.x.view()),
        scaler.transform(inputs.test_x.view()),
    );
    let gamma = svm::sigest(x.view(), seed);
    let classes = n_classes(&inputs.y) as u8;
    let pairs: Vec<(u8, u8)> = (0..classes)
        .flat_map(|a| (a + 1..classes).map(move |b| (a, b)))
        .collect();
    // One binary machine per class pair, as ours and libsvm, each voting on every test row.
    let votes = pairs
        .par_iter()
        .map(|&(a, b)| {
            let rows: Vec<usize> = (0..inputs.y.len())
                .filter(|&i| inputs.y[i] == a || inputs.y[i] == b)
                .collect();
            let pair = Dataset::new(
                x.select(Axis(0), &rows),
                rows.iter()
                    .map(|&i| inputs.y[i] == a)
                    .collect::<Array1<bool>>(),
            );
            let model = linfa_svm::Svm::<f64, bool>::params()
                .pos_neg_weights(c, c)
                .gaussian_kernel(1.0 / gamma)
                .eps(1e-3)
                .fit(&pair)
                .map_err(linfa_error("linfa-svm Svm"))?;
            let is_a: Array1<bool> = model.predict(&test_x);
            Ok(is_a.mapv(|first| if first { a } else { b }))
        })
        .collect::<Result<Vec<Array1<u8>>, StudyError>>()?;
    let predicted: Array1<usize> = (0..test_x.nrows())
        .map(|row| {
            let mut count = vec![0u32; usize::from(classes)];
            for v in &votes {
                count[usize::from(v[row])] += 1;
            }
            // The most votes; a tie goes to the lower class, as libsvm's.
            (0..count.len())
                .max_by_key(|&k| (count[k], std::cmp::Reverse(k)))
                .expect("at least two classes")
        })
        .collect();
    let linfa = Outcome {
        call: format!(
            "Svm::<f64, bool>::params().pos_neg_weights({c}, {c}).gaussian_kernel(1/γ).eps(1e-3), \
             one per class pair"
        ),
        seconds: start.elapsed().as_secs_f64(),
        measure: classified(inputs, &predicted),
    };
    let ours = ours(
        inputs,
        format!("SvmParams {{ c: {c}, gamma: Gamma::Sigest {{ seed: {seed} }} }}"),
        &SvmParams {
            c,
            gamma: Gamma::Sigest { seed },
        },
    )?;
    Ok(Comparison {
        algorithm: "SVM (radial), one-vs-one",
        setting: format!("C = {c}, γ = {gamma:.4} (sigest), centred and scaled, stopping at 1e-3"),
        linfa,
        ours,
        why: "the same problem, kernel and stopping rule (libsvm's 1e-3; linfa's \
              default, 1e-7, costs more time for the same support vectors), so the solutions \
              differ only within that tolerance; linfa fills each pair's kernel matrix entry by \
              entry in f64, ours from one f32 matrix product",
    })
}

fn decision_tree(inputs: &Table1Inputs, seed: u64) -> Result<Comparison, StudyError> {
    let linfa = theirs(
        inputs,
        "linfa-trees DecisionTree",
        "DecisionTree::params()",
        &linfa_trees::DecisionTree::params(),
    )?;
    let forest = ForestParams::study(inputs.x.ncols(), seed);
    let ours = ours(
        inputs,
        format!(
            "ForestParams::study(84, {seed}): {} trees, mtry = {}",
            forest.trees,
            forest.mtry_for(inputs.x.ncols())
        ),
        &forest,
    )?;
    Ok(Comparison {
        algorithm: "Decision tree (ours: random forest)",
        setting: "linfa's defaults (Gini, no depth limit, minimum impurity decrease 1e-5), raw \
                  features"
            .into(),
        linfa,
        ours,
        why: "different models: we have no single tree; ours is the study's random forest of \
              such trees, each on a bootstrap sample with 9 candidate features per split, whose \
              averaged votes cut the single tree's variance. linfa's tree is not reproducible: it \
              keeps class counts in a randomly seeded HashMap, so equal fits differ from run to \
              run (docs/upstream.md)",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Twelve well-separated classes: every linfa classifier must find them.
    fn inputs() -> Table1Inputs {
        let (classes, per_class, d) = (12usize, 20usize, 12usize);
        let make = |n: usize, shift: f64| {
            let mut x = Array2::<f64>::zeros((classes * n, d));
            let mut y = Vec::new();
            for (i, mut row) in x.rows_mut().into_iter().enumerate() {
                let class = i % classes;
                for (j, v) in row.iter_mut().enumerate() {
                    let wobble = ((i * 7 + j * 3) % 11) as f64 / 11.0 + shift;
                    *v = if j % classes == class { 4.0 } else { 0.0 } + wobble;
                }
                y.push(class as u8);
            }
            (x, y)
        };
        let (x, y) = make(per_class, 0.0);
        let (test_x, test_y) = make(5, 0.05);
        Table1Inputs {
            x,
            y,
            test_x,
            test_y,
            folds: Vec::new(),
        }
    }

    #[test]
    fn each_linfa_classifier_runs_beside_ours_and_both_find_separable_classes() {
        let inputs = inputs();
        for row in [
            logistic(&inputs, 1.0).unwrap(),
            gaussian_nb(&inputs).unwrap(),
            svm_radial(&inputs, 8.0, 42).unwrap(),
            decision_tree(&inputs, 42).unwrap(),
        ] {
            for outcome in [&row.linfa, &row.ours] {
                let acc = outcome.measure.accuracy().unwrap();
                assert!(acc > 0.9, "{}: {} got {acc}", row.algorithm, outcome.call);
            }
        }
    }

    #[test]
    fn linfas_pca_ratio_counts_only_the_kept_components() {
        // Variance 9 : 4 : 1 along three pixels (the rest constant): of the total, PC1 holds
        // 9/14; linfa, keeping two, reports 9/13.
        let mut pixels = Array2::<u8>::from_elem((400, 784), 100);
        for (i, mut row) in pixels.rows_mut().into_iter().enumerate() {
            let s = if i % 2 == 0 { 1.0 } else { -1.0 };
            let t = if (i / 2) % 2 == 0 { 1.0 } else { -1.0 };
            let u = if (i / 4) % 2 == 0 { 1.0 } else { -1.0 };
            row[0] = (100.0 + 30.0 * s) as u8;
            row[1] = (100.0 + 20.0 * t) as u8;
            row[2] = (100.0 + 10.0 * u) as u8;
        }
        let row = pca(pixels.view(), 2).unwrap();
        let (Measure::VarianceRatio(linfa), Measure::VarianceRatio(ours)) =
            (&row.linfa.measure, &row.ours.measure)
        else {
            panic!("a PCA row reports variance ratios");
        };
        assert!((ours[0] - 9.0 / 14.0).abs() < 1e-9, "ours: {ours:?}");
        // linfa's LOBPCG stops near the answer, not at it (0.69248 for 0.69231).
        assert!((linfa[0] - 9.0 / 13.0).abs() < 1e-3, "linfa: {linfa:?}");
        assert!((linfa.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_table_has_a_row_per_algorithm_and_names_both_calls() {
        let inputs = inputs();
        let baselines = LinfaBaselines {
            params: LinfaBaselinesParams::default(),
            rows: vec![gaussian_nb(&inputs).unwrap()],
        };
        let csv = baselines.table().to_csv();
        assert!(csv.starts_with("algorithm,setting,linfa,linfa_result,"));
        assert!(csv.contains("GaussianNb::params()"));
        assert!(baselines.markdown().contains("`fmnist linfa`"));
    }
}
