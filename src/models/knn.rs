//! k-nearest neighbours by brute force, with distances as one parallel matrix product.
//!
//! Squared Euclidean distances are `‖a‖² − 2 a·b + ‖b‖²`; the `a·b` block is a GEMM (faer, both
//! cores) on `f32`, and the `k` nearest of each row are kept by insertion into a short sorted
//! list. Cross-validation over `k` reuses one neighbour list per fold for every `k`.
//!
//! `linfa-nn` returns neighbour indices but no classifier and no batched distance product, so
//! the classifier is written here.
//!
//! Ties: between equally distant neighbours the earlier training row wins; between classes with
//! equal votes the class of the nearest tied neighbour wins. (R's `class::knn` breaks vote ties
//! at random; a deterministic rule keeps results repeatable.)

use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use super::{Classifier, Fit, ModelError};
use crate::eval::{Fold, GridPoint, GridSearch};
use crate::linalg;

/// Query rows per distance block. Measured on 10,000 × 10,000 (raw pixels and features):
/// 512 is as fast as 1,024 for both, and 256 is 20% slower on raw pixels.
const BLOCK: usize = 512;

/// The hyperparameter of k-nearest neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KnnParams {
    /// Neighbours that vote.
    pub k: usize,
}

impl Default for KnnParams {
    /// k = 7, the k that Table 1's 10-fold cross-validation chooses over the study's grid
    /// 5, 7, …, 23 on the engineered features.
    fn default() -> Self {
        KnnParams { k: 7 }
    }
}

impl KnnParams {
    /// Checks what can be checked without data: `k` ≥ 1 (fitting checks `k` against the rows).
    pub fn validate(&self) -> Result<(), ModelError> {
        super::require(self.k >= 1, "k", || "must be at least 1, got 0".into())
    }
}

super::linfa_estimator!(KnnParams => KnnValidParams, Knn);

/// A fitted kNN classifier: the training rows themselves.
#[derive(Debug, Clone)]
pub struct Knn {
    k: usize,
    train: Array2<f32>,
    labels: Array1<u8>,
}

impl Fit for KnnParams {
    type Model = Knn;

    fn fit(&self, x: ArrayView2<'_, f64>, y: &[u8]) -> Result<Knn, ModelError> {
        super::check_training(x, y)?;
        super::require(self.k >= 1 && self.k <= x.nrows(), "k", || {
            format!(
                "must be between 1 and the {} training rows, got {}",
                x.nrows(),
                self.k
            )
        })?;
        Ok(Knn {
            k: self.k,
            train: x.mapv(|v| v as f32),
            labels: Array1::from(y.to_vec()),
        })
    }
}

impl Classifier for Knn {
    fn predict(&self, x: ArrayView2<'_, f64>) -> Vec<u8> {
        let x = x.mapv(|v| v as f32);
        predict(
            self.train.view(),
            self.labels.as_slice().expect("owned labels are contiguous"),
            x.view(),
            self.k,
        )
    }
}

/// Labels of `query` rows by a vote of their `k` nearest rows of `train` (labelled `labels`).
pub fn predict(
    train: ArrayView2<'_, f32>,
    labels: &[u8],
    query: ArrayView2<'_, f32>,
    k: usize,
) -> Vec<u8> {
    nearest(train, query, k)
        .rows()
        .into_iter()
        .map(|row| vote(row.iter().map(|&i| labels[i as usize]), k))
        .collect()
}

/// For each row of `query`, the indices of its `k` nearest rows of `train`, nearest first.
pub fn nearest(train: ArrayView2<'_, f32>, query: ArrayView2<'_, f32>, k: usize) -> Array2<u32> {
    assert!(k >= 1 && k <= train.nrows(), "1 <= k <= training rows");
    assert_eq!(train.ncols(), query.ncols(), "same columns");
    let train_sq: Array1<f32> = train.rows().into_iter().map(|r| r.dot(&r)).collect();
    let mut out = Array2::<u32>::zeros((query.nrows(), k));
    for (q, mut o) in query
        .axis_chunks_iter(Axis(0), BLOCK)
        .zip(out.axis_chunks_iter_mut(Axis(0), BLOCK))
    {
        let dots = linalg::a_bt(q, train);
        o.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(dots.axis_iter(Axis(0)))
            .for_each(|(mut best, dots)| {
                // ‖q‖² is the same for the whole row, so it does not change the order.
                let mut dist = vec![f32::INFINITY; k];
                let mut idx = vec![0u32; k];
                for (j, (&d, &t)) in dots.iter().zip(&train_sq).enumerate() {
                    let v = t - 2.0 * d;
                    if v < dist[k - 1] {
                        let mut p = k - 1;
                        while p > 0 && dist[p - 1] > v {
                            dist[p] = dist[p - 1];
                            idx[p] = idx[p - 1];
                            p -= 1;
                        }
                        dist[p] = v;
                        idx[p] = j as u32;
                    }
                }
                best.iter_mut().zip(idx).for_each(|(b, i)| *b = i);
            });
    }
    out
}

