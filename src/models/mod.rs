//! Classifiers for any number of classes, with linfa's traits as their public face.
//!
//! Each model family has a parameter type with public fields and a [`Default`] that is the
//! study's setting (`KnnParams`, `SvmParams`, …). As linfa's CONTRIBUTE.md asks, it implements
//! [`linfa::ParamGuard`]: checking it gives the family's valid-parameters type
//! (`KnnValidParams`, …), which implements [`linfa::traits::Fit`] on a
//! [`linfa::DatasetBase`] of `f64` records and `usize` labels `0..n_classes`; linfa's blanket
//! impl then fits the unchecked parameters too, checking them first. Every fitted model
//! implements [`linfa::traits::PredictInplace`], and so `Predict`:
//!
//! ```
//! use fmnist::models::knn::KnnParams;
//! use linfa::prelude::*;
//! use ndarray::array;
//!
//! let x = array![[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [9.0, 0.0], [9.1, 0.1]];
//! let train = Dataset::new(x, array![0, 0, 11, 11, 4, 4]);
//! let model = KnnParams { k: 1 }.fit(&train)?;
//! let predicted: ndarray::Array1<usize> = model.predict(&array![[4.9, 5.2], [8.8, 0.0]]);
//! assert_eq!(predicted, array![11, 4]);
//! # Ok::<(), fmnist::models::ModelError>(())
//! ```
//!
//! Behind the linfa face is the fast path the study's sections use: [`Fit`] fits a view of the
//! rows and a slice of `u8` labels without copying them into a dataset, and [`Classifier`]
//! predicts `u8` labels. Labels above 255 are refused with [`ModelError::InvalidData`].
//!
//! The checked type is a `#[repr(transparent)]` wrapper of the parameters made by
//! [`ref_cast`], so `check_ref` can hand out a reference to it without copying, and it derefs
//! to the parameters for reading. It can only be made by checking.
//!
//! One error type, [`ModelError`], serves every family: their failures are the same three
//! kinds (a parameter out of range, data that cannot be fitted, and linfa's own errors), and
//! one enum lets a caller match on them in the same way for any model.

pub mod bayes;
pub mod boost;
#[cfg(feature = "linalg")]
pub mod cnn;
pub mod forest;
#[cfg(feature = "linalg")]
pub mod knn;
pub mod logistic;
pub mod nnet;
#[cfg(feature = "linalg")]
pub mod svm;

use ndarray::{Array2, ArrayView1, ArrayView2};
use thiserror::Error;

use crate::preprocess::Standardizer;

