//! Preprocessing fitted on training rows only: R caret's near-zero-variance filter and
//! centring and scaling.
//!
//! The study scaled its test set with the test set's own statistics; here every transform is
//! fitted on the training rows and applied unchanged to the rows it is asked to transform, which
//! is what a model deployed on new images would have to do.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;

/// The study's `nearZeroVar(freqCut = 90, uniqueCut = 10)`.
pub const STUDY_FREQ_CUT: f64 = 90.0;
/// See [`STUDY_FREQ_CUT`].
pub const STUDY_UNIQUE_CUT: f64 = 10.0;

/// R caret's `nearZeroVar` on `u8` columns: a column is dropped when it has a single value, or
/// when the ratio of its most to its second most frequent value exceeds `freq_cut` *and* its
/// distinct values number at most `unique_cut` percent of the rows (caret's `<=`).
#[derive(Debug, Clone, PartialEq)]
pub struct NearZeroVar {
    keep: Vec<usize>,
    n_columns: usize,
}

impl NearZeroVar {
    /// Decides which columns of `x` to keep.
    pub fn fit(x: ArrayView2<'_, u8>, freq_cut: f64, unique_cut: f64) -> NearZeroVar {
        let n = x.nrows() as f64;
        let keep = (0..x.ncols())
            .into_par_iter()
            .filter(|&j| {
                let mut counts = [0u64; 256];
                x.column(j)
                    .iter()
                    .for_each(|&v| counts[usize::from(v)] += 1);
                let distinct = counts.iter().filter(|&&c| c > 0).count();
                if distinct <= 1 {
                    return false;
                }
                let (mut first, mut second) = (0u64, 0u64);
                for &c in &counts {
                    if c > first {
                        (first, second) = (c, first);
                    } else if c > second {
                        second = c;
                    }
                }
                let freq_ratio = first as f64 / second as f64;
                let percent_unique = 100.0 * distinct as f64 / n;
                !(freq_ratio > freq_cut && percent_unique <= unique_cut)
            })
            .collect();
        NearZeroVar {
            keep,
            n_columns: x.ncols(),
        }
    }

    /// Indices of the columns kept, ascending.
    pub fn kept(&self) -> &[usize] {
        &self.keep
    }

    /// Columns dropped.
    pub fn n_dropped(&self) -> usize {
        self.n_columns - self.keep.len()
    }

    /// The kept columns of `x`, as `f64`.
    pub fn transform(&self, x: ArrayView2<'_, u8>) -> Array2<f64> {
        assert_eq!(x.ncols(), self.n_columns, "same columns as at fit time");
        x.select(Axis(1), &self.keep).mapv(f64::from)
    }
}

/// Centring and scaling with the training rows' mean and sample standard deviation (R's
/// `preProcess(method = c("center", "scale"))`). A column constant in training is centred
/// and left unscaled.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    mean: Array1<f64>,
    scale: Array1<f64>,
}

impl Standardizer {
    /// Learns each column's mean and standard deviation.
    ///
    /// # Panics
    ///
    /// If `x` has no rows. The models check their training rows before fitting a scaler, so
    /// through [`crate::models::Fit`] an empty input is an error, never this panic.
    pub fn fit(x: ArrayView2<'_, f64>) -> Standardizer {
        let mean = x.mean_axis(Axis(0)).expect("at least one row");
        let sd = x.std_axis(Axis(0), if x.nrows() > 1 { 1.0 } else { 0.0 });
        let scale = sd.mapv(|s| if s > 0.0 { s } else { 1.0 });
        Standardizer { mean, scale }
    }

    /// `(x − mean) / sd`, column by column.
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        (&x - &self.mean) / &self.scale
    }
}

/// The study's preprocessing of raw pixels for kNN: [`NearZeroVar`] with the study's cuts,
/// then [`Standardizer`], both fitted on the same training rows; output as `f32` for the
/// distance products.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelPrep {
    nzv: NearZeroVar,
    scaler: Standardizer,
}

impl PixelPrep {
    /// Fits the filter and the scaler on `rows`.
    pub fn fit(rows: ArrayView2<'_, u8>) -> PixelPrep {
        let nzv = NearZeroVar::fit(rows, STUDY_FREQ_CUT, STUDY_UNIQUE_CUT);
        let scaler = Standardizer::fit(nzv.transform(rows).view());
        PixelPrep { nzv, scaler }
    }

    /// Pixels dropped by the filter.
    pub fn n_dropped(&self) -> usize {
        self.nzv.n_dropped()
    }

    /// Filters and scales `rows` with what was learnt at fit time.
    pub fn apply(&self, rows: ArrayView2<'_, u8>) -> Array2<f32> {
        self.scaler
            .transform(self.nzv.transform(rows).view())
            .mapv(|v| v as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn near_zero_variance_follows_caret() {
        // 100 rows. Col 0: constant. Col 1: 95 zeros, 5 ones: ratio 19, 2% unique -> kept
        // at freqCut 90, dropped at 19 (caret's default 95/5 is a strict '>', so kept).
        // Col 2: 99 zeros, one 7: ratio 99 > 90, 2% unique -> dropped. Col 3: 0..100 -> kept.
        let x = Array2::from_shape_fn((100, 4), |(i, j)| match j {
            0 => 3,
            1 => u8::from(i < 5),
            2 => {
                if i == 0 {
                    7
                } else {
                    0
                }
            }
            _ => i as u8,
        });
        let nzv = NearZeroVar::fit(x.view(), STUDY_FREQ_CUT, STUDY_UNIQUE_CUT);
        assert_eq!(nzv.kept(), [1, 3]);
        assert_eq!(nzv.n_dropped(), 2);
        assert_eq!(NearZeroVar::fit(x.view(), 18.0, 10.0).kept(), [3]);
        // Many distinct values keep a column even with a dominant one: 85 zeros, 15 distinct.
        let y = Array2::from_shape_fn((100, 1), |(i, _)| if i < 85 { 0 } else { i as u8 });
        assert_eq!(NearZeroVar::fit(y.view(), 2.0, 10.0).kept(), [0]);
        let t = nzv.transform(x.view());
        assert_eq!(t.dim(), (100, 2));
        assert_eq!(t[[99, 1]], 99.0);
    }

    #[test]
    fn standardizer_uses_training_statistics_only() {
        let train = array![[1.0, 5.0], [3.0, 5.0]];
        let s = Standardizer::fit(train.view());
        let z = s.transform(train.view());
        let sd = 2f64.sqrt();
        assert!((z[[0, 0]] + 1.0 / sd).abs() < 1e-12 && (z[[1, 0]] - 1.0 / sd).abs() < 1e-12);
        assert_eq!(
            z.column(1).to_vec(),
            [0.0, 0.0],
            "a constant column is centred only"
        );
        let test = array![[5.0, 6.0]];
        let zt = s.transform(test.view());
        assert!(
            (zt[[0, 0]] - 3.0 / sd).abs() < 1e-12,
            "test rows use the training mean and sd"
        );
        assert_eq!(zt[[0, 1]], 1.0);
    }
}