/// The majority class among the first `k` labels (nearest first); a tie goes to the class of
/// the nearest neighbour among the tied classes.
pub fn vote(labels: impl IntoIterator<Item = u8>, k: usize) -> u8 {
    let first: Vec<u8> = labels.into_iter().take(k).collect();
    // Votes per class among the k, for any number of classes: at most k distinct ones.
    let mut counts: Vec<(u8, usize)> = Vec::with_capacity(first.len());
    for &l in &first {
        match counts.iter_mut().find(|(c, _)| *c == l) {
            Some((_, n)) => *n += 1,
            None => counts.push((l, 1)),
        }
    }
    let top = counts.iter().map(|&(_, n)| n).max().expect("k >= 1");
    *first
        .iter()
        .find(|&&l| counts.iter().any(|&(c, n)| c == l && n == top))
        .expect("k >= 1")
}

/// Cross-validated accuracy of kNN for every `k` in `ks`. `prepare(fold)` returns the fold's
/// training and validation matrices (already preprocessed on the fold's training rows); the
/// neighbours are found once per fold, for the largest `k`, and every `k` votes from them.
pub fn cross_validate<F>(
    y: &[u8],
    folds: &[Fold],
    ks: &[usize],
    mut prepare: F,
    mut on_fold: impl FnMut(),
) -> GridSearch<usize>
where
    F: FnMut(&Fold) -> (Array2<f32>, Array2<f32>),
{
    let k_max = *ks.iter().max().expect("at least one k");
    let mut accuracy = vec![Vec::with_capacity(folds.len()); ks.len()];
    for fold in folds {
        let (train, val) = prepare(fold);
        let neighbours = nearest(train.view(), val.view(), k_max);
        for (acc, &k) in accuracy.iter_mut().zip(ks) {
            let right = neighbours
                .rows()
                .into_iter()
                .zip(&fold.test)
                .filter(|(row, &i)| {
                    vote(
                        row.slice(s![..k])
                            .iter()
                            .map(|&j| y[fold.train[j as usize]]),
                        k,
                    ) == y[i]
                })
                .count();
            acc.push(right as f64 / fold.test.len() as f64);
        }
        on_fold();
    }
    GridSearch::from_points(
        ks.iter()
            .zip(accuracy)
            .map(|(&k, fold_accuracy)| GridPoint {
                params: k,
                fold_accuracy,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::StratifiedKFold;
    use ndarray::array;

    #[test]
    fn nearest_orders_by_distance_and_breaks_ties_by_index() {
        let train = array![[0.0f32, 0.0], [1.0, 0.0], [0.0, 2.0], [-1.0, 0.0]];
        let query = array![[0.9f32, 0.0], [0.0, 0.0]];
        let n = nearest(train.view(), query.view(), 3);
        assert_eq!(n.row(0).to_vec(), [1, 0, 3]);
        // Rows 1 and 3 are equally far from the origin: the earlier one first.
        assert_eq!(n.row(1).to_vec(), [0, 1, 3]);
    }

    #[test]
    fn nearest_agrees_with_brute_force_across_blocks() {
        let train = Array2::from_shape_fn((300, 5), |(i, j)| ((i * 7 + j * 13) % 17) as f32 * 0.37);
        let query =
            Array2::from_shape_fn((BLOCK + 5, 5), |(i, j)| ((i * 3 + j * 5) % 11) as f32 * 0.5);
        let n = nearest(train.view(), query.view(), 1);
        for i in [0, 17, BLOCK + 4] {
            let d = |j: usize| (&query.row(i) - &train.row(j)).mapv(|v| v * v).sum();
            let best = (0..300).min_by(|&a, &b| d(a).total_cmp(&d(b))).unwrap();
            assert!((d(best) - d(n[[i, 0]] as usize)).abs() < 1e-3, "row {i}");
        }
    }

    #[test]
    fn votes_take_the_majority_and_the_nearest_on_ties() {
        assert_eq!(vote([3, 5, 5], 3), 5);
        assert_eq!(vote([3, 5, 5, 3], 4), 3, "tie: class of the nearest wins");
        assert_eq!(vote([7, 1, 1], 1), 7, "only the first k vote");
    }

    #[test]
    fn fit_predict_and_cross_validation() {
        // Two well separated classes.
        let x = Array2::from_shape_fn((40, 2), |(i, j)| {
            if i < 20 {
                j as f64
            } else {
                10.0 + j as f64 + (i % 3) as f64
            }
        });
        let y: Vec<u8> = (0..40).map(|i| u8::from(i >= 20)).collect();
        let model = KnnParams { k: 3 }.fit(x.view(), &y).unwrap();
        assert_eq!(
            model.predict(array![[0.0, 1.0], [12.0, 11.0]].view()),
            [0, 1]
        );
        assert!(KnnParams { k: 0 }.fit(x.view(), &y).is_err());

        let folds = StratifiedKFold::new(4, 1).split(&y);
        let xf = x.mapv(|v| v as f32);
        let mut calls = 0;
        let result = cross_validate(
            &y,
            &folds,
            &[1, 3, 5],
            |f| (xf.select(Axis(0), &f.train), xf.select(Axis(0), &f.test)),
            || calls += 1,
        );
        assert_eq!(calls, 4);
        assert_eq!(result.points.len(), 3);
        assert!(result.points.iter().all(|p| p.mean() == 1.0));
        assert_eq!(result.best().params, 1, "first of equals");
    }
}