/// Why a model could not be fitted.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A hyperparameter is out of range.
    #[error("invalid parameter {param}: {reason}")]
    InvalidParams {
        /// The parameter, as its field is named (`k`, `decay`, `mtry`, …).
        param: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// The training data cannot be fitted (shapes, labels, no rows).
    #[error("invalid training data: {0}")]
    InvalidData(String),
    /// An error of linfa's, from a dataset or a linfa algorithm.
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

/// Hyperparameters that can be fitted to training rows: the fast path behind
/// [`linfa::traits::Fit`], without a dataset.
pub trait Fit {
    /// The fitted model.
    type Model: Classifier;

    /// Fits on `x` (`n × d`) with labels `y`, one per row: classes `0..n_classes` for any
    /// number of classes from 2 to 256 ([`n_classes`]).
    fn fit(&self, x: ArrayView2<'_, f64>, y: &[u8]) -> Result<Self::Model, ModelError>;
}

/// A fitted classifier of the classes it was trained on.
pub trait Classifier: Send + Sync {
    /// The predicted label of each row of `x`.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Vec<u8>;

    /// Class probabilities (`n × n_classes`), for models that have them.
    fn predict_proba(&self, _x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        None
    }
}

/// Any model fitted on inputs centred and scaled with its training rows' statistics, as caret's
/// `preProcess = c("center", "scale")` does; the same scaling is applied before predicting.
///
/// The SVM ([`SvmParams`][svm]) and the logistic regression ([`logistic::LogisticParams`])
/// already standardise their inputs themselves, as kernlab and caret do: wrapped in `Scaled`
/// they scale twice. The second pass is the identity up to rounding (the columns already have
/// mean 0 and standard deviation 1), so the results agree to the last few bits, but it costs a
/// pass over the data and can move a tie; use `Scaled` for kNN, the forest and the others.
///
#[cfg_attr(feature = "linalg", doc = "[svm]: svm::SvmParams")]
#[cfg_attr(not(feature = "linalg"), doc = "[svm]: crate#cargo-features")]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scaled<P>(pub P);

/// A model fitted by [`Scaled`].
#[derive(Debug, Clone)]
pub struct ScaledModel<M> {
    scaler: Standardizer,
    model: M,
}

impl<P: Fit> Fit for Scaled<P> {
    type Model = ScaledModel<P::Model>;

    fn fit(&self, x: ArrayView2<'_, f64>, y: &[u8]) -> Result<Self::Model, ModelError> {
        // The scaler needs a row to learn from: no rows is the model's error, not a panic.
        check_training(x, y)?;
        let scaler = Standardizer::fit(x);
        let model = self.0.fit(scaler.transform(x).view(), y)?;
        Ok(ScaledModel { scaler, model })
    }
}

impl<M: Classifier> Classifier for ScaledModel<M> {
    fn predict(&self, x: ArrayView2<'_, f64>) -> Vec<u8> {
        self.model.predict(self.scaler.transform(x).view())
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.model.predict_proba(self.scaler.transform(x).view())
    }
}

/// Row-wise softmax of class scores, in place, stably.
pub(crate) fn softmax_rows(z: &mut Array2<f64>) {
    for mut row in z.rows_mut() {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        row.mapv_inplace(|v| (v - m).exp());
        let sum = row.sum();
        row /= sum;
    }
}

/// `start` plus the summed cross-entropy of `logits` against labels `y` (added row by row, so
/// a penalty passed as `start` sums in the same order wherever it is used); `logits` becomes
/// the gradient, the probabilities minus the one-hot labels.
pub(crate) fn cross_entropy(logits: &mut Array2<f64>, y: &[u8], start: f64) -> f64 {
    let mut loss = start;
    for (row, &label) in logits.rows().into_iter().zip(y) {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        loss += lse - row[usize::from(label)];
    }
    softmax_rows(logits);
    for (mut row, &label) in logits.rows_mut().into_iter().zip(y) {
        row[usize::from(label)] -= 1.0;
    }
    loss
}

/// The position of the largest of `scores` (the first on ties, 0 when there are none): the
/// predicted class from class scores or probabilities.
pub(crate) fn argmax<T: PartialOrd>(scores: impl IntoIterator<Item = T>) -> usize {
    let mut best: Option<(usize, T)> = None;
    for (i, v) in scores.into_iter().enumerate() {
        if best.as_ref().is_none_or(|(_, b)| v > *b) {
            best = Some((i, v));
        }
    }
    best.map_or(0, |(i, _)| i)
}

/// [`argmax`] of each row.
pub(crate) fn argmax_rows(scores: ArrayView2<'_, f64>) -> Vec<u8> {
    scores
        .rows()
        .into_iter()
        .map(|r| argmax(r.iter()) as u8)
        .collect()
}

/// `Ok` when `ok`, else [`ModelError::InvalidParams`] naming `param` and saying why.
pub(crate) fn require(
    ok: bool,
    param: &'static str,
    reason: impl FnOnce() -> String,
) -> Result<(), ModelError> {
    if ok {
        Ok(())
    } else {
        Err(ModelError::InvalidParams {
            param,
            reason: reason(),
        })
    }
}

/// `labels` as the `u8` labels the models use inside: an error naming the first label above
/// 255, as models of at most 256 classes cannot learn it.
pub fn labels_u8(labels: ArrayView1<'_, usize>) -> Result<Vec<u8>, ModelError> {
    labels
        .iter()
        .enumerate()
        .map(|(row, &label)| {
            u8::try_from(label).map_err(|_| {
                ModelError::InvalidData(format!(
                    "label {label} of row {row}: labels are 0..n_classes for at most 256 classes"
                ))
            })
        })
        .collect()
}

/// Gives a family's parameters linfa's face: declares `$valid`, the checked form of
/// `$params` (whose `validate` method does the checking), implements [`linfa::ParamGuard`]
/// for `$params`, [`linfa::traits::Fit`] for `$valid` through the family's [`Fit`], and
/// [`linfa::traits::PredictInplace`] for the fitted `$model` through its [`Classifier`].
macro_rules! linfa_estimator {
    ($params:ident => $valid:ident, $model:ty) => {
        #[doc = concat!(
            "[`", stringify!($params), "`] that passed their checks: made by ",
            "[`linfa::ParamGuard::check`] (or `check_ref`), fitted by [`linfa::traits::Fit`]."
        )]
        #[derive(Debug, Clone, Copy, PartialEq, ref_cast::RefCast)]
        #[repr(transparent)]
        pub struct $valid($params);

        impl std::ops::Deref for $valid {
            type Target = $params;

            fn deref(&self) -> &$params {
                &self.0
            }
        }

        impl linfa::ParamGuard for $params {
            type Checked = $valid;
            type Error = $crate::models::ModelError;

            fn check_ref(&self) -> Result<&$valid, $crate::models::ModelError> {
                self.validate()?;
                Ok(<$valid as ref_cast::RefCast>::ref_cast(self))
            }

            fn check(self) -> Result<$valid, $crate::models::ModelError> {
                self.validate()?;
                Ok($valid(self))
            }
        }

        impl<D, T> linfa::traits::Fit<ndarray::ArrayBase<D, ndarray::Ix2>, T, $crate::models::ModelError>
            for $valid
        where
            D: ndarray::Data<Elem = f64>,
            T: linfa::dataset::AsSingleTargets<Elem = usize>,
        {
            type Object = $model;

            fn fit(
                &self,
                dataset: &linfa::DatasetBase<ndarray::ArrayBase<D, ndarray::Ix2>, T>,
            ) -> Result<$model, $crate::models::ModelError> {
                let labels = $crate::models::labels_u8(
                    linfa::dataset::AsSingleTargets::as_single_targets(dataset.targets()),
                )?;
                $crate::models::Fit::fit(&self.0, dataset.records().view(), &labels)
            }
        }

        impl<D> linfa::traits::PredictInplace<ndarray::ArrayBase<D, ndarray::Ix2>, ndarray::Array1<usize>>
            for $model
        where
            D: ndarray::Data<Elem = f64>,
        {
            fn predict_inplace(
                &self,
                x: &ndarray::ArrayBase<D, ndarray::Ix2>,
                y: &mut ndarray::Array1<usize>,
            ) {
                assert_eq!(x.nrows(), y.len(), "one target per row of records");
                let predicted = $crate::models::Classifier::predict(self, x.view());
                for (target, label) in y.iter_mut().zip(predicted) {
                    *target = usize::from(label);
                }
            }

            fn default_target(&self, x: &ndarray::ArrayBase<D, ndarray::Ix2>) -> ndarray::Array1<usize> {
                ndarray::Array1::zeros(x.nrows())
            }
        }
    };
}
pub(crate) use linfa_estimator;

