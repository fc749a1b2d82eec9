//! Cross-validation and the metrics the study reports, with the intervals and tests it left out.
//!
//! - [`StratifiedKFold`]: seeded, class-stratified k-fold and repeated k-fold splits.
//! - [`grid_search`]: mean (and spread) of cross-validated accuracy over a grid of settings;
//!   [`linfa_grid_search`] runs it for any linfa classifier.
//! - [`ConfusionMatrix`]: accuracy with its exact (Clopper–Pearson) 95% interval, Cohen's kappa,
//!   per-class sensitivity, specificity, precision and balanced accuracy, as R caret's
//!   `confusionMatrix` reports them.
//! - [`mcnemar_exact`]: McNemar's exact test of two classifiers on the same test set.
//!
//! The interval and the test need the regularised incomplete beta function, also written here
//! (a continued fraction, and Stirling's series for the log-gamma function): `statrs`, which
//! gave it before, brought `nalgebra` into every build, and into the type checker of the
//! notebooks' kernel, where it cost 4 s of a new kernel's first cell (measured with evcxr
//! 0.22 on the 2-core Intel Xeon). The rest is counting, written here so each definition sits
//! next to its test.

use std::f64::consts::TAU;

use linfa::traits::{Fit, Predict, PredictInplace};
use linfa::Dataset;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::data::N_CLASSES;

/// One train/validation split of a cross-validation: indices into the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// Rows to fit on, ascending.
    pub train: Vec<usize>,
    /// Rows to score, ascending.
    pub test: Vec<usize>,
}

/// Seeded, class-stratified k-fold cross-validation, optionally repeated.
///
/// Each class's members are shuffled and dealt round-robin to the folds, continuing where the
/// previous class stopped, so every fold holds each class in proportion and fold sizes differ
/// by at most one. Repeat `r` reshuffles with the same seeded stream, so the whole set of folds
/// is a function of `(labels, k, repeats, seed)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StratifiedKFold {
    /// Folds per repeat (at least 2).
    pub k: usize,
    /// Times the k-fold split is redrawn (at least 1).
    pub repeats: usize,
    /// Seed of the shuffles.
    pub seed: u64,
}

impl StratifiedKFold {
    /// `k` folds, once.
    pub fn new(k: usize, seed: u64) -> Self {
        StratifiedKFold {
            k,
            repeats: 1,
            seed,
        }
    }

    /// `k` folds, redrawn `repeats` times (caret's `repeatedcv`).
    pub fn repeated(k: usize, repeats: usize, seed: u64) -> Self {
        StratifiedKFold { k, repeats, seed }
    }

    /// The `k × repeats` folds of `labels`.
    ///
    /// # Panics
    /// If `k < 2`, `repeats == 0`, or `k` exceeds the number of labels.
    pub fn split(&self, labels: &[u8]) -> Vec<Fold> {
        assert!(self.k >= 2, "cross-validation needs at least 2 folds");
        assert!(self.repeats >= 1, "at least one repeat");
        assert!(self.k <= labels.len(), "more folds than rows");
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let classes = labels
            .iter()
            .map(|&l| usize::from(l) + 1)
            .max()
            .unwrap_or(0);
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
        for (i, &l) in labels.iter().enumerate() {
            by_class[usize::from(l)].push(i);
        }
        let mut folds = Vec::with_capacity(self.k * self.repeats);
        for _ in 0..self.repeats {
            let mut assignment = vec![0usize; labels.len()];
            let mut next = 0;
            for members in &mut by_class {
                members.sort_unstable();
                members.shuffle(&mut rng);
                for &i in members.iter() {
                    assignment[i] = next % self.k;
                    next += 1;
                }
            }
            for f in 0..self.k {
                let (test, train): (Vec<usize>, Vec<usize>) =
                    (0..labels.len()).partition(|&i| assignment[i] == f);
                folds.push(Fold { train, test });
            }
        }
        folds
    }
}

/// Cross-validated accuracy of one grid point.
#[derive(Debug, Clone, PartialEq)]
pub struct GridPoint<P> {
    /// The setting.
    pub params: P,
    /// Accuracy on each fold, in fold order.
    pub fold_accuracy: Vec<f64>,
}

impl<P> GridPoint<P> {
    /// Mean accuracy over the folds.
    pub fn mean(&self) -> f64 {
        self.fold_accuracy.iter().sum::<f64>() / self.fold_accuracy.len() as f64
    }

