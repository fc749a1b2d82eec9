//! # fmnist
//!
//! A Rust reproduction of "Machine Learning Methods for Modeling and Classification of Fashion
//! MNIST" (Blumenstiel, Cooper, Welk and Yi, 2021), and a fast, honest classical-ML baseline on
//! Fashion-MNIST.
//!
//! - [`Study`]: the study as a library. It holds the data, the seed, quick mode and the output
//!   folders, runs each section ([`study`]) on first use and caches it by its parameters; the
//!   `fmnist` command line and the notebooks are two clients of it.
//! - [`data`]: the dataset, found on disk or downloaded, verified against the published content
//!   digests, with class names and seeded stratified samples.
//! - [`explore`], [`features`], [`pca`][pca-mod], [`preprocess`]: the per-pixel statistics, the 84
//!   engineered features, the PCA and the scaling the sections build on.
//! - [`models`] and [`eval`]: the classifiers behind one interface, cross-validation, grid
//!   search and metrics with exact intervals.
//! - [`figures`]: one type per figure of the study, rendered to PNG and SVG, and shown inline in
//!   the evcxr Jupyter kernel; [`report`]: tables as CSV, Markdown and HTML.
//! - [`progress`]: how long work reports how far it has got; [`fs`]: every output written whole
//!   or not at all; [`outputs`]: a run's outputs staged, committed together and recorded in a
//!   manifest.
//! - [`linfa`] (and, with the `polars` feature, [`polars`][polars-mod]) re-exported, so that a
//!   notebook names the very versions our models implement and our tables build.
//!
//! ```no_run
//! use fmnist::Study;
//!
//! let mut study = Study::load()?.with_seed(42);
//! let t1 = study.table1()?; // section 2: Table 1 on the study's protocol
//! println!("{}", t1.table().to_markdown());
//! study.write(&*t1)?; // results/table1.csv, .md, figures/fig04_*.png and .svg
//! # Ok::<(), fmnist::StudyError>(())
//! ```
//!
//! ## Cargo features
//!
//! - `linalg` (default): dense linear algebra through faer, and all that is built on it: the
//!   [PCA][pca-mod], the kNN, SVM and CNN models, and every section of the study after the
//!   first (Table 1 on, the full-data protocol, the leaderboard, reproducing the whole study).
//!   Without it the library keeps the data, the engineered features, section 1 (the
//!   exploration and its figures) and the models that need no linear algebra (forest,
//!   boosting, naive Bayes, logistic regression, the neural network). Notebook 01 builds it
//!   so: a new notebook kernel analyses every crate in the build before its first cell that
//!   declares a variable, and faer, the 41 crates it brings and safetensors are 43 of the 197.
//! - `download` (default): fetch the dataset over HTTPS when no copy is found on disk.
//! - `linfa-baselines` (default, and `linalg` with it): linfa's own algorithms fitted beside
//!   ours, `fmnist linfa`.
//! - `cli` (default): the `fmnist` command line.
//! - `polars`: results tables as polars DataFrames.
//!
// The re-exported module is there only with the feature; without it the link goes to polars' own
// documentation, so that the docs build (and warn about nothing) with any set of features.
#![cfg_attr(feature = "polars", doc = "[polars-mod]: mod@polars")]
#![cfg_attr(not(feature = "polars"), doc = "[polars-mod]: https://docs.rs/polars")]
// Likewise, without `linalg` the PCA's link goes to the list of features above.
#![cfg_attr(feature = "linalg", doc = "[pca-mod]: mod@pca")]
#![cfg_attr(not(feature = "linalg"), doc = "[pca-mod]: crate#cargo-features")]
#![warn(missing_docs)]

pub mod data;
pub mod eval;
pub mod explore;
pub mod features;
pub mod figures;
pub mod fs;
pub mod hog;
#[cfg(feature = "linalg")]
mod linalg;
pub mod models;
mod optim;
pub mod outputs;
#[cfg(feature = "linalg")]
pub mod pca;
pub mod preprocess;
pub mod progress;
pub mod report;
pub mod study;

pub use study::{Study, StudyError};

/// linfa, whose `Fit` and `Predict` our models implement: the same version for a caller's own
/// estimators (a `:dep linfa-trees` in a notebook resolves to it).
pub use linfa;
/// ndarray, whose arrays every model, figure and table takes: the same version for a
/// notebook's own code (`fmnist::ndarray::Array1<usize>`).
pub use ndarray;
/// polars, whose `DataFrame` [`report::Table::to_dataframe`] builds.
#[cfg(feature = "polars")]
pub use polars;
