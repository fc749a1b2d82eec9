//! Figures 9 and 10: kNN's cross-validated accuracy against k.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::paint::{self, FONT};
use super::{DrawResult, Figure};
use crate::study::knn::{KnnArm, KnnStudy};

/// Mean cross-validated accuracy for each k, with ±1 standard deviation over the folds, and
/// the chosen k marked.
#[derive(Debug, Clone)]
pub struct KnnTuning {
    stem: &'static str,
    features: String,
    protocol: String,
    points: Vec<(usize, f64, f64)>,
    chosen: usize,
}

impl KnnTuning {
    /// Figure 9 (raw pixels) from a finished study.
    pub fn raw(study: &KnnStudy) -> KnnTuning {
        Self::of(
            study,
            &study.raw,
            "fig09_knn_k_raw",
            format!(
                "{} pixels kept of 784, centred and scaled",
                study.raw.columns
            ),
        )
    }

    /// Figure 10 (PCA scores) from a finished study.
    pub fn pca(study: &KnnStudy) -> KnnTuning {
        Self::of(
            study,
            &study.pca,
            "fig10_knn_k_pca",
            format!("scores on {} principal components", study.pca.columns),
        )
    }

    fn of(study: &KnnStudy, arm: &KnnArm, stem: &'static str, features: String) -> KnnTuning {
        let p = &study.params;
        KnnTuning {
            stem,
            features,
            protocol: format!(
                "{}-fold cross-validation repeated {} times on the first {} training images (seed {})",
                p.folds,
                p.repeats,
                paint::thousands(p.train_rows),
                p.seed
            ),
            points: arm.cv.points.iter().map(|g| (g.params, g.mean(), g.sd())).collect(),
            chosen: arm.k(),
        }
    }
}

impl Figure for KnnTuning {
    fn stem(&self) -> String {
        self.stem.into()
    }

    fn size(&self) -> (u32, u32) {
        (860, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            &format!("kNN accuracy against k: {}", self.features),
            &self.protocol,
        )?;
        let body = root.margin(70, 10, 10, 10);
        let k_max = self.points.iter().map(|p| p.0).max().unwrap_or(1) as f64;
        let lo = self
            .points
            .iter()
            .map(|p| p.1 - p.2)
            .fold(f64::MAX, f64::min);
        let hi = self
            .points
            .iter()
            .map(|p| p.1 + p.2)
            .fold(f64::MIN, f64::max);
        let pad = 0.15 * (hi - lo).max(1e-3);
        let mut chart = ChartBuilder::on(&body)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..k_max + 1.0, (lo - pad)..(hi + pad))?;
        paint::axes(
            &mut chart,
            "k (neighbours that vote)",
            "mean accuracy over the folds",
        )?;
        let color = RGBColor(31, 119, 180);
        chart.draw_series(self.points.iter().map(|&(k, m, sd)| {
            ErrorBar::new_vertical(k as f64, m - sd, m, m + sd, color.stroke_width(1), 10)
        }))?;
        chart.draw_series(LineSeries::new(
            self.points.iter().map(|&(k, m, _)| (k as f64, m)),
            color.stroke_width(2),
        ))?;
        chart.draw_series(
            self.points
                .iter()
                .map(|&(k, m, _)| Circle::new((k as f64, m), 4, color.filled())),
        )?;
        if let Some(&(k, m, _)) = self.points.iter().find(|p| p.0 == self.chosen) {
            chart.draw_series(std::iter::once(Circle::new(
                (k as f64, m),
                8,
                RED.stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("chosen: k = {k}, {:.2}%", m * 100.0),
                (k as f64, m + pad * 0.5),
                (FONT, 14)
                    .into_font()
                    .color(&RED)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
        chart.draw_series(std::iter::once(Text::new(
            "bars: ±1 standard deviation over the folds".to_string(),
            (0.3, lo - pad * 0.6),
            (FONT, 13)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::{to_png, to_svg};
    use crate::study::knn::tests::toy_study;

    #[test]
    fn tuning_curves_render_for_both_feature_sets() {
        let study = toy_study();
        for fig in [KnnTuning::raw(&study), KnnTuning::pca(&study)] {
            assert_eq!(&to_png(&fig).unwrap()[1..4], b"PNG");
            let svg = to_svg(&fig).unwrap();
            assert!(svg.contains("chosen: k ="), "{}", fig.stem());
            assert!(svg.contains("2-fold cross-validation repeated 1 times"));
        }
    }
}
