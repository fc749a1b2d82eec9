//! Principal component analysis: centred, not scaled, all components, exact.
//!
//! The covariance matrix is accumulated block by block as `Xcᵀ Xc` (lower triangle only, faer's
//! parallel GEMM), then faer's symmetric eigendecomposition gives every component at once. For
//! 784 pixels that is the exact answer in well under two seconds, where an iterative method
//! would approximate the leading components only.
//!
//! Written here rather than taken from `linfa-reduction` 0.8.1, whose `Pca` divides the
//! explained-variance ratio by the *kept* components' variance (PC1 reads 0.50 with four
//! components kept, against 0.29 of the total) and fits iteratively in ~45 CPU-seconds.
//!
//! Sign convention: an eigenvector's sign is arbitrary, so each component is turned so that its
//! first loading in reading order (pixel by pixel, row by row from the top left) whose
//! magnitude reaches `1/√d` (what every loading would be were the component spread evenly over
//! the `d` columns; a unit vector always has one) is positive. The rule is fixed, so figures
//! do not flip between runs or machines, and the deciding loading is far from zero, so
//! rounding cannot flip it. On Fashion-MNIST it gives the study's orientation (R's `prcomp`) of
//! PC1–PC4 and PC784, the components its text and Figure 6 discuss: PC1 positive over the
//! tops of garments (dark in Figure 6), footwear at the lower left of Figure 7. (The rule it
//! replaced, the largest loading positive, turned PC2 the other way; no simple rule gives
//! LAPACK's choice for every component, and noise components such as PC392 may differ.)

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use thiserror::Error;

use crate::data::SIDE;
use crate::linalg;

/// Rows per block when accumulating the covariance or projecting.
const BLOCK: usize = 4096;

/// Why a PCA could not be fitted.
#[derive(Debug, Error)]
pub enum PcaError {
    /// Fewer than two rows: no variance to analyse.
    #[error("PCA needs at least 2 rows, got {0}")]
    TooFewRows(usize),
    /// The eigendecomposition did not converge (not seen on real data).
    #[error("the eigendecomposition of the covariance matrix did not converge")]
    NoConvergence,
    /// Data with a different number of columns than the fit.
    #[error("the PCA was fitted on {fitted} columns, the data has {got}")]
    Columns {
        /// Columns at fit time.
        fitted: usize,
        /// Columns given now.
        got: usize,
    },
    /// More components asked for than exist.
    #[error("asked for {asked} components, the PCA has {available}")]
    Components {
        /// Components asked for.
        asked: usize,
        /// Components available.
        available: usize,
    },
}

/// A fitted PCA.
#[derive(Debug, Clone)]
pub struct Pca {
    n_samples: usize,
    mean: Array1<f64>,
    /// Row `k` is component `k + 1`, unit length.
    components: Array2<f64>,
    /// Variance along each component (eigenvalues, descending).
    variance: Array1<f64>,
    total_variance: f64,
}

impl Pca {
    /// Fits all components of `x` (`n × d`, any numeric type that widens to `f64`, such as
    /// the `u8` pixels of [`Split::images`](crate::data::Split::images)).
    pub fn fit<T>(x: ArrayView2<'_, T>) -> Result<Pca, PcaError>
    where
        T: Copy + Into<f64> + Sync,
    {
        let (n, d) = x.dim();
        if n < 2 {
            return Err(PcaError::TooFewRows(n));
        }
        let mean = column_means(x);
        let mut cov = Array2::<f64>::zeros((d, d));
        for block in x.axis_chunks_iter(Axis(0), BLOCK) {
            let centred = centre(block, &mean);
            linalg::add_xtx_lower(&mut cov, centred.view());
        }
        cov.mapv_inplace(|v| v / (n - 1) as f64);
        let total_variance = cov.diag().sum();

        let (values, vectors) = linalg::symmetric_eigen(&cov).map_err(|e| match e {
            faer::linalg::evd::EvdError::NoConvergence => PcaError::NoConvergence,
        })?;
        // faer sorts eigenvalues ascending; components go in descending order.
        let mut components = Array2::<f64>::zeros((d, d));
        let mut variance = Array1::<f64>::zeros(d);
        for k in 0..d {
            let src = d - 1 - k;
            variance[k] = values[src].max(0.0);
            let mut row = components.row_mut(k);
            row.assign(&vectors.column(src));
            orient(row);
        }
        Ok(Pca {
            n_samples: n,
            mean,
            components,
            variance,
            total_variance,
        })
    }

    /// Rows the PCA was fitted on.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Number of components (the number of columns fitted).
    pub fn n_components(&self) -> usize {
        self.variance.len()
    }

    /// The column means removed before projecting.
    pub fn mean(&self) -> ArrayView1<'_, f64> {
        self.mean.view()
    }

