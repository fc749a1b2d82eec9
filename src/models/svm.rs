//! Support vector classification with a radial (RBF) kernel, one-vs-one over the 45 class pairs.
//!
//! Each pair is a binary C-SVM solved by SMO with libsvm's second-order working-set selection
//! (Fan, Chen and Lin, 2005) and libsvm's update and bias rules. A pair holds about 2,000 rows,
//! so its whole kernel matrix (`f32`, ~16 MB) is computed up front by one matrix product instead
//! of being cached row by row; the 45 pairs run in parallel. Cross-validation over `C` solves
//! the values in increasing order from the previous solution (a solution for a smaller `C` is
//! feasible for a larger one), reusing the pair's kernel matrix.
//!
//! Written here because linfa-svm 0.8.1 with a one-vs-one loop takes ~28 s per fit on one core
//! for what this takes well under a second, and its one-vs-rest wrapper builds a dense
//! 10k × 10k kernel per class.
//!
//! Inputs are centred and scaled with the training rows' statistics inside the model (so there
//! is no need to wrap it in [`super::Scaled`], which would scale a second time). The
//! kernel is `exp(−γ‖x − x'‖²)`; [`Gamma::Sigest`] estimates γ from the data as R kernlab's
//! `sigest` does for caret's `svmRadial` (the mean of the inverse 10% and 90% quantiles of
//! squared distances between random pairs of rows).

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::{Classifier, Fit, ModelError};
use crate::eval::{Fold, GridPoint, GridSearch};
use crate::linalg;
use crate::preprocess::Standardizer;

/// libsvm's stopping tolerance on the KKT violation.
const EPS: f64 = 1e-3;
/// libsvm's floor for a non-positive curvature.
const TAU: f64 = 1e-12;

/// How the kernel width is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gamma {
    /// A fixed γ.
    Fixed(f64),
    /// Estimated from the (scaled) training rows with this seed, as kernlab's `sigest`.
    Sigest {
        /// Seed of the sampled pairs of rows.
        seed: u64,
    },
}

/// Hyperparameters of the RBF support vector classifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvmParams {
    /// Cost of a margin violation.
    pub c: f64,
    /// Kernel width.
    pub gamma: Gamma,
}

impl Default for SvmParams {
    /// C = 1 (kernlab's default; the study tunes C over [`SvmParams::cost_grid`]) and γ from
    /// `sigest`, as caret's `svmRadial`, with seed 42.
    fn default() -> Self {
        SvmParams {
            c: 1.0,
            gamma: Gamma::Sigest { seed: 42 },
        }
    }
}

super::linfa_estimator!(SvmParams => SvmValidParams, Svm);

impl SvmParams {
    /// Checks every setting, naming the first one out of range.
    pub fn validate(&self) -> Result<(), ModelError> {
        super::require(self.c.is_finite() && self.c > 0.0, "c", || {
            format!("must be a finite number > 0, got {}", self.c)
        })?;
        match self.gamma {
            Gamma::Fixed(g) => super::require(g.is_finite() && g > 0.0, "gamma", || {
                format!("must be a finite number > 0, got {g}")
            }),
            Gamma::Sigest { .. } => Ok(()),
        }
    }

    /// The study's grid of costs: 0.25, 0.5, …, 32.
    pub fn cost_grid() -> Vec<f64> {
        (0..8).map(|i| 0.25 * f64::powi(2.0, i)).collect()
    }
}

/// One binary machine: classes `a` (positive) and `b` (negative).
#[derive(Debug, Clone)]
struct PairModel {
    a: u8,
    b: u8,
    /// Indices into the model's support-vector table, and their coefficients `αᵢyᵢ`.
    sv: Vec<usize>,
    coef: Vec<f32>,
    rho: f32,
}

/// A fitted one-vs-one RBF support vector classifier.
#[derive(Debug, Clone)]
pub struct Svm {
    scaler: Standardizer,
    gamma: f32,
    support: Array2<f32>,
    pairs: Vec<PairModel>,
}

impl Svm {
    /// The kernel width used.
    pub fn gamma(&self) -> f64 {
        f64::from(self.gamma)
    }