    /// Sample standard deviation of the fold accuracies (0 for a single fold).
    pub fn sd(&self) -> f64 {
        let n = self.fold_accuracy.len() as f64;
        if n < 2.0 {
            return 0.0;
        }
        let m = self.mean();
        (self
            .fold_accuracy
            .iter()
            .map(|a| (a - m).powi(2))
            .sum::<f64>()
            / (n - 1.0))
            .sqrt()
    }
}

/// The result of a grid search: every point, and which one won.
#[derive(Debug, Clone, PartialEq)]
pub struct GridSearch<P> {
    /// Every grid point, in grid order.
    pub points: Vec<GridPoint<P>>,
    /// Index of the point with the highest mean accuracy (the first, on ties: grids list
    /// simpler settings first).
    pub best: usize,
}

impl<P> GridSearch<P> {
    /// Collects scored points and picks the highest mean accuracy (the first on ties).
    ///
    /// # Panics
    /// If `points` is empty.
    pub fn from_points(points: Vec<GridPoint<P>>) -> Self {
        assert!(!points.is_empty(), "a grid has at least one point");
        let best = points.iter().enumerate().fold(0, |best, (i, p)| {
            if p.mean() > points[best].mean() {
                i
            } else {
                best
            }
        });
        GridSearch { points, best }
    }

    /// The winning point.
    pub fn best(&self) -> &GridPoint<P> {
        &self.points[self.best]
    }
}

/// Scores every setting of `grid` on every fold with `score(params, fold) -> accuracy`, in
/// parallel over folds, and picks the best mean accuracy. `score` may itself be parallel.
pub fn grid_search<P, F, E>(grid: &[P], folds: &[Fold], score: F) -> Result<GridSearch<P>, E>
where
    P: Clone + Sync,
    F: Fn(&P, &Fold) -> Result<f64, E> + Sync,
    E: Send,
{
    let points = grid
        .iter()
        .map(|p| {
            let fold_accuracy = folds
                .par_iter()
                .map(|fold| score(p, fold))
                .collect::<Result<Vec<f64>, E>>()?;
            Ok(GridPoint {
                params: p.clone(),
                fold_accuracy,
            })
        })
        .collect::<Result<Vec<_>, E>>()?;
    let best = points.iter().enumerate().fold(0, |best, (i, p)| {
        if p.mean() > points[best].mean() {
            i
        } else {
            best
        }
    });
    Ok(GridSearch { points, best })
}

/// Cross-validates every setting of `grid` of any linfa classifier (its parameters, checked or
/// not) on rows `x` with labels `y` (`0..n_classes`): each fold's training rows become a
/// [`linfa::Dataset`], the fitted model predicts the fold's held-out rows, and the scores are
/// the accuracies. Folds run in parallel.
///
/// ```
/// use fmnist::eval::{linfa_grid_search, StratifiedKFold};
/// use fmnist::models::knn::KnnParams;
/// use ndarray::Array2;
///
/// let x = Array2::from_shape_fn((40, 2), |(i, j)| (i % 4 * 10 + j) as f64 + i as f64 * 0.01);
/// let y: Vec<usize> = (0..40).map(|i| i % 4).collect();
/// let labels: Vec<u8> = y.iter().map(|&l| l as u8).collect();
/// let folds = StratifiedKFold::new(5, 1).split(&labels);
/// let grid = [KnnParams { k: 1 }, KnnParams { k: 3 }];
/// let search = linfa_grid_search(&grid, x.view(), &y, &folds)?;
/// assert_eq!(search.best().mean(), 1.0);
/// # Ok::<(), fmnist::models::ModelError>(())
/// ```
pub fn linfa_grid_search<P, E>(
    grid: &[P],
    x: ArrayView2<'_, f64>,
    y: &[usize],
    folds: &[Fold],
) -> Result<GridSearch<P>, E>
where
    P: Fit<Array2<f64>, Array1<usize>, E> + Clone + Sync,
    P::Object: PredictInplace<Array2<f64>, Array1<usize>>,
    E: std::error::Error + From<linfa::Error> + Send,
{
    grid_search(grid, folds, |params, fold| {
        let labels = fold.train.iter().map(|&i| y[i]).collect::<Array1<_>>();
        let model = params.fit(&Dataset::new(x.select(Axis(0), &fold.train), labels))?;
        let predicted: Array1<usize> = model.predict(&x.select(Axis(0), &fold.test));
        let right = fold
            .test
            .iter()
            .zip(&predicted)
            .filter(|&(&i, &p)| y[i] == p)
            .count();
        Ok(right as f64 / fold.test.len() as f64)
    })
}

