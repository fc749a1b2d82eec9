//! Naive Bayes with Gaussian or kernel-density class-conditional densities.
//!
//! The Gaussian variant is the textbook one (scikit-learn's `GaussianNB`, with its variance
//! smoothing of 1e-9 × the largest feature variance). The kernel variant follows R's
//! `naivebayes::naive_bayes(usekernel = TRUE)`, which the study's caret `nb` model used: each
//! class's density of each feature is R's `density()` (Gaussian kernel, bandwidth `bw.nrd0`,
//! 512 grid points reaching 3 bandwidths past the data), read by linear interpolation, with
//! densities below 0.001 raised to 0.001. Written here because linfa-bayes has no kernel
//! variant, and the grid makes the kernel variant cost no more than the Gaussian one.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use super::{Classifier, Fit, ModelError};

/// Grid points of each density, as R's `density()`.
const GRID: usize = 512;
/// naivebayes' floor on a density.
const THRESHOLD: f64 = 0.001;

/// Which class-conditional density.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Density {
    /// One normal distribution per class and feature.
    Gaussian,
    /// A Gaussian kernel density estimate per class and feature.
    Kernel,
}

/// Hyperparameters of naive Bayes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BayesParams {
    /// The class-conditional density.
    pub density: Density,
}

impl Default for BayesParams {
    /// Kernel densities, the better of the study's two naive Bayes rows.
    fn default() -> Self {
        BayesParams {
            density: Density::Kernel,
        }
    }
}

impl BayesParams {
    /// Every setting is valid: there is nothing to check.
    pub fn validate(&self) -> Result<(), ModelError> {
        Ok(())
    }
}

super::linfa_estimator!(BayesParams => BayesValidParams, NaiveBayes);

/// One feature's density within one class.
#[derive(Debug, Clone)]
enum Marginal {
    /// `log_norm − (x − mean)² · half_precision`.
    Gaussian {
        mean: f64,
        half_precision: f64,
        log_norm: f64,
    },
    Kernel {
        lo: f64,
        step: f64,
        values: Vec<f64>,
    },
}

impl Marginal {
    fn log_density(&self, x: f64) -> f64 {
        match self {
            Marginal::Gaussian {
                mean,
                half_precision,
                log_norm,
            } => log_norm - (x - mean).powi(2) * half_precision,
            Marginal::Kernel { lo, step, values } => {
                let pos = (x - lo) / step;
                let d = if pos < 0.0 || pos > (values.len() - 1) as f64 {
                    0.0
                } else {
                    let i = (pos.floor() as usize).min(values.len() - 2);
                    let f = pos - i as f64;
                    values[i] * (1.0 - f) + values[i + 1] * f
                };
                d.max(THRESHOLD).ln()
            }
        }
    }
}

/// A fitted naive Bayes classifier.
#[derive(Debug, Clone)]
pub struct NaiveBayes {
    classes: Vec<u8>,
    log_prior: Vec<f64>,
    /// `marginals[class][feature]`.
    marginals: Vec<Vec<Marginal>>,
}

/// R's `bw.nrd0`: 0.9 · min(sd, IQR / 1.34) · n^(−1/5), with R's fallbacks for degenerate data.
pub fn bw_nrd0(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n < 2 {
        return 1.0;
    }
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let sd = (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let q = |p: f64| {
        // R's default quantile (type 7).
        let h = (n - 1) as f64 * p;
        let (i, f) = (h.floor() as usize, h - h.floor());
        sorted[i] + f * (sorted[(i + 1).min(n - 1)] - sorted[i])
    };
    let iqr = q(0.75) - q(0.25);
    let mut lo = sd.min(iqr / 1.34);
    if lo <= 0.0 {
        lo = if sd > 0.0 {
            sd
        } else if sorted[0] != 0.0 {
            sorted[0].abs()
        } else {
            1.0
        };
    }
    0.9 * lo * (n as f64).powf(-0.2)
}

/// R's `density(x)` on its default grid, from sorted values.
fn kernel_density(sorted: &[f64]) -> Marginal {
    let bw = bw_nrd0(sorted);
    let (lo, hi) = (sorted[0] - 3.0 * bw, sorted[sorted.len() - 1] + 3.0 * bw);
    let step = (hi - lo) / (GRID - 1) as f64;
    // Features repeat values a lot (shares of 28 or 784 pixels): weigh each distinct value once.
    let mut distinct: Vec<(f64, f64)> = Vec::new();
    for &v in sorted {
        match distinct.last_mut() {
            Some((last, count)) if *last == v => *count += 1.0,
            _ => distinct.push((v, 1.0)),
        }
    }
    let norm = 1.0 / (sorted.len() as f64 * bw * (2.0 * std::f64::consts::PI).sqrt());
    let values = (0..GRID)
        .map(|k| {
            let g = lo + k as f64 * step;
            norm * distinct
                .iter()
                .map(|&(v, c)| c * (-0.5 * ((g - v) / bw).powi(2)).exp())
                .sum::<f64>()
        })
        .collect();
    Marginal::Kernel { lo, step, values }
}

impl Fit for BayesParams {
    type Model = NaiveBayes;

    fn fit(&self, x: ArrayView2<'_, f64>, y: &[u8]) -> Result<NaiveBayes, ModelError> {
        super::check_training(x, y)?;
        let classes: Vec<u8> = (0..super::n_classes(y))
            .map(|c| c as u8)
            .filter(|c| y.contains(c))
            .collect();
        // Row-wise statistics (`var_axis` over rows) run along contiguous memory.
        let smoothing = 1e-9
            * x.var_axis(Axis(0), 0.0)
                .fold(0.0f64, |m, &v| m.max(v))
                .max(f64::MIN_POSITIVE);
        let marginals = classes
            .par_iter()
            .map(|&c| {
                let rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] == c).collect();
                let xc = x.select(Axis(0), &rows);
                match self.density {
                    Density::Gaussian => {
                        let mean = xc.mean_axis(Axis(0)).expect("a class has rows");
                        let var = xc.var_axis(Axis(0), 0.0);
                        mean.iter()
                            .zip(&var)
                            .map(|(&mean, &v)| {
                                let var = v + smoothing;
                                Marginal::Gaussian {
                                    mean,
                                    half_precision: 0.5 / var,
                                    log_norm: -0.5 * (2.0 * std::f64::consts::PI * var).ln(),
                                }
                            })
                            .collect()
                    }
                    Density::Kernel => xc
                        .axis_iter(Axis(1))
                        .map(|col| {
                            let mut v = col.to_vec();
                            v.sort_by(f64::total_cmp);
                            kernel_density(&v)
                        })
                        .collect(),
                }
            })
            .collect();
        let log_prior = classes
            .iter()
            .map(|&c| (y.iter().filter(|&&l| l == c).count() as f64 / y.len() as f64).ln())
            .collect();
        Ok(NaiveBayes {
            classes,
            log_prior,
            marginals,
        })
    }
}