    /// Number of distinct training rows that are support vectors of some pair.
    pub fn n_support(&self) -> usize {
        self.support.nrows()
    }
}

/// kernlab's `sigest`: from squared distances between `n` random pairs of rows, γ is the mean
/// of the inverses of their 90% and 10% quantiles.
pub fn sigest(x: ArrayView2<'_, f64>, seed: u64) -> f64 {
    let m = x.nrows();
    let n = m.clamp(2, 2000);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut d: Vec<f64> = (0..n)
        .map(|_| {
            let (i, j) = (rng.gen_range(0..m), rng.gen_range(0..m));
            (&x.row(i) - &x.row(j)).mapv(|v| v * v).sum()
        })
        .filter(|&d| d > 0.0)
        .collect();
    if d.is_empty() {
        return 1.0;
    }
    d.sort_by(f64::total_cmp);
    let q = |p: f64| d[((d.len() - 1) as f64 * p).round() as usize];
    0.5 * (1.0 / q(0.9) + 1.0 / q(0.1))
}

/// `exp(−γ‖a_i − b_j‖²)` for all rows of `a` and `b`.
fn rbf(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>, gamma: f32) -> Array2<f32> {
    let na: Array1<f32> = a.rows().into_iter().map(|r| r.dot(&r)).collect();
    let nb: Array1<f32> = b.rows().into_iter().map(|r| r.dot(&r)).collect();
    let mut k = linalg::a_bt(a, b);
    for (mut row, &x) in k.rows_mut().into_iter().zip(&na) {
        row.iter_mut()
            .zip(&nb)
            .for_each(|(v, &y)| *v = (-gamma * (x + y - 2.0 * *v).max(0.0)).exp());
    }
    k
}

/// The state of one binary SMO problem; kept between values of C for warm starts.
struct Smo<'a> {
    k: &'a Array2<f32>,
    y: Vec<f64>,
    alpha: Vec<f64>,
    grad: Vec<f64>,
}

impl<'a> Smo<'a> {
    fn new(k: &'a Array2<f32>, y: Vec<f64>) -> Self {
        let m = y.len();
        Smo {
            k,
            y,
            alpha: vec![0.0; m],
            grad: vec![-1.0; m],
        }
    }

    /// Solves the dual for cost `c`, starting from the current α (feasible when `c` is at least
    /// the previous cost). Returns the bias ρ.
    fn solve(&mut self, c: f64) -> f64 {
        let m = self.y.len();
        let (y, k) = (self.y.clone(), self.k);
        let max_iter = (100 * m).max(10_000_000);
        for _ in 0..max_iter {
            // i: the most violating index of I_up.
            let (mut gmax, mut i) = (f64::NEG_INFINITY, usize::MAX);
            for (t, ((&yt, &at), &gt)) in y.iter().zip(&self.alpha).zip(&self.grad).enumerate() {
                let up = if yt > 0.0 { at < c } else { at > 0.0 };
                if up && -yt * gt >= gmax {
                    gmax = -yt * gt;
                    i = t;
                }
            }
            if i == usize::MAX {
                break;
            }
            // j: the best second-order step among I_low. K(x, x) = 1 for the RBF kernel, so
            // the curvature of the pair (i, t) is 2 − 2 K(i, t).
            let ki = k.row(i);
            let ki = ki.as_slice().expect("kernel rows are contiguous");
            let (mut gmax2, mut j, mut best) = (f64::NEG_INFINITY, usize::MAX, f64::INFINITY);
            for (t, (((&yt, &at), &gt), &kit)) in y
                .iter()
                .zip(&self.alpha)
                .zip(&self.grad)
                .zip(ki)
                .enumerate()
            {
                let low = if yt > 0.0 { at > 0.0 } else { at < c };
                if !low {
                    continue;
                }
                let v = yt * gt;
                gmax2 = gmax2.max(v);
                let b = gmax + v;
                if b > 0.0 {
                    let a = 2.0 - 2.0 * f64::from(kit);
                    let obj = -(b * b) / if a > 0.0 { a } else { TAU };
                    if obj <= best {
                        best = obj;
                        j = t;
                    }
                }
            }
            if gmax + gmax2 < EPS || j == usize::MAX {
                break;
            }
            self.step(i, j, c);
        }
        self.rho(c)
    }