/// Share of positions where `predicted` equals `actual`.
pub fn accuracy(actual: &[u8], predicted: &[u8]) -> f64 {
    assert_eq!(actual.len(), predicted.len(), "one prediction per row");
    let right = actual.iter().zip(predicted).filter(|(a, p)| a == p).count();
    right as f64 / actual.len().max(1) as f64
}

/// The exact (Clopper–Pearson) two-sided interval for a binomial proportion: `successes` of
/// `n` at confidence `level` (0.95 for a 95% interval), as R's `binom.test` gives it.
pub fn clopper_pearson(successes: u64, n: u64, level: f64) -> (f64, f64) {
    assert!(successes <= n && n > 0, "0 <= successes <= n, n > 0");
    assert!(level > 0.0 && level < 1.0, "a confidence level in (0, 1)");
    let alpha = 1.0 - level;
    let (x, n) = (successes as f64, n as f64);
    let lower = if successes == 0 {
        0.0
    } else {
        beta_quantile(alpha / 2.0, x, n - x + 1.0)
    };
    let upper = if successes as f64 == n {
        1.0
    } else {
        beta_quantile(1.0 - alpha / 2.0, x + 1.0, n - x)
    };
    (lower, upper)
}

/// The `p` quantile of Beta(a, b), by bisection on the regularised incomplete beta function:
/// 200 halvings reach the limit of `f64`, and bisection cannot fail to converge.
fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if beta_reg(a, b, mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The regularised incomplete beta function `I_x(a, b)` (`a, b > 0`, `0 <= x <= 1`): the
/// Beta(a, b) distribution's probability below `x`. The continued fraction converges fast on
/// the side of the mode `x` is on, so past `(a + 1) / (a + b + 2)` it is evaluated as
/// `1 - I_{1-x}(b, a)`. Within about 1e-13 relative of 40-digit references for counts up to
/// 60,000 (the test below).
fn beta_reg(a: f64, b: f64, x: f64) -> f64 {
    debug_assert!(a > 0.0 && b > 0.0 && (0.0..=1.0).contains(&x));
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = ln_beta_density_numerator(a, b, x).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// `ln(x^a (1 - x)^b / B(a, b))`. With `a` and `b` of 10 and more, Stirling's series is
/// expanded around the mean `p = a / (a + b)`, so that the terms of the size of `a ln a`, which
/// cancel, are never formed: with `t = x - p`, what is left is
/// `a (ln(1 + t/p) - t/p) + b (ln(1 - t/q) + t/q) + ½ ln(ab / 2π(a + b))` and the series' tails.
/// Summing the log-gammas instead loses a digit per power of ten of `a`.
fn ln_beta_density_numerator(a: f64, b: f64, x: f64) -> f64 {
    if a < 10.0 || b < 10.0 {
        return ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (-x).ln_1p();
    }
    let n = a + b;
    let (p, q) = (a / n, b / n);
    let t = x - p;
    a * ln_1p_minus(t / p) + b * ln_1p_minus(-t / q) + 0.5 * (a * b / (TAU * n)).ln()
        - stirling_tail(a)
        - stirling_tail(b)
        + stirling_tail(n)
}

/// `ln(1 + u) - u` for `u > -1`, by its series where subtracting would cancel.
fn ln_1p_minus(u: f64) -> f64 {
    if u.abs() >= 0.1 {
        return u.ln_1p() - u;
    }
    // -u²/2 + u³/3 - u⁴/4 + …; 20 terms take 0.1^k below 1e-17 of the first.
    let (mut power, mut sum) = (u, 0.0);
    for k in 2..22 {
        power *= -u;
        sum += power / f64::from(k);
    }
    sum
}

/// The continued fraction of `I_x(a, b)` (without its front factor), by the modified Lentz
/// method: each term's two partial numerators in turn, until a term changes the value by less
/// than the precision of `f64`.
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let nonzero = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / nonzero(1.0 - (a + b) * x / (a + 1.0));
    let mut value = d;
    for m in 1..=100_000 {
        let m = f64::from(m);
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        let mut delta = 1.0;
        for numerator in [even, odd] {
            d = 1.0 / nonzero(1.0 + numerator * d);
            c = nonzero(1.0 + numerator / c);
            delta = d * c;
            value *= delta;
        }
        if (delta - 1.0).abs() < f64::EPSILON {
            break;
        }
    }
    value
}

/// `ln Γ(x)` for `x > 0`: Stirling's series at 10 and above, and `Γ(x + 1) = x Γ(x)` to get
/// there.
fn ln_gamma(x: f64) -> f64 {
    debug_assert!(x > 0.0);
    let (mut x, mut product) = (x, 1.0);
    while x < 10.0 {
        product *= x;
        x += 1.0;
    }
    (x - 0.5) * x.ln() - x + 0.5 * TAU.ln() + stirling_tail(x) - product.ln()
}

/// What Stirling's series adds to `(x - ½) ln x - x + ½ ln 2π` to give `ln Γ(x)`, for
/// `x >= 10`: five terms, the first left out below 2e-14.
fn stirling_tail(x: f64) -> f64 {
    debug_assert!(x >= 10.0);
    let (inv, inv2) = (1.0 / x, 1.0 / (x * x));
    inv * (1.0 / 12.0
        - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 * (1.0 / 1680.0 - inv2 / 1188.0))))
}

