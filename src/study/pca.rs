//! Section 3.1 of the study: the PCA of all 60,000 training images (Figures 5–8).
//!
//! The PCA itself ([`crate::pca::Pca`], exact, all 784 components) is fitted once per
//! [`Study`] and shared with sections 3.2 and 3.3 and the CNN's baseline; this section draws it:
//! the scree plot with the share of variance to keep, chosen components as images, every
//! training image on PC1 and PC2, and reconstructions.

use std::sync::Arc;

use crate::data::PIXELS;
use crate::figures::{
    ByFormat, PcaComponents, PcaProjection, PcaScree, ReconstructionLadder, Reconstructions,
};
use crate::pca::Pca;
use crate::study::{
    require_at_least, require_each, require_rows, require_share, FigureFile, Section, Study,
    StudyError,
};

/// Settings of section 3.1; the default is the study's.
#[derive(Debug, Clone, PartialEq)]
pub struct PcaStudyParams {
    /// Share of variance marked on the scree plot (the study: 95%).
    pub variance: f64,
    /// Components drawn as images in Figure 6 (1-based).
    pub shown: Vec<usize>,
    /// Components used for the reconstructions of Figure 8 (the study: 187, 95% of the
    /// variance).
    pub components: usize,
    /// Figure 7's SVG draws every this-many-th point (the PNG draws all).
    pub svg_thinning: usize,
    /// Seed of Figure 7's drawing order.
    pub seed: u64,
    /// Component counts of Figure 17's reconstructions, beyond the study.
    pub ladder: Vec<usize>,
}

impl Default for PcaStudyParams {
    fn default() -> Self {
        PcaStudyParams {
            variance: 0.95,
            shown: vec![1, 2, 3, 4, 392, 784],
            components: 187,
            svg_thinning: 12,
            seed: 42,
            ladder: vec![10, 50, 187, 784],
        }
    }
}

/// Section 3.1: the fitted PCA and its figures.
#[derive(Debug, Clone)]
pub struct PcaStudy {
    /// The settings it ran with.
    pub params: PcaStudyParams,
    /// The PCA of all training images (the one every later section uses).
    pub pca: Arc<Pca>,
    /// Figure 7, every training image on PC1 and PC2.
    pub projection: PcaProjection,
    /// Figure 8.
    pub reconstructions: Reconstructions,
    /// Figure 17 (beyond the study): reconstructions from several numbers of components.
    pub ladder: ReconstructionLadder,
}

impl PcaStudy {
    /// Figure 5.
    pub fn scree(&self) -> PcaScree {
        PcaScree::new(&self.pca, self.params.variance)
    }

    /// Figure 6.
    pub fn components(&self) -> PcaComponents {
        PcaComponents::new(&self.pca, &self.params.shown)
    }

    /// Figure 7 as written: every point in the PNG, every `svg_thinning`-th in the SVG.
    pub fn projection_files(&self) -> ByFormat<PcaProjection> {
        ByFormat {
            png: self.projection.clone(),
            svg: self.projection.thinned(self.params.svg_thinning),
        }
    }
}

impl Section for PcaStudy {
    type Params = PcaStudyParams;
    const TITLE: &'static str = "Section 3.1: PCA and Figures 5-8, 17";
    const FIGURES: &'static [u8] = &[5, 6, 7, 8, 17];

    fn default_params(study: &Study) -> PcaStudyParams {
        PcaStudyParams {
            seed: study.seed(),
            ..PcaStudyParams::default()
        }
    }

    fn params(&self) -> &PcaStudyParams {
        &self.params
    }

    fn check(_: &Study, p: &PcaStudyParams) -> Result<(), StudyError> {
        require_share("variance", p.variance)?;
        require_each(
            "shown",
            &p.shown,
            &format!("between 1 and {PIXELS}"),
            |&c| (1..=PIXELS).contains(&c),
        )?;
        require_rows("components", p.components, 1, PIXELS, "components")?;
        require_each(
            "ladder",
            &p.ladder,
            &format!("between 1 and {PIXELS}"),
            |&c| (1..=PIXELS).contains(&c),
        )?;
        require_at_least("svg_thinning", p.svg_thinning, 1)
    }

    fn run(study: &mut Study, params: &PcaStudyParams) -> Result<Self, StudyError> {
        let pca = study.pca()?;
        let train = &study.data().train;
        Ok(PcaStudy {
            params: params.clone(),
            projection: PcaProjection::new(&pca, train, params.seed)?,
            reconstructions: Reconstructions::new(&pca, train, params.components)?,
            ladder: ReconstructionLadder::new(&pca, train, &params.ladder)?,
            pca,
        })
    }

    fn figures(&self) -> Vec<FigureFile<'_>> {
        vec![
            FigureFile::new(5, Some("Figure 5: scree plot"), self.scree()),
            FigureFile::new(
                6,
                Some("Figure 6: principal components as images"),
                self.components(),
            ),
            FigureFile::new(
                7,
                Some("Figure 7: the training images on PC1 and PC2"),
                self.projection_files(),
            ),
            FigureFile::new(
                8,
                Some("Figure 8: reconstructions from 187 components"),
                self.reconstructions.clone(),
            ),
            FigureFile::new(
                17,
                Some("Figure 17 (beyond the study): reconstructions from 10 to 784 components"),
                self.ladder.clone(),
            ),
        ]
    }
}
