//! Figures 9 and 10: kNN's cross-validated accuracy against k.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::paint::{self, FONT};
use super::{DrawResult, Figure};
use crate::study::knn::{KnnArm, KnnStudy};

/// Mean cross-validated accuracy (in percent) for each k tried, with ±1 standard deviation
/// over the folds and the chosen k marked; the other feature set's curve in grey, on the same
/// y-range in both figures, so that the comparison the study draws (PCA scores above raw
/// pixels at every k) shows.
#[derive(Debug, Clone)]
pub struct KnnTuning {
    stem: &'static str,
    features: String,
    protocol: String,
    /// k, mean accuracy and its standard deviation, in percent.
    points: Vec<(usize, f64, f64)>,
    chosen: usize,
    /// The other feature set's name and its (k, mean) in percent.
    other: (String, Vec<(usize, f64)>),
    /// The y-range shared by both figures, in percent.
    y_range: (f64, f64),
}

impl KnnTuning {
    /// Figure 9 (raw pixels) from a finished study.
    pub fn raw(study: &KnnStudy) -> KnnTuning {
        Self::of(
            study,
            (&study.raw, &study.pca),
            "fig09_knn_k_raw",
            format!(
                "{} pixels kept of 784, centred and scaled",
                study.raw.columns
            ),
            "PCA scores (Figure 10)",
        )
    }

    /// Figure 10 (PCA scores) from a finished study.
    pub fn pca(study: &KnnStudy) -> KnnTuning {
        Self::of(
            study,
            (&study.pca, &study.raw),
            "fig10_knn_k_pca",
            format!("scores on {} principal components", study.pca.columns),
            "raw pixels (Figure 9)",
        )
    }

    fn of(
        study: &KnnStudy,
        (arm, other): (&KnnArm, &KnnArm),
        stem: &'static str,
        features: String,
        other_name: &str,
    ) -> KnnTuning {
        let p = &study.params;
        let curve = |a: &KnnArm| -> Vec<(usize, f64, f64)> {
            a.cv.points
                .iter()
                .map(|g| (g.params, 100.0 * g.mean(), 100.0 * g.sd()))
                .collect()
        };
        let both: Vec<_> = curve(&study.raw)
            .into_iter()
            .chain(curve(&study.pca))
            .collect();
        let lo = both.iter().map(|p| p.1 - p.2).fold(f64::MAX, f64::min);
        let hi = both.iter().map(|p| p.1 + p.2).fold(f64::MIN, f64::max);
        let pad = 0.12 * (hi - lo).max(0.1);
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
            points: curve(arm),
            chosen: arm.k(),
            other: (
                other_name.to_string(),
                curve(other).into_iter().map(|(k, m, _)| (k, m)).collect(),
            ),
            y_range: (lo - pad, hi + pad),
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
        let ks: Vec<f64> = self.points.iter().map(|p| p.0 as f64).collect();
        let k_max = ks.iter().copied().fold(1.0, f64::max);
        let (lo, hi) = self.y_range;
        let mut chart = ChartBuilder::on(&body)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..k_max + 1.0, lo..hi)?;
        chart
            .configure_mesh()
            .x_labels(0)
            .x_desc("k (neighbours that vote), the values tried")
            .y_desc("accuracy over the folds (%)")
            .y_label_formatter(&|v| format!("{v:.1}"))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(TRANSPARENT)
            .draw()?;
        // Ticks and grid lines at the values of k tried, and nowhere else.
        let base = body.get_base_pixel();
        for &k in &ks {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(k, lo), (k, hi)],
                RGBColor(225, 225, 225),
            )))?;
            let (px, py) = chart.backend_coord(&(k, lo));
            paint::text(
                &body,
                &format!("{k:.0}"),
                (px - base.0, py - base.1 + 6),
                13.0,
                false,
                (HPos::Center, VPos::Top),
            )?;
        }
        let grey = RGBColor(160, 160, 160);
        chart
            .draw_series(LineSeries::new(
                self.other.1.iter().map(|&(k, m)| (k as f64, m)),
                grey.stroke_width(2),
            ))?
            .label(format!("{}, mean", self.other.0))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(2))
            });
        let color = RGBColor(31, 119, 180);
        chart.draw_series(self.points.iter().map(|&(k, m, sd)| {
            ErrorBar::new_vertical(k as f64, m - sd, m, m + sd, color.stroke_width(1), 10)
        }))?;
        chart
            .draw_series(LineSeries::new(
                self.points.iter().map(|&(k, m, _)| (k as f64, m)),
                color.stroke_width(2),
            ))?
            .label("this figure: mean, and ±1 standard deviation over the folds")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
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
            let (px, py) = chart.backend_coord(&(k as f64, m));
            let base = body.get_base_pixel();
            paint::label_on_white(
                &body,
                &format!("chosen: k = {k}, {m:.2}%"),
                (px - base.0 + 12, py - base.1 - 18),
                14.0,
                false,
            )?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(200, 200, 200))
            .draw()?;
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
            assert!(svg.contains("accuracy over the folds (%)"));
            for g in &study.raw.cv.points {
                assert!(
                    svg.contains(&format!(">{}<", g.params)),
                    "a tick at k = {}",
                    g.params
                );
            }
        }
        let (raw, pca) = (KnnTuning::raw(&study), KnnTuning::pca(&study));
        assert_eq!(raw.y_range, pca.y_range, "one y-range for both figures");
        assert_eq!(raw.other.1.len(), study.pca.cv.points.len());
    }
}
