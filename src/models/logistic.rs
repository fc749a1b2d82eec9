//! Multinomial (softmax) logistic regression with weight decay, fitted by L-BFGS.
//!
//! The objective is R `nnet::multinom`'s: the summed cross-entropy plus `decay · Σ w²` over the
//! weights (intercepts are not penalised), on inputs centred and scaled with the training rows'
//! statistics, minimised by the crate's L-BFGS (`optim`), which stops when the largest gradient
//! component falls below 1e-5 per row, when an iteration improves the objective by less than
//! 1e-8 of its value (`optim`'s `reltol`, which `multinom` uses), or after `max_iterations`
//! (100, `multinom`'s `maxit`).

use ndarray::{s, Array1, Array2, ArrayView2};

use super::{Classifier, Fit, ModelError};
use crate::preprocess::Standardizer;

/// Hyperparameters of the multinomial logistic regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticParams {
    /// Weight decay: the penalty `decay · Σ w²` on the (non-intercept) weights, at least 0.
    pub decay: f64,
    /// Cap on L-BFGS iterations.
    pub max_iterations: usize,
}

impl Default for LogisticParams {
    /// Decay 0 and 100 iterations, `nnet::multinom`'s defaults (the study tunes the decay over
    /// [`LogisticParams::decay_grid`]).
    fn default() -> Self {
        LogisticParams::new(0.0)
    }
}

super::linfa_estimator!(LogisticParams => LogisticValidParams, Logistic);

impl LogisticParams {
    /// Checks every setting, naming the first one out of range.
    pub fn validate(&self) -> Result<(), ModelError> {
        super::require(self.decay.is_finite() && self.decay >= 0.0, "decay", || {
            format!("must be a finite number >= 0, got {}", self.decay)
        })
    }

    /// A decay of `decay` and up to 100 iterations, as `nnet::multinom`'s default `maxit`.
    pub fn new(decay: f64) -> Self {
        LogisticParams {
            decay,
            max_iterations: 100,
        }
    }

    /// caret's grid for `multinom` (0, 1e-4, 0.1) extended to stronger penalties.
    pub fn decay_grid() -> Vec<f64> {
        vec![0.0, 1e-4, 0.1, 1.0, 10.0]
    }
}

/// A fitted multinomial logistic regression.
#[derive(Debug, Clone)]
pub struct Logistic {
    scaler: Standardizer,
    /// `(d + 1) × 10`: one column per class, the last row the intercepts.
    weights: Array2<f64>,
    iterations: usize,
}

impl Logistic {
    /// L-BFGS iterations the fit took.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
}

/// Rows of `x` with a trailing 1 for the intercept.
fn with_intercept(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let mut out = Array2::ones((x.nrows(), x.ncols() + 1));
    out.slice_mut(s![.., ..x.ncols()]).assign(&x);
    out
}

/// The objective and its gradient at `w`.
fn objective(x: &Array2<f64>, y: &[u8], w: ArrayView2<'_, f64>, decay: f64) -> (f64, Array2<f64>) {
    let d = w.nrows() - 1;
    let mut p = x.dot(&w);
    // Cross-entropy from the logits before normalising, for accuracy.
    let mut loss = super::cross_entropy(&mut p, y, 0.0);
    let mut grad = x.t().dot(&p);
    let penalised = w.slice(s![..d, ..]);
    loss += decay * penalised.iter().map(|v| v * v).sum::<f64>();
    grad.slice_mut(s![..d, ..])
        .scaled_add(2.0 * decay, &penalised);
    (loss, grad)
}

/// Minimises the objective from zero weights; returns the weights and the iterations used.
fn minimise(x: &Array2<f64>, y: &[u8], decay: f64, max_iterations: usize) -> (Array2<f64>, usize) {
    let shape = (x.ncols(), super::n_classes(y));
    let flat = |w: Array2<f64>| {
        w.into_shape_with_order(shape.0 * shape.1)
            .expect("contiguous")
    };
    let m = crate::optim::lbfgs(
        |w| {
            let w = w.view().into_shape_with_order(shape).expect("contiguous");
            let (f, g) = objective(x, y, w, decay);
            (f, flat(g))
        },
        Array1::zeros(shape.0 * shape.1),
        1e-5 * x.nrows() as f64,
        max_iterations,
    );
    let weights = m.x.into_shape_with_order(shape).expect("contiguous");
    (weights, m.iterations)
}

impl Fit for LogisticParams {
    type Model = Logistic;

    fn fit(&self, x: ArrayView2<'_, f64>, y: &[u8]) -> Result<Logistic, ModelError> {
        super::check_training(x, y)?;
        self.validate()?;
        let scaler = Standardizer::fit(x);
        let design = with_intercept(scaler.transform(x).view());
        let (weights, iterations) = minimise(&design, y, self.decay, self.max_iterations.max(1));
        Ok(Logistic {
            scaler,
            weights,
            iterations,
        })
    }
}

impl Classifier for Logistic {
    fn predict(&self, x: ArrayView2<'_, f64>) -> Vec<u8> {
        let logits = with_intercept(self.scaler.transform(x).view()).dot(&self.weights);
        super::argmax_rows(logits.view())
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        let mut p = with_intercept(self.scaler.transform(x).view()).dot(&self.weights);
        super::softmax_rows(&mut p);
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::N_CLASSES;
    use ndarray::array;

    #[test]
    fn the_gradient_matches_finite_differences() {
        let x = with_intercept(array![[0.5, -1.0], [1.5, 0.3], [-0.7, 0.2], [0.1, 0.9]].view());
        let y = [0, 3, 3, 9];
        let w = Array2::from_shape_fn((3, N_CLASSES), |(i, j)| 0.1 * (i as f64 - j as f64 * 0.3));
        let (_, g) = objective(&x, &y, w.view(), 0.7);
        let h = 1e-6;
        for (i, j) in [(0, 0), (1, 3), (2, 9), (2, 5)] {
            let mut wp = w.clone();
            wp[[i, j]] += h;
            let mut wm = w.clone();
            wm[[i, j]] -= h;
            let numeric = (objective(&x, &y, wp.view(), 0.7).0
                - objective(&x, &y, wm.view(), 0.7).0)
                / (2.0 * h);
            assert!(
                (numeric - g[[i, j]]).abs() < 1e-6,
                "({i},{j}) {numeric} vs {}",
                g[[i, j]]
            );
        }
    }

    #[test]
    fn learns_separable_classes_with_probabilities() {
        let x = array![
            [0.0, 0.0],
            [0.2, 0.1],
            [5.0, 5.0],
            [5.2, 4.9],
            [0.0, 5.0],
            [0.1, 5.2]
        ];
        let y = [0, 0, 4, 4, 7, 7];
        let model = LogisticParams::new(1e-3).fit(x.view(), &y).unwrap();
        assert_eq!(model.predict(x.view()), y);
        let p = model.predict_proba(x.view()).unwrap();
        assert_eq!(p.ncols(), 8, "classes 0 to 7, taken from the labels");
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-9));
        assert!(LogisticParams::new(-1.0).fit(x.view(), &y).is_err());
    }

    #[test]
    fn decay_shrinks_the_weights() {
        let x = array![[0.0], [0.4], [0.6], [1.0], [0.3], [0.8]];
        let y = [1, 1, 2, 2, 1, 2];
        let norm = |d: f64| {
            let m = LogisticParams::new(d).fit(x.view(), &y).unwrap();
            m.weights
                .slice(s![..1, ..])
                .iter()
                .map(|v| v * v)
                .sum::<f64>()
        };
        assert!(norm(10.0) < norm(0.01));
    }
}