/// McNemar's exact test of two classifiers scored on the same rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McNemar {
    /// Rows the first classifier got right and the second wrong.
    pub only_first: u64,
    /// Rows the second got right and the first wrong.
    pub only_second: u64,
    /// Two-sided exact p-value: twice the binomial(b + c, ½) tail of the smaller count.
    pub p_value: f64,
}

/// McNemar's exact test: do classifiers A and B, scored on the same rows, differ in accuracy?
pub fn mcnemar_exact(actual: &[u8], a: &[u8], b: &[u8]) -> McNemar {
    assert!(
        actual.len() == a.len() && a.len() == b.len(),
        "one prediction per row"
    );
    let (mut only_a, mut only_b) = (0u64, 0u64);
    for ((&y, &pa), &pb) in actual.iter().zip(a).zip(b) {
        match (pa == y, pb == y) {
            (true, false) => only_a += 1,
            (false, true) => only_b += 1,
            _ => {}
        }
    }
    let n = only_a + only_b;
    let k = only_a.min(only_b);
    let p_value = if n == 0 || 2 * k == n {
        1.0
    } else {
        // P(X <= k) for X ~ Binomial(n, 1/2) equals I_{1/2}(n - k, k + 1).
        (2.0 * beta_reg((n - k) as f64, (k + 1) as f64, 0.5)).min(1.0)
    };
    McNemar {
        only_first: only_a,
        only_second: only_b,
        p_value,
    }
}

/// Per-class measures, one-vs-rest, as caret's `confusionMatrix(...)$byClass` reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassMetrics {
    /// True-positive rate (recall): TP / (TP + FN).
    pub sensitivity: f64,
    /// True-negative rate: TN / (TN + FP).
    pub specificity: f64,
    /// Positive predictive value: TP / (TP + FP); NaN when the class is never predicted.
    pub precision: f64,
    /// Mean of sensitivity and specificity.
    pub balanced_accuracy: f64,
}

