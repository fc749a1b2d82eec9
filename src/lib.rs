//! # fmnist
//!
//! A Rust reproduction of "Machine Learning Methods for Modeling and Classification of Fashion
//! MNIST" (Blumenstiel, Cooper, Welk and Yi, 2021), and a fast, honest classical-ML baseline on
//! Fashion-MNIST.
//!
//! - [`data`]: the dataset, found on disk or downloaded, verified against the published content
//!   digests, with class names and seeded stratified samples.
//! - [`explore`]: the per-pixel statistics behind the study's first figures.
//! - [`figures`]: one function per figure of the study, rendered to PNG and SVG, and shown
//!   inline in the evcxr Jupyter kernel.
//!
//! ```no_run
//! use fmnist::{data::FashionMnist, explore, figures};
//!
//! let data = FashionMnist::load()?;
//! let fig = figures::PixelMeanSd::new(&explore::PixelStats::of(data.train.images()));
//! figures::save(&fig, "figures".as_ref(), &[figures::Format::Png])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod data;
pub mod eval;
pub mod explore;
pub mod features;
pub mod figures;
pub mod fs;
mod linalg;
pub mod models;
mod optim;
pub mod pca;
pub mod preprocess;
pub mod progress;
pub mod report;
pub mod study;

pub use study::{Study, StudyError};