    /// libsvm's two-variable update of α_i and α_j, then the gradient.
    fn step(&mut self, i: usize, j: usize, c: f64) {
        let (y, k) = (&self.y, self.k);
        let grad = &mut self.grad;
        let (ai, aj) = (self.alpha[i], self.alpha[j]);
        let quad = 2.0 - 2.0 * f64::from(k[[i, j]]);
        let quad = if quad > 0.0 { quad } else { TAU };
        let (mut ni, mut nj);
        if y[i] != y[j] {
            let delta = (-grad[i] - grad[j]) / quad;
            let diff = ai - aj;
            ni = ai + delta;
            nj = aj + delta;
            if diff > 0.0 {
                if nj < 0.0 {
                    nj = 0.0;
                    ni = diff;
                }
            } else if ni < 0.0 {
                ni = 0.0;
                nj = -diff;
            }
            if diff > 0.0 {
                if ni > c {
                    ni = c;
                    nj = c - diff;
                }
            } else if nj > c {
                nj = c;
                ni = c + diff;
            }
        } else {
            let delta = (grad[i] - grad[j]) / quad;
            let sum = ai + aj;
            ni = ai - delta;
            nj = aj + delta;
            if sum > c {
                if ni > c {
                    ni = c;
                    nj = sum - c;
                }
            } else if nj < 0.0 {
                nj = 0.0;
                ni = sum;
            }
            if sum > c {
                if nj > c {
                    nj = c;
                    ni = sum - c;
                }
            } else if ni < 0.0 {
                ni = 0.0;
                nj = sum;
            }
        }
        let (di, dj) = ((ni - ai) * y[i], (nj - aj) * y[j]);
        let (ki, kj) = (k.row(i), k.row(j));
        let (ki, kj) = (
            ki.as_slice().expect("contiguous"),
            kj.as_slice().expect("contiguous"),
        );
        for (((g, &yt), &a), &b) in grad.iter_mut().zip(y).zip(ki).zip(kj) {
            *g += yt * (f64::from(a) * di + f64::from(b) * dj);
        }
        self.alpha[i] = ni;
        self.alpha[j] = nj;
    }

    /// libsvm's bias: the mean of y·G over free vectors, else the middle of the feasible range.
    fn rho(&self, c: f64) -> f64 {
        let (mut ub, mut lb, mut sum, mut free) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
        for t in 0..self.y.len() {
            let yg = self.y[t] * self.grad[t];
            let (at_upper, at_lower) = (self.alpha[t] >= c, self.alpha[t] <= 0.0);
            if at_upper {
                if self.y[t] < 0.0 {
                    ub = ub.min(yg)
                } else {
                    lb = lb.max(yg)
                }
            } else if at_lower {
                if self.y[t] > 0.0 {
                    ub = ub.min(yg)
                } else {
                    lb = lb.max(yg)
                }
            } else {
                free += 1;
                sum += yg;
            }
        }
        if free > 0 {
            sum / free as f64
        } else {
            0.5 * (ub + lb)
        }
    }
}

/// The rows of each class pair `(a, b)`, `a < b`, in label order.
fn pairs(y: &[u8]) -> Vec<(u8, u8, Vec<usize>)> {
    let mut out = Vec::new();
    let classes = super::n_classes(y);
    for a in 0..classes {
        for b in a + 1..classes {
            let (a, b) = (a as u8, b as u8);
            let rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] == a || y[i] == b).collect();
            if rows.iter().any(|&i| y[i] == a) && rows.iter().any(|&i| y[i] == b) {
                out.push((a, b, rows));
            }
        }
    }
    out
}

/// The class pairs `(a, b)` and, for each cost, each pair's decision values on the query rows.
type PairDecisions = (Vec<(u8, u8)>, Vec<Vec<Array1<f32>>>);