impl NaiveBayes {
    /// Log posterior (up to a constant) of each class seen in training, in `classes` order.
    fn log_posterior(&self, row: ArrayView1<'_, f64>) -> Vec<f64> {
        self.marginals
            .iter()
            .zip(&self.log_prior)
            .map(|(ms, prior)| {
                prior
                    + ms.iter()
                        .zip(row)
                        .map(|(m, &v)| m.log_density(v))
                        .sum::<f64>()
            })
            .collect()
    }
}

impl Classifier for NaiveBayes {
    fn predict(&self, x: ArrayView2<'_, f64>) -> Vec<u8> {
        x.axis_iter(Axis(0))
            .into_par_iter()
            .map(|row| {
                let lp = self.log_posterior(row);
                self.classes[super::argmax(&lp)]
            })
            .collect()
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        let mut out = Array2::zeros((x.nrows(), self.classes.len()));
        for (mut o, row) in out.rows_mut().into_iter().zip(x.rows()) {
            let lp = self.log_posterior(row);
            let m = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = lp.iter().map(|v| (v - m).exp()).sum();
            o.iter_mut()
                .zip(&lp)
                .for_each(|(p, v)| *p = (v - m).exp() / z);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn bandwidth_matches_r() {
        // R: bw.nrd0(c(1, 2, 3, 4, 10)) = 0.9 * min(sd = 3.535534, IQR/1.34 = 1.492537) * 5^-0.2
        let bw = bw_nrd0(&[1.0, 2.0, 3.0, 4.0, 10.0]);
        assert!(
            (bw - 0.9 * (2.0 / 1.34) * 5f64.powf(-0.2)).abs() < 1e-12,
            "{bw}"
        );
        // Constant data falls back to |x|.
        assert!((bw_nrd0(&[2.0, 2.0, 2.0]) - 0.9 * 2.0 * 3f64.powf(-0.2)).abs() < 1e-12);
    }

    #[test]
    fn kernel_density_integrates_to_one() {
        let v: Vec<f64> = (0..200).map(|i| (i % 17) as f64 / 17.0).collect();
        let mut s = v.clone();
        s.sort_by(f64::total_cmp);
        let Marginal::Kernel { step, values, .. } = kernel_density(&s) else {
            unreachable!()
        };
        let area: f64 = values.iter().sum::<f64>() * step;
        assert!((area - 1.0).abs() < 0.01, "{area}");
    }

    #[test]
    fn both_variants_classify_separated_classes() {
        let x = array![
            [0.0, 1.0],
            [0.1, 1.1],
            [0.2, 0.9],
            [5.0, 3.0],
            [5.1, 3.2],
            [4.9, 2.9]
        ];
        let y = [2, 2, 2, 6, 6, 6];
        for density in [Density::Gaussian, Density::Kernel] {
            let m = BayesParams { density }.fit(x.view(), &y).unwrap();
            assert_eq!(
                m.predict(array![[0.05, 1.0], [5.0, 3.1]].view()),
                [2, 6],
                "{density:?}"
            );
            let p = m.predict_proba(x.view()).unwrap();
            assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-9));
        }
    }
}
