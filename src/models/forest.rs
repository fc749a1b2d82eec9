//! Random forest through `rafor`: a true random forest in R randomForest's sense, with the
//! `mtry` candidate features drawn afresh at every split (linfa-ensemble 0.8.1 draws them once
//! per tree, which is bagging of feature-subset trees, and runs on one core).
//!
//! Trees grow to purity (no depth limit, one sample per leaf, Gini impurity), each on a
//! bootstrap sample, in parallel on all cores. Every tree's seed derives from the forest's seed.

use ndarray::{Array2, ArrayView2};
use rafor::prelude::*;

use super::{Classifier, Fit, ModelError};

/// Hyperparameters of the random forest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForestParams {
    /// Trees in the forest (the study: 500).
    pub trees: usize,
    /// Candidate features at each split; `None` takes R's default, ⌊√p⌋ of the `p` features
    /// fitted (9 for the study's 84).
    pub mtry: Option<usize>,
    /// Seed of the bootstrap samples and feature draws.
    pub seed: u64,
}

impl ForestParams {
    /// The study's forest for `p` features: 500 trees, `mtry` = ⌊√p⌋.
    pub fn study(p: usize, seed: u64) -> Self {
        ForestParams {
            mtry: Some(sqrt_features(p)),
            seed,
            ..ForestParams::default()
        }
    }

    /// Checks what can be checked without data: at least one tree, and `mtry` ≥ 1 when set
    /// (fitting checks it against the features).
    pub fn validate(&self) -> Result<(), ModelError> {
        super::require(self.trees >= 1, "trees", || {
            "must be at least 1, got 0".into()
        })?;
        super::require(self.mtry != Some(0), "mtry", || {
            "must be at least 1, got 0".into()
        })
    }

    /// The candidate features at each split when fitting `p` features.
    pub fn mtry_for(&self, p: usize) -> usize {
        self.mtry.unwrap_or_else(|| sqrt_features(p))
    }
}

impl Default for ForestParams {
    /// The study's forest: 500 trees, `mtry` = ⌊√p⌋, with seed 42.
    fn default() -> Self {
        ForestParams {
            trees: 500,
            mtry: None,
            seed: 42,
        }
    }
}

super::linfa_estimator!(ForestParams => ForestValidParams, Forest);

/// ⌊√p⌋, at least 1: R randomForest's default `mtry` for classification.
fn sqrt_features(p: usize) -> usize {
    (p as f64).sqrt().floor().max(1.0) as usize
}

/// A fitted random forest.
#[derive(Debug, Clone)]
pub struct Forest {
    inner: rafor::rf::Classifier,
    n_features: usize,
}

fn threads() -> usize {
    rayon::current_num_threads().max(1)
}

fn as_f32(x: ArrayView2<'_, f64>) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

impl Fit for ForestParams {
    type Model = Forest;

    fn fit(&self, x: ArrayView2<'_, f64>, y: &[u8]) -> Result<Forest, ModelError> {
        super::check_training(x, y)?;
        self.validate()?;
        let mtry = self.mtry_for(x.ncols());
        super::require(mtry <= x.ncols(), "mtry", || {
            format!(
                "must be between 1 and the {} features, got {mtry}",
                x.ncols()
            )
        })?;
        let labels: Vec<i64> = y.iter().map(|&l| i64::from(l)).collect();
        let inner = rafor::rf::Classifier::trainer()
            .with_trees(self.trees)
            .with_max_features(MaxFeaturesPolicy::NUMBER(mtry))
            .with_seed(self.seed)
            .with_threads(threads())
            .train(&as_f32(x), &labels);
        Ok(Forest {
            inner,
            n_features: x.ncols(),
        })
    }
}

impl Classifier for Forest {
    fn predict(&self, x: ArrayView2<'_, f64>) -> Vec<u8> {
        assert_eq!(x.ncols(), self.n_features, "same features as at fit time");
        self.inner
            .predict_batch(&as_f32(x), threads())
            .into_iter()
            .map(|l| l as u8)
            .collect()
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        let p = self.inner.proba(&as_f32(x), threads());
        let k = p.len() / x.nrows().max(1);
        Array2::from_shape_vec((x.nrows(), k), p.into_iter().map(f64::from).collect()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forest_learns_an_axis_aligned_rule_and_is_seeded() {
        let x = Array2::from_shape_fn((200, 3), |(i, j)| ((i * 37 + j * 11) % 100) as f64);
        let y: Vec<u8> = x
            .rows()
            .into_iter()
            .map(|r| if r[1] > 50.0 { 3 } else { 1 })
            .collect();
        let params = ForestParams {
            trees: 50,
            mtry: Some(1),
            seed: 7,
        };
        let model = params.fit(x.view(), &y).unwrap();
        let pred = model.predict(x.view());
        let right = pred.iter().zip(&y).filter(|(p, t)| p == t).count();
        assert!(right >= 195, "{right}");
        assert_eq!(
            pred,
            params.fit(x.view(), &y).unwrap().predict(x.view()),
            "same seed"
        );
        assert_eq!(ForestParams::study(84, 0).mtry, Some(9));
        assert_eq!(ForestParams::default().mtry_for(84), 9);
        assert_eq!(ForestParams::default().mtry_for(3), 1);
        assert!(ForestParams {
            trees: 10,
            mtry: Some(4),
            seed: 0
        }
        .fit(x.view(), &y)
        .is_err());
        let proba = model.predict_proba(x.view()).unwrap();
        assert_eq!(proba.dim(), (200, 2));
    }
}