/// A confusion matrix of any number of classes: `counts[actual][predicted]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// Counts, row = actual class, column = predicted class; `n_classes` rows of `n_classes`.
    pub counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// Tallies `actual` against `predicted` for the ten classes of Fashion-MNIST.
    pub fn new(actual: &[u8], predicted: &[u8]) -> Self {
        Self::with_classes(N_CLASSES, actual, predicted)
    }

    /// Tallies `actual` against `predicted` for classes `0..n_classes`.
    ///
    /// # Panics
    ///
    /// If the two differ in length or a label is `n_classes` or more.
    pub fn with_classes(n_classes: usize, actual: &[u8], predicted: &[u8]) -> Self {
        assert_eq!(actual.len(), predicted.len(), "one prediction per row");
        let mut counts = vec![vec![0u64; n_classes]; n_classes];
        for (&a, &p) in actual.iter().zip(predicted) {
            let (a, p) = (usize::from(a), usize::from(p));
            assert!(
                a < n_classes && p < n_classes,
                "labels {a} and {p} must be below the {n_classes} classes"
            );
            counts[a][p] += 1;
        }
        ConfusionMatrix { counts }
    }

    /// The number of classes (rows and columns).
    pub fn n_classes(&self) -> usize {
        self.counts.len()
    }

    /// Rows tallied.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Rows on the diagonal.
    pub fn correct(&self) -> u64 {
        (0..self.n_classes()).map(|i| self.counts[i][i]).sum()
    }

    /// Share classified correctly.
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total() as f64
    }

    /// The accuracy's exact 95% interval.
    pub fn accuracy_ci95(&self) -> (f64, f64) {
        clopper_pearson(self.correct(), self.total(), 0.95)
    }

    /// Cohen's kappa: agreement beyond what the marginals give by chance.
    pub fn kappa(&self) -> f64 {
        let n = self.total() as f64;
        let chance: f64 = (0..self.n_classes())
            .map(|i| {
                let row: u64 = self.counts[i].iter().sum();
                let col: u64 = self.counts.iter().map(|r| r[i]).sum();
                row as f64 * col as f64
            })
            .sum::<f64>()
            / (n * n);
        (self.accuracy() - chance) / (1.0 - chance)
    }

    /// One-vs-rest measures of class `c`.
    pub fn class_metrics(&self, c: usize) -> ClassMetrics {
        let tp = self.counts[c][c] as f64;
        let actual: f64 = self.counts[c].iter().sum::<u64>() as f64;
        let predicted: f64 = self.counts.iter().map(|r| r[c]).sum::<u64>() as f64;
        let n = self.total() as f64;
        let (fn_, fp) = (actual - tp, predicted - tp);
        let tn = n - tp - fn_ - fp;
        let sensitivity = tp / actual;
        let specificity = tn / (tn + fp);
        ClassMetrics {
            sensitivity,
            specificity,
            precision: tp / predicted,
            balanced_accuracy: 0.5 * (sensitivity + specificity),
        }
    }

    /// The per-class report a notebook shows: each class's precision, recall, F1 (their
    /// harmonic mean) and support (its test images), then their unweighted means over the
    /// classes (`macro average`, support the total). A class never predicted has no precision
    /// and no F1: the cells are empty, and the macro averages are over the other classes.
    pub fn class_report(&self) -> crate::report::Table {
        use crate::report::{Cell, Table};
        let mut t = Table::new(["class", "precision", "recall", "f1", "support"]);
        let cell = |v: f64| {
            if v.is_finite() {
                Cell::fixed(v, 4)
            } else {
                Cell::missing()
            }
        };
        let mean = |values: &[f64]| {
            let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
            finite.iter().sum::<f64>() / finite.len() as f64
        };
        let (mut precision, mut recall, mut f1) = (Vec::new(), Vec::new(), Vec::new());
        for (c, name) in crate::data::class_names(self.n_classes())
            .into_iter()
            .enumerate()
        {
            let m = self.class_metrics(c);
            let f = 2.0 * m.precision * m.sensitivity / (m.precision + m.sensitivity);
            t.push([
                Cell::text(name),
                cell(m.precision),
                cell(m.sensitivity),
                cell(f),
                Cell::from(self.counts[c].iter().sum::<u64>()),
            ]);
            precision.push(m.precision);
            recall.push(m.sensitivity);
            f1.push(f);
        }
        t.push([
            Cell::text("macro average"),
            cell(mean(&precision)),
            cell(mean(&recall)),
            cell(mean(&f1)),
            Cell::from(self.total()),
        ]);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_report_gives_precision_recall_f1_and_support() {
        // Class 0: 3 images, 2 right, 1 taken for class 1; class 1: 1 image, right; class 2:
        // 1 image, taken for class 0, and never predicted.
        let cm = ConfusionMatrix::with_classes(3, &[0, 0, 0, 1, 2], &[0, 0, 1, 1, 0]);
        let csv = cm.class_report().to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "class,precision,recall,f1,support");
        assert_eq!(lines[1], "class 0,0.6667,0.6667,0.6667,3");
        assert_eq!(lines[2], "class 1,0.5000,1.0000,0.6667,1");
        assert_eq!(
            lines[3], "class 2,,0.0000,,1",
            "never predicted: no precision"
        );
        assert_eq!(lines[4], "macro average,0.5833,0.5556,0.6667,5");
    }

    #[test]
    fn folds_partition_the_rows_and_keep_class_proportions() {
        let labels: Vec<u8> = (0..1000).map(|i| (i % 10) as u8).collect();
        let folds = StratifiedKFold::new(5, 1).split(&labels);
        assert_eq!(folds.len(), 5);
        let mut seen = vec![0; labels.len()];
        for f in &folds {
            assert_eq!(f.test.len(), 200);
            assert_eq!(f.train.len(), 800);
            f.test.iter().for_each(|&i| seen[i] += 1);
            for c in 0..10u8 {
                assert_eq!(f.test.iter().filter(|&&i| labels[i] == c).count(), 20);
            }
            assert!(f.train.iter().all(|i| !f.test.contains(i)));
        }
        assert!(
            seen.iter().all(|&s| s == 1),
            "each row is validated exactly once"
        );
    }

    #[test]
    fn folds_are_seeded_and_repeats_differ() {
        let labels: Vec<u8> = (0..103).map(|i| (i * 7 % 10) as u8).collect();
        let a = StratifiedKFold::repeated(5, 3, 9).split(&labels);
        assert_eq!(a, StratifiedKFold::repeated(5, 3, 9).split(&labels));
        assert_ne!(a, StratifiedKFold::repeated(5, 3, 10).split(&labels));
        assert_eq!(a.len(), 15);
        assert_ne!(a[0], a[5], "the second repeat reshuffles");
        let sizes: Vec<usize> = a[..5].iter().map(|f| f.test.len()).collect();
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
    }

    #[test]
    fn grid_search_picks_the_best_mean_and_the_first_on_ties() {
        let folds = StratifiedKFold::new(2, 0).split(&[0, 0, 1, 1]);
        let result = grid_search(&[1, 2, 3, 4], &folds, |&p, _| {
            Ok::<_, ()>(if p == 2 || p == 3 { 0.9 } else { 0.5 })
        })
        .unwrap();
        assert_eq!(result.best().params, 2);
        assert_eq!(result.points[0].fold_accuracy, [0.5, 0.5]);
        let err = grid_search(&[1], &folds, |_, _| Err::<f64, _>("boom"));
        assert_eq!(err.unwrap_err(), "boom");
    }

    #[test]
    fn grid_point_mean_and_sd() {
        let p = GridPoint {
            params: (),
            fold_accuracy: vec![0.8, 0.9, 1.0],
        };
        assert!((p.mean() - 0.9).abs() < 1e-12);
        assert!((p.sd() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn clopper_pearson_matches_closed_forms_and_r() {
        // x = 0: upper = 1 - (alpha/2)^(1/n); x = n: lower = (alpha/2)^(1/n).
        let (lo, hi) = clopper_pearson(0, 10, 0.95);
        assert_eq!(lo, 0.0);
        assert!((hi - (1.0 - 0.025f64.powf(0.1))).abs() < 1e-12, "{hi}");
        let (lo, hi) = clopper_pearson(10, 10, 0.95);
        assert!((lo - 0.025f64.powf(0.1)).abs() < 1e-12);
        assert_eq!(hi, 1.0);
        // SciPy 1.17: binomtest(8236, 10000).proportion_ci(method='exact').
        let (lo, hi) = clopper_pearson(8236, 10_000, 0.95);
        assert!((lo - 0.815985492995993).abs() < 1e-10, "{lo}");
        assert!((hi - 0.8310255568487743).abs() < 1e-10, "{hi}");
    }

    #[test]
    fn the_incomplete_beta_function_matches_40_digit_references() {
        // mpmath 1.3's betainc(a, b, 0, x, regularized=True) at 40 digits, rounded to f64.
        let cases = [
            (0.5, 0.5, 0.3, 0.369_010_119_565_545_36),
            (5.0, 3.0, 0.4, 0.096_256_000_000_000_02),
            (1.0, 1.0, 0.25, 0.25),
            (2.0, 8.0, 0.9, 0.999_999_918),
            (30.0, 70.0, 0.31, 0.596_937_953_292_757_6),
            (213.0, 307.0, 0.5, 0.999_982_397_509_161_8),
            (722.0, 175.0, 0.5, 2.966_438_417_595_3e-80),
            (9364.0, 637.0, 0.936, 0.445_445_175_833_505),
            (54_000.0, 6001.0, 0.9, 0.503_438_240_785_766_4),
        ];
        for (a, b, x, want) in cases {
            let got = beta_reg(a, b, x);
            let error = ((got - want) / want).abs();
            assert!(
                error < 2e-13,
                "I_{x}({a}, {b}) = {got}, not {want} ({error:e})"
            );
        }
        assert_eq!(
            (beta_reg(3.0, 4.0, 0.0), beta_reg(3.0, 4.0, 1.0)),
            (0.0, 1.0)
        );
        // ln Γ at integers is ln((n - 1)!), and Γ(1/2) = √π.
        for (n, factorial) in [
            (1.0, 1.0),
            (5.0, 24.0),
            (11.0, 3_628_800.0),
            (21.0, 2.432_902_008_176_64e18),
        ] {
            let got = ln_gamma(n);
            assert!(
                (got - f64::ln(factorial)).abs() < 1e-13 * got.abs().max(1.0),
                "{n}: {got}"
            );
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
        // McNemar's p for the CNN against boosting (722 and 174 images) and against the SVM.
        for (only_a, only_b, want) in [
            (722, 174, 5.932_876_835_190_6e-80),
            (306, 213, 5.157_064_876_265_818e-5),
        ] {
            let n = only_a + only_b;
            let actual = vec![0u8; n];
            let a: Vec<u8> = (0..n).map(|i| u8::from(i >= only_a)).collect();
            let b: Vec<u8> = a.iter().map(|&v| 1 - v).collect();
            let p = mcnemar_exact(&actual, &a, &b).p_value;
            assert!(
                ((p - want) / want).abs() < 2e-13,
                "{only_a}/{only_b}: {p:e}"
            );
        }
    }

    #[test]
    fn mcnemar_exact_by_hand() {
        // b = 1, c = 5: p = 2 * P(X <= 1 | n = 6) = 2 * 7/64 = 0.21875.
        let actual = [0u8; 8];
        let a = [0, 1, 1, 1, 1, 1, 0, 0];
        let b = [1, 0, 0, 0, 0, 0, 0, 0];
        let t = mcnemar_exact(&actual, &a, &b);
        assert_eq!((t.only_first, t.only_second), (1, 5));
        assert!((t.p_value - 0.21875).abs() < 1e-12, "{}", t.p_value);
        // Identical classifiers: no discordant pairs, p = 1.
        assert_eq!(mcnemar_exact(&actual, &a, &a).p_value, 1.0);
        // b = 0, c = 10: p = 2 / 1024.
        let t = mcnemar_exact(&[0; 10], &[1; 10], &[0; 10]);
        assert!((t.p_value - 2.0 / 1024.0).abs() < 1e-15);
    }

    #[test]
    fn confusion_matrix_kappa_and_class_metrics_by_hand() {
        // Two classes used: actual 0 ×50 (45 right), actual 1 ×50 (40 right).
        let mut actual = vec![0u8; 50];
        actual.extend(vec![1u8; 50]);
        let mut predicted = vec![0u8; 45];
        predicted.extend(vec![1u8; 5]);
        predicted.extend(vec![1u8; 40]);
        predicted.extend(vec![0u8; 10]);
        let cm = ConfusionMatrix::new(&actual, &predicted);
        assert_eq!(cm.counts[0][0..2], [45, 5]);
        assert_eq!(cm.counts[1][0..2], [10, 40]);
        assert_eq!(cm.accuracy(), 0.85);
        // p_e = (50*55 + 50*45) / 100^2 = 0.5; kappa = (0.85 - 0.5) / 0.5 = 0.7.
        assert!((cm.kappa() - 0.7).abs() < 1e-12);
        let m = cm.class_metrics(0);
        assert_eq!(m.sensitivity, 0.9);
        assert_eq!(m.specificity, 0.8);
        assert!((m.precision - 45.0 / 55.0).abs() < 1e-12);
        assert!((m.balanced_accuracy - 0.85).abs() < 1e-12);
        assert!(
            cm.class_metrics(5).precision.is_nan(),
            "class 5 never predicted"
        );
        assert!((accuracy(&actual, &predicted) - 0.85).abs() < 1e-12);
    }
}
