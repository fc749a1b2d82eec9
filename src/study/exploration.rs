//! Section 1 of the study: the data, seen before any model (Figures 1–3).
//!
//! Exemplars of each class drawn with the seed, the per-pixel mean and standard deviation of all
//! 60,000 training images, and each class's mean image and pixel-use counts (the latter on a
//! seeded 10% sample, as the study's Figure 3).

use crate::explore::PixelStats;
use crate::figures::{ClassHeatmaps, Exemplars, PixelMeanSd};
use crate::study::{require_at_least, FigureFile, Section, Study, StudyError};

/// Settings of section 1; the default is the study's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplorationParams {
    /// Exemplar images per class in Figure 1.
    pub exemplars: usize,
    /// Images sampled per class for the pixel-use counts of Figure 3 (the study: 600).
    pub sample_per_class: usize,
    /// Seed of both draws.
    pub seed: u64,
}

impl Default for ExplorationParams {
    fn default() -> Self {
        ExplorationParams {
            exemplars: 8,
            sample_per_class: 600,
            seed: 42,
        }
    }
}

/// Section 1's figures.
#[derive(Debug, Clone)]
pub struct Exploration {
    /// The settings it ran with.
    pub params: ExplorationParams,
    /// Figure 1.
    pub exemplars: Exemplars,
    /// Figure 2.
    pub pixel_mean_sd: PixelMeanSd,
    /// Figure 3, each class's mean grey level per pixel.
    pub class_means: ClassHeatmaps,
    /// Figure 3 as published: in how many sampled images of each class each pixel is inked.
    pub class_nonwhite: ClassHeatmaps,
}

impl Section for Exploration {
    type Params = ExplorationParams;
    const TITLE: &'static str = "Section 1: Figures 1-3";
    const FIGURES: &'static [u8] = &[1, 2, 3];

    fn default_params(study: &Study) -> ExplorationParams {
        ExplorationParams {
            seed: study.seed(),
            ..ExplorationParams::default()
        }
    }

    fn params(&self) -> &ExplorationParams {
        &self.params
    }

    fn check(_: &Study, p: &ExplorationParams) -> Result<(), StudyError> {
        require_at_least("exemplars", p.exemplars, 1)?;
        require_at_least("sample_per_class", p.sample_per_class, 1)
    }

    fn run(study: &mut Study, params: &ExplorationParams) -> Result<Self, StudyError> {
        let train = &study.data().train;
        Ok(Exploration {
            params: params.clone(),
            exemplars: Exemplars::new(train, params.exemplars, params.seed)?,
            pixel_mean_sd: PixelMeanSd::new(&PixelStats::of(train.images())),
            class_means: ClassHeatmaps::mean_intensity(train),
            class_nonwhite: ClassHeatmaps::nonwhite_counts(
                train,
                params.sample_per_class,
                params.seed,
            )?,
        })
    }

    fn figures(&self) -> Vec<FigureFile<'_>> {
        vec![
            FigureFile::new(1, Some("Figure 1: exemplars"), self.exemplars.clone()),
            FigureFile::new(
                2,
                Some("Figure 2: per-pixel mean and standard deviation"),
                self.pixel_mean_sd.clone(),
            ),
            FigureFile::new(
                3,
                Some("Figure 3: mean intensity by class"),
                self.class_means.clone(),
            ),
            FigureFile::new(
                3,
                Some("Figure 3 (as published): non-white counts by class"),
                self.class_nonwhite.clone(),
            ),
        ]
    }
}
