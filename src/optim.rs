//! Limited-memory BFGS, shared by the models fitted by minimising a smooth penalised
//! likelihood (multinomial logistic regression, the single-hidden-layer network).
//!
//! Ten correction pairs, a backtracking line search on the Armijo condition, and R `optim`'s
//! stopping rules: the largest gradient component below `gradient_tolerance`, an iteration that
//! improves the objective by less than `1e-8` of its value (`reltol`), or `max_iterations`.
//!
//! Written here rather than taken from argmin: linfa-logistic 0.8.1, which runs argmin's L-BFGS
//! with a More–Thuente line search, took about two minutes for the Table 1 grid on two cores,
//! single fits varying from 0.9 to 30 s as the line search wandered; this loop converges on the
//! same objectives in a fraction of a second, the same way each time, in under a hundred lines.

use ndarray::Array1;

/// Correction pairs kept.
const HISTORY: usize = 10;

/// Relative improvement below which the search stops (R `optim`'s default `reltol`).
const RELTOL: f64 = 1e-8;

/// Where a minimisation ended.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    /// The parameters.
    pub x: Array1<f64>,
    /// Iterations taken.
    pub iterations: usize,
}

/// Minimises `objective` (value and gradient at a point) from `x0`.
pub(crate) fn lbfgs<F>(
    mut objective: F,
    x0: Array1<f64>,
    gradient_tolerance: f64,
    max_iterations: usize,
) -> Minimum
where
    F: FnMut(&Array1<f64>) -> (f64, Array1<f64>),
{
    let mut x = x0;
    let (mut f, mut g) = objective(&x);
    let mut history: Vec<(Array1<f64>, Array1<f64>, f64)> = Vec::with_capacity(HISTORY);
    for iteration in 0..max_iterations {
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < gradient_tolerance {
            return Minimum {
                x,
                iterations: iteration,
            };
        }
        // Two-loop recursion: direction = −H·g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, yv, rho) in history.iter().rev() {
            let a = rho * s.dot(&q);
            q.scaled_add(-a, yv);
            alphas.push(a);
        }
        if let Some((s, yv, _)) = history.last() {
            q *= s.dot(yv) / yv.dot(yv);
        } else {
            q /= g.dot(&g).sqrt().max(1.0);
        }
        for ((s, yv, rho), a) in history.iter().zip(alphas.into_iter().rev()) {
            let b = rho * yv.dot(&q);
            q.scaled_add(a - b, s);
        }
        let direction = -q;
        let slope = g.dot(&direction);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            if history.is_empty() {
                return Minimum {
                    x,
                    iterations: iteration,
                };
            }
            history.clear();
            continue;
        }
        let mut step = 1.0;
        let (x_new, f_new, g_new) = loop {
            let candidate = &x + &(&direction * step);
            let (fc, gc) = objective(&candidate);
            if fc <= f + 1e-4 * step * slope || step < 1e-10 {
                break (candidate, fc, gc);
            }
            step *= 0.5;
        };
        let s_k = &x_new - &x;
        let y_k = &g_new - &g;
        let sy = s_k.dot(&y_k);
        let improved = f - f_new;
        let previous = f;
        (x, f, g) = (x_new, f_new, g_new);
        if sy > 1e-12 {
            if history.len() == HISTORY {
                history.remove(0);
            }
            history.push((s_k, y_k, 1.0 / sy));
        }
        if improved.abs() <= RELTOL * previous.abs().max(1.0) {
            return Minimum {
                x,
                iterations: iteration + 1,
            };
        }
    }
    Minimum {
        x,
        iterations: max_iterations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn minimises_the_rosenbrock_function() {
        let rosenbrock = |p: &Array1<f64>| {
            let (a, b) = (p[0], p[1]);
            let f = (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
            let g = array![
                -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
                200.0 * (b - a * a)
            ];
            (f, g)
        };
        let m = lbfgs(rosenbrock, array![-1.2, 1.0], 1e-8, 500);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-4 && (m.x[1] - 1.0).abs() < 1e-4,
            "{}",
            m.x
        );
        assert!(m.iterations < 500);
    }
}
