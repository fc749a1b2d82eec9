//! Classifiers behind one interface, in the style of linfa: a parameter value implements
//! [`Fit`], and fitting it on training rows gives a model that implements [`Classifier`].
//!
//! ```
//! use fmnist::models::{knn::KnnParams, Classifier, Fit};
//! use ndarray::array;
//!
//! let x = array![[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]];
//! let model = KnnParams { k: 1 }.fit(x.view(), &[0, 0, 3, 3])?;
//! assert_eq!(model.predict(array![[4.9, 5.2]].view()), [3]);
//! # Ok::<(), fmnist::models::ModelError>(())
//! ```

pub mod bayes;
pub mod forest;
pub mod knn;
pub mod logistic;
pub mod svm;

use ndarray::{Array2, ArrayView2};
use thiserror::Error;

use crate::data::N_CLASSES;

/// Why a model could not be fitted.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The hyperparameters are out of range.
    #[error("invalid parameters: {0}")]
    InvalidParams(String),
    /// The training data cannot be fitted (shapes, labels, no rows).
    #[error("invalid training data: {0}")]
    InvalidData(String),
}

/// Hyperparameters that can be fitted to training rows.
pub trait Fit {
    /// The fitted model.
    type Model: Classifier;

    /// Fits on `x` (`n × d`) with labels `y` (0 to 9, one per row).
    fn fit(&self, x: ArrayView2<'_, f64>, y: &[u8]) -> Result<Self::Model, ModelError>;
}

/// A fitted classifier of the ten classes.
pub trait Classifier: Send + Sync {
    /// The predicted label of each row of `x`.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Vec<u8>;

    /// Class probabilities (`n × 10`), for models that have them.
    fn predict_proba(&self, _x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        None
    }
}

/// Checks what every model needs of its training data.
pub(crate) fn check_training(x: ArrayView2<'_, f64>, y: &[u8]) -> Result<(), ModelError> {
    if x.nrows() == 0 {
        return Err(ModelError::InvalidData("no training rows".into()));
    }
    if x.nrows() != y.len() {
        return Err(ModelError::InvalidData(format!(
            "{} rows but {} labels",
            x.nrows(),
            y.len()
        )));
    }
    if let Some(bad) = y.iter().find(|&&l| usize::from(l) >= N_CLASSES) {
        return Err(ModelError::InvalidData(format!(
            "label {bad} is not a class"
        )));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::InvalidData("non-finite values".into()));
    }
    Ok(())
}