/// Trains every pair for each cost in `costs` (ascending) on scaled rows `x`, and returns the
/// decision values of `query` rows: `decisions[c][pair]` is a column of `query.nrows()` values.
fn pair_decisions(
    x: ArrayView2<'_, f32>,
    y: &[u8],
    query: ArrayView2<'_, f32>,
    gamma: f32,
    costs: &[f64],
) -> PairDecisions {
    let ps = pairs(y);
    let per_pair: Vec<Vec<Array1<f32>>> = ps
        .par_iter()
        .map(|(a, _, rows)| {
            let xp = x.select(Axis(0), rows);
            let k = rbf(xp.view(), xp.view(), gamma);
            let kq = rbf(query, xp.view(), gamma);
            let yp: Vec<f64> = rows
                .iter()
                .map(|&i| if y[i] == *a { 1.0 } else { -1.0 })
                .collect();
            let mut smo = Smo::new(&k, yp);
            costs
                .iter()
                .map(|&c| {
                    let rho = smo.solve(c) as f32;
                    let coef: Array1<f32> = smo
                        .alpha
                        .iter()
                        .zip(&smo.y)
                        .map(|(a, y)| (a * y) as f32)
                        .collect();
                    kq.dot(&coef) - rho
                })
                .collect()
        })
        .collect();
    let labels = ps.iter().map(|(a, b, _)| (*a, *b)).collect();
    let by_cost = (0..costs.len())
        .map(|ci| per_pair.iter().map(|p| p[ci].clone()).collect())
        .collect();
    (labels, by_cost)
}

/// One-vs-one voting: each pair votes for `a` when its decision is positive, else `b`; ties go
/// to the lower label (libsvm's rule).
fn vote(labels: &[(u8, u8)], decisions: &[Array1<f32>], n: usize) -> Vec<u8> {
    let classes = labels
        .iter()
        .map(|&(a, b)| usize::from(a.max(b)) + 1)
        .max()
        .unwrap_or(1);
    (0..n)
        .map(|r| {
            let mut votes = vec![0u32; classes];
            for (&(a, b), d) in labels.iter().zip(decisions) {
                votes[usize::from(if d[r] > 0.0 { a } else { b })] += 1;
            }
            let top = *votes.iter().max().expect("two classes or more");
            votes
                .iter()
                .position(|&v| v == top)
                .expect("a maximum exists") as u8
        })
        .collect()
}

fn resolve_gamma(gamma: Gamma, scaled: ArrayView2<'_, f64>) -> Result<f64, ModelError> {
    let g = match gamma {
        Gamma::Fixed(g) => g,
        Gamma::Sigest { seed } => sigest(scaled, seed),
    };
    super::require(g.is_finite() && g > 0.0, "gamma", || {
        format!("must be a finite number > 0, got {g}")
    })?;
    Ok(g)
}

impl Fit for SvmParams {
    type Model = Svm;

    fn fit(&self, x: ArrayView2<'_, f64>, y: &[u8]) -> Result<Svm, ModelError> {
        super::check_training(x, y)?;
        self.validate()?;
        let scaler = Standardizer::fit(x);
        let scaled = scaler.transform(x);
        let gamma = resolve_gamma(self.gamma, scaled.view())? as f32;
        let xs = scaled.mapv(|v| v as f32);
        let ps = pairs(y);
        // Each pair's support vectors, first as training-row indices.
        let mut pairs: Vec<PairModel> = ps
            .par_iter()
            .map(|(a, b, rows)| {
                let xp = xs.select(Axis(0), rows);
                let k = rbf(xp.view(), xp.view(), gamma);
                let yp: Vec<f64> = rows
                    .iter()
                    .map(|&i| if y[i] == *a { 1.0 } else { -1.0 })
                    .collect();
                let mut smo = Smo::new(&k, yp);
                let rho = smo.solve(self.c) as f32;
                let (sv, coef) = rows
                    .iter()
                    .zip(smo.alpha.iter().zip(&smo.y))
                    .filter(|(_, (a, _))| **a > 0.0)
                    .map(|(&r, (a, y))| (r, (a * y) as f32))
                    .unzip();
                PairModel {
                    a: *a,
                    b: *b,
                    sv,
                    coef,
                    rho,
                }
            })
            .collect();
        // Then as indices into one table of distinct support vectors, shared by the pairs.
        let mut index = vec![usize::MAX; x.nrows()];
        let mut rows = Vec::new();
        for pair in &mut pairs {
            for r in &mut pair.sv {
                if index[*r] == usize::MAX {
                    index[*r] = rows.len();
                    rows.push(*r);
                }
                *r = index[*r];
            }
        }
        let support = xs.select(Axis(0), &rows);
        Ok(Svm {
            scaler,
            gamma,
            support,
            pairs,
        })
    }
}