/// The number of classes labels `y` imply: one more than the largest label. Labels are
/// `0..n_classes`, for any number of classes from 2 to 256; a class between may be absent.
pub fn n_classes(y: &[u8]) -> usize {
    y.iter().map(|&l| usize::from(l) + 1).max().unwrap_or(0)
}

/// Checks that `rows` training rows come with one label each, of at least two classes.
pub(crate) fn check_labels(rows: usize, y: &[u8]) -> Result<(), ModelError> {
    if rows == 0 {
        return Err(ModelError::InvalidData("no training rows".into()));
    }
    if rows != y.len() {
        return Err(ModelError::InvalidData(format!(
            "{rows} rows but {} labels",
            y.len()
        )));
    }
    if y.iter().all(|&l| l == y[0]) {
        return Err(ModelError::InvalidData(format!(
            "every training row has label {}: a classifier needs at least two classes",
            y[0]
        )));
    }
    Ok(())
}

/// Checks what every model needs of its training data.
pub(crate) fn check_training(x: ArrayView2<'_, f64>, y: &[u8]) -> Result<(), ModelError> {
    check_labels(x.nrows(), y)?;
    if x.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::InvalidData("non-finite values".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn argmax_takes_the_first_of_equal_largest() {
        assert_eq!(argmax([0.1f32, 0.7, 0.2, 0.7].iter()), 1);
        assert_eq!(argmax([3.0f64, f64::NEG_INFINITY]), 0);
        assert_eq!(argmax(Vec::<f64>::new()), 0);
        assert_eq!(
            argmax_rows(array![[0.0, 2.0, 2.0], [5.0, 1.0, 5.0]].view()),
            vec![1, 0]
        );
    }

    #[test]
    #[cfg(feature = "linalg")] // kNN
    fn scaled_on_no_rows_is_an_error_not_a_panic() {
        let empty = Array2::<f64>::zeros((0, 3));
        let err = Scaled(knn::KnnParams { k: 1 })
            .fit(empty.view(), &[])
            .unwrap_err();
        assert!(matches!(err, ModelError::InvalidData(_)), "{err}");
    }

    #[test]
    #[cfg(feature = "linalg")] // kNN
    fn an_invalid_parameter_is_named() {
        let x = array![[0.0], [1.0]];
        let err = knn::KnnParams { k: 3 }.fit(x.view(), &[0, 1]).unwrap_err();
        match err {
            ModelError::InvalidParams { param, ref reason } => {
                assert_eq!(param, "k");
                assert!(reason.contains("2 training rows"), "{reason}");
            }
            other => panic!("expected InvalidParams, got {other}"),
        }
        assert_eq!(
            err.to_string(),
            "invalid parameter k: must be between 1 and the 2 training rows, got 3"
        );
    }

    #[test]
    #[cfg(feature = "linalg")] // kNN
    fn scaling_lets_a_small_feature_count() {
        // Column 0 decides the class but is tiny next to the noise of column 1.
        let x = array![[0.0, 500.0], [0.01, -400.0], [1.0, 450.0], [1.01, -350.0]];
        let y = [2, 2, 5, 5];
        let query = array![[0.02, 300.0], [0.99, -300.0]];
        let raw = knn::KnnParams { k: 1 }.fit(x.view(), &y).unwrap();
        assert_eq!(
            raw.predict(query.view()),
            [5, 5],
            "unscaled, the noise decides"
        );
        let scaled = Scaled(knn::KnnParams { k: 1 }).fit(x.view(), &y).unwrap();
        assert_eq!(scaled.predict(query.view()), [2, 5]);
    }
}