    /// Variance along each component, descending.
    pub fn explained_variance(&self) -> ArrayView1<'_, f64> {
        self.variance.view()
    }

    /// Each component's share of the *total* variance (the trace of the covariance).
    pub fn explained_variance_ratio(&self) -> Array1<f64> {
        self.variance.mapv(|v| v / self.total_variance)
    }

    /// Cumulative share of the total variance of components 1..=k, for each k.
    pub fn cumulative_variance_ratio(&self) -> Array1<f64> {
        let mut acc = 0.0;
        self.explained_variance_ratio().mapv(|r| {
            acc += r;
            acc
        })
    }

    /// The fewest components whose cumulative share reaches `threshold` (e.g. 0.95).
    pub fn components_for(&self, threshold: f64) -> usize {
        let cumulative = self.cumulative_variance_ratio();
        cumulative
            .iter()
            .position(|&c| c >= threshold - 1e-12)
            .map_or(self.n_components(), |k| k + 1)
    }

    /// Component `k` (0-based: `component(0)` is PC1), unit length.
    pub fn component(&self, k: usize) -> ArrayView1<'_, f64> {
        self.components.row(k)
    }

    /// Component `k` (0-based) as a 28 × 28 image, or an error when there is no such
    /// component or the data were not 784 pixels: the form of [`Pca::component_image`] that
    /// cannot panic.
    pub fn try_component_image(&self, k: usize) -> Result<Array2<f64>, PcaError> {
        self.check(SIDE * SIDE, k + 1)?;
        Ok(self.component_image(k))
    }

    /// Component `k` (0-based) as a 28 × 28 image, for 784-pixel data.
    ///
    /// # Panics
    /// If `k` is not below [`Pca::n_components`] or the data were not 784 pixels (see
    /// [`Pca::try_component_image`]).
    pub fn component_image(&self, k: usize) -> Array2<f64> {
        self.component(k)
            .to_owned()
            .into_shape_with_order((SIDE, SIDE))
            .expect("784 loadings form a 28 × 28 image")
    }

    fn check(&self, cols: usize, k: usize) -> Result<(), PcaError> {
        if cols != self.mean.len() {
            return Err(PcaError::Columns {
                fitted: self.mean.len(),
                got: cols,
            });
        }
        if k > self.n_components() {
            return Err(PcaError::Components {
                asked: k,
                available: self.n_components(),
            });
        }
        Ok(())
    }

    /// Scores of `x` on the first `k` components: `(x − mean) · Vₖᵀ`, `n × k`, in parallel
    /// over blocks of rows.
    pub fn transform<T>(&self, x: ArrayView2<'_, T>, k: usize) -> Result<Array2<f64>, PcaError>
    where
        T: Copy + Into<f64> + Sync,
    {
        self.check(x.ncols(), k)?;
        let basis = self.components.slice(s![..k, ..]);
        let blocks: Vec<Array2<f64>> = x
            .axis_chunks_iter(Axis(0), BLOCK)
            .into_par_iter()
            .map(|block| centre(block, &self.mean).dot(&basis.t()))
            .collect();
        let views: Vec<ArrayView2<'_, f64>> = blocks.iter().map(|b| b.view()).collect();
        Ok(if views.is_empty() {
            Array2::zeros((0, k))
        } else {
            ndarray::concatenate(Axis(0), &views).expect("blocks share their width")
        })
    }

    /// Back from `k` scores per row to the original columns: `scores · Vₖ + mean`.
    pub fn inverse_transform(&self, scores: ArrayView2<'_, f64>) -> Result<Array2<f64>, PcaError> {
        let k = scores.ncols();
        self.check(self.mean.len(), k)?;
        Ok(scores.dot(&self.components.slice(s![..k, ..])) + &self.mean)
    }

    /// `x` projected on the first `k` components and back: its best rank-`k` approximation.
    pub fn reconstruct<T>(&self, x: ArrayView2<'_, T>, k: usize) -> Result<Array2<f64>, PcaError>
    where
        T: Copy + Into<f64> + Sync,
    {
        self.inverse_transform(self.transform(x, k)?.view())
    }
}

/// Turns the unit vector `v` so that its first entry of magnitude at least `1/√d` is positive
/// (the module's sign convention).
fn orient(mut v: ndarray::ArrayViewMut1<'_, f64>) {
    let threshold = 1.0 / (v.len() as f64).sqrt();
    // Rounding may leave the largest entry of a unit vector a hair below 1/√d: allow for it.
    let first = v
        .iter()
        .copied()
        .find(|x| x.abs() >= threshold * (1.0 - 1e-9));
    if first.is_some_and(|x| x < 0.0) {
        v.mapv_inplace(|x| -x);
    }
}

fn column_means<T: Copy + Into<f64> + Sync>(x: ArrayView2<'_, T>) -> Array1<f64> {
    let d = x.ncols();
    let sums = x
        .axis_chunks_iter(Axis(0), BLOCK)
        .into_par_iter()
        .map(|block| {
            let mut s = Array1::<f64>::zeros(d);
            for row in block.rows() {
                s.iter_mut().zip(row).for_each(|(a, &v)| *a += v.into());
            }
            s
        })
        .reduce(|| Array1::zeros(d), |a, b| a + b);
    sums / x.nrows() as f64
}

fn centre<T: Copy + Into<f64>>(block: ArrayView2<'_, T>, mean: &Array1<f64>) -> Array2<f64> {
    let mut out = block.mapv(Into::into);
    out -= mean;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Points on a line through (1, 2) along (3, 4)/5, plus a small orthogonal wobble that is
    /// uncorrelated with the position along the line.
    fn line() -> Array2<f64> {
        let t = [-2.0, -1.0, 0.0, 1.0, 2.0];
        let w = [0.1, -0.2, 0.0, 0.2, -0.1]; // uncorrelated with t, mean 0
        Array2::from_shape_fn((5, 2), |(i, j)| {
            let dir = [0.6, 0.8][j] * t[i];
            let orth = [-0.8, 0.6][j] * w[i];
            [1.0, 2.0][j] + dir + orth
        })
    }

    #[test]
    fn recovers_the_direction_the_variances_and_the_ratios() {
        let pca = Pca::fit(line().view()).unwrap();
        assert!((pca.mean()[0] - 1.0).abs() < 1e-12);
        let pc1 = pca.component(0);
        assert!(
            (pc1[0] - 0.6).abs() < 1e-12 && (pc1[1] - 0.8).abs() < 1e-12,
            "{pc1}"
        );
        // Variance along t: sum(t^2)/(n-1) = 10/4; along the wobble: 0.1/4.
        assert!((pca.explained_variance()[0] - 2.5).abs() < 1e-12);
        assert!((pca.explained_variance()[1] - 0.025).abs() < 1e-12);
        let ratio = pca.explained_variance_ratio();
        assert!((ratio[0] - 2.5 / 2.525).abs() < 1e-12);
        assert!((ratio.sum() - 1.0).abs() < 1e-12);
        assert_eq!(pca.components_for(0.99), 1);
        assert_eq!(pca.components_for(0.999), 2);
    }

    #[test]
    fn the_first_substantial_loading_is_positive() {
        let flipped = line().mapv(|v| -v);
        let pca = Pca::fit(flipped.view()).unwrap();
        let pc = pca.component(0);
        assert!(pc[1] > 0.0 && pc[1].abs() > pc[0].abs());
        // Along (-0.6, 0, 0.8): the first loading of at least 1/√3 is the first, so it is the
        // one made positive, although the largest is the last.
        let t = [-2.0, -1.0, 0.0, 1.0, 2.0];
        let w = [0.1, -0.2, 0.0, 0.2, -0.1];
        let x = Array2::from_shape_fn((5, 3), |(i, j)| {
            [-0.6, 0.0, 0.8][j] * t[i] + [0.0, 1.0, 0.0][j] * w[i]
        });
        for sign in [1.0, -1.0] {
            let pca = Pca::fit(x.mapv(|v| sign * v).view()).unwrap();
            let pc = pca.component(0);
            assert!(
                (pc[0] - 0.6).abs() < 1e-12 && (pc[2] + 0.8).abs() < 1e-12,
                "{pc}"
            );
        }
    }

    #[test]
    fn full_reconstruction_is_exact_and_truncation_is_least_squares() {
        let x = line();
        let pca = Pca::fit(x.view()).unwrap();
        let full = pca.reconstruct(x.view(), 2).unwrap();
        assert!((&full - &x).iter().all(|d| d.abs() < 1e-12));
        let one = pca.reconstruct(x.view(), 1).unwrap();
        let residual: f64 = (&one - &x).iter().map(|d| d * d).sum();
        assert!((residual - 0.1).abs() < 1e-12, "{residual}");
        let scores = pca.transform(x.view(), 1).unwrap();
        assert_eq!(scores.dim(), (5, 1));
        assert!((scores[[4, 0]] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_component_image_past_the_last_is_an_error_not_a_panic() {
        let x = Array2::from_shape_fn((6, SIDE * SIDE), |(i, p)| ((i * 7 + p * i) % 256) as u8);
        let pca = Pca::fit(x.view()).unwrap();
        assert_eq!(pca.try_component_image(0).unwrap().dim(), (SIDE, SIDE));
        assert!(matches!(
            pca.try_component_image(784),
            Err(PcaError::Components {
                asked: 785,
                available: 784
            })
        ));
        let small = Pca::fit(line().view()).unwrap();
        assert!(matches!(
            small.try_component_image(0),
            Err(PcaError::Columns { fitted: 2, .. })
        ));
    }

    #[test]
    fn integer_input_and_errors() {
        let x = array![[0u8, 10], [10, 0], [5, 5]];
        let pca = Pca::fit(x.view()).unwrap();
        assert_eq!(pca.n_components(), 2);
        assert!(matches!(
            Pca::fit(array![[1u8, 2]].view()),
            Err(PcaError::TooFewRows(1))
        ));
        assert!(matches!(
            pca.transform(array![[1u8, 2, 3]].view(), 1),
            Err(PcaError::Columns { fitted: 2, got: 3 })
        ));
        assert!(matches!(
            pca.transform(x.view(), 3),
            Err(PcaError::Components {
                asked: 3,
                available: 2
            })
        ));
    }
}