impl Classifier for Svm {
    fn predict(&self, x: ArrayView2<'_, f64>) -> Vec<u8> {
        let q = self.scaler.transform(x).mapv(|v| v as f32);
        let k = rbf(q.view(), self.support.view(), self.gamma);
        // Every pair's decision values at once: K (n × SVs) times the coefficients (SVs × pairs).
        let mut coef = Array2::<f32>::zeros((self.pairs.len(), self.support.nrows()));
        for (mut row, p) in coef.rows_mut().into_iter().zip(&self.pairs) {
            p.sv.iter().zip(&p.coef).for_each(|(&s, &c)| row[s] = c);
        }
        let values = linalg::a_bt(k.view(), coef.view());
        let decisions: Vec<Array1<f32>> = self
            .pairs
            .iter()
            .enumerate()
            .map(|(j, p)| values.column(j).mapv(|v| v - p.rho))
            .collect();
        let labels: Vec<(u8, u8)> = self.pairs.iter().map(|p| (p.a, p.b)).collect();
        vote(&labels, &decisions, q.nrows())
    }
}

/// Cross-validated accuracy for every cost in `costs` (ascending), scaling on each fold's
/// training rows and estimating γ there when asked to. Each fold computes every pair's kernel
/// once and solves the costs in order from the previous solution.
pub fn cross_validate(
    x: ArrayView2<'_, f64>,
    y: &[u8],
    folds: &[Fold],
    costs: &[f64],
    gamma: Gamma,
    mut on_fold: impl FnMut(),
) -> Result<GridSearch<f64>, ModelError> {
    let mut accuracy = vec![Vec::with_capacity(folds.len()); costs.len()];
    for fold in folds {
        let train = x.select(Axis(0), &fold.train);
        let scaler = Standardizer::fit(train.view());
        let scaled = scaler.transform(train.view());
        let g = resolve_gamma(gamma, scaled.view())? as f32;
        let xs = scaled.mapv(|v| v as f32);
        let val = scaler
            .transform(x.select(Axis(0), &fold.test).view())
            .mapv(|v| v as f32);
        let y_train: Vec<u8> = fold.train.iter().map(|&i| y[i]).collect();
        let (labels, by_cost) = pair_decisions(xs.view(), &y_train, val.view(), g, costs);
        for (acc, decisions) in accuracy.iter_mut().zip(by_cost) {
            let pred = vote(&labels, &decisions, fold.test.len());
            let right = pred
                .iter()
                .zip(&fold.test)
                .filter(|(p, &i)| **p == y[i])
                .count();
            acc.push(right as f64 / fold.test.len() as f64);
        }
        on_fold();
    }
    Ok(GridSearch::from_points(
        costs
            .iter()
            .zip(accuracy)
            .map(|(&c, fold_accuracy)| GridPoint {
                params: c,
                fold_accuracy,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::StratifiedKFold;

    /// Three classes on concentric rings in 2-D: not linearly separable, easy for an RBF.
    fn rings(n: usize, salt: u64) -> (Array2<f64>, Vec<u8>) {
        let mut rng = ChaCha8Rng::seed_from_u64(salt);
        let y: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
        let x = Array2::from_shape_fn((n, 2), |_| 0.0);
        let mut x = x;
        for i in 0..n {
            let r = 1.0 + 2.0 * f64::from(y[i]) + rng.gen_range(-0.3..0.3);
            let t: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
            x[[i, 0]] = r * t.cos();
            x[[i, 1]] = r * t.sin();
        }
        (x, y)
    }

    #[test]
    fn separates_rings_that_no_line_can() {
        let (x, y) = rings(300, 1);
        let (xt, yt) = rings(150, 2);
        let model = SvmParams {
            c: 1.0,
            gamma: Gamma::Sigest { seed: 0 },
        }
        .fit(x.view(), &y)
        .unwrap();
        let pred = model.predict(xt.view());
        let acc = pred.iter().zip(&yt).filter(|(p, t)| p == t).count() as f64 / yt.len() as f64;
        assert!(acc > 0.97, "{acc}");
        assert!(model.n_support() < 300);
        assert!(model.gamma() > 0.0);
    }

    #[test]
    fn the_dual_solution_satisfies_the_kkt_conditions() {
        let (x, y) = rings(120, 3);
        let xs = x.mapv(|v| v as f32);
        let k = rbf(xs.view(), xs.view(), 0.5);
        let yp: Vec<f64> = y.iter().map(|&l| if l == 0 { 1.0 } else { -1.0 }).collect();
        let mut smo = Smo::new(&k, yp.clone());
        let c = 2.0;
        let rho = smo.solve(c);
        // Σ αᵢyᵢ = 0 and 0 ≤ α ≤ C.
        let balance: f64 = smo.alpha.iter().zip(&yp).map(|(a, y)| a * y).sum();
        assert!(balance.abs() < 1e-9, "{balance}");
        assert!(smo.alpha.iter().all(|&a| (0.0..=c).contains(&a)));
        // Free vectors sit on the margin: y f(x) = 1 within the tolerance.
        for t in 0..yp.len() {
            if smo.alpha[t] > 1e-6 && smo.alpha[t] < c - 1e-6 {
                let f: f64 = (0..yp.len())
                    .map(|s| smo.alpha[s] * yp[s] * f64::from(k[[t, s]]))
                    .sum::<f64>()
                    - rho;
                assert!((yp[t] * f - 1.0).abs() < 1e-2, "margin {}", yp[t] * f);
            }
        }
    }

    #[test]
    fn warm_started_costs_match_cold_solves() {
        let (x, y) = rings(90, 4);
        let xs = x.mapv(|v| v as f32);
        let k = rbf(xs.view(), xs.view(), 0.7);
        let yp: Vec<f64> = y.iter().map(|&l| if l == 1 { 1.0 } else { -1.0 }).collect();
        let mut warm = Smo::new(&k, yp.clone());
        warm.solve(0.5);
        let rho_warm = warm.solve(4.0);
        let mut cold = Smo::new(&k, yp);
        let rho_cold = cold.solve(4.0);
        assert!(
            (rho_warm - rho_cold).abs() < 5e-3,
            "{rho_warm} vs {rho_cold}"
        );
    }

    #[test]
    fn cross_validation_scores_every_cost() {
        let (x, y) = rings(150, 5);
        let folds = StratifiedKFold::new(3, 0).split(&y);
        let mut calls = 0;
        let grid = cross_validate(
            x.view(),
            &y,
            &folds,
            &[0.25, 1.0, 4.0],
            Gamma::Sigest { seed: 1 },
            || calls += 1,
        )
        .unwrap();
        assert_eq!(calls, 3);
        assert_eq!(grid.points.len(), 3);
        assert!(grid.best().mean() > 0.9);
    }

    #[test]
    fn sigest_is_the_inverse_scale_of_squared_distances() {
        let x = Array2::from_shape_fn((400, 3), |(i, j)| ((i * 7 + j * 3) % 13) as f64);
        let g = sigest(x.view(), 0);
        let g2 = sigest((&x * 2.0).view(), 0);
        assert!(
            (g / g2 - 4.0).abs() < 1e-9,
            "doubling the data quarters gamma"
        );
        assert!(SvmParams {
            c: -1.0,
            gamma: Gamma::Fixed(1.0)
        }
        .fit(x.view(), &[0; 400])
        .is_err());
    }
}
