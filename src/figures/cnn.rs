//! Figure 13 (beyond the study): the convolutional network's learning curve beside the best
//! classical model; Figure 14: both models' confusion matrices.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::paint::{self, FONT};
use super::{ConfusionHeatmaps, DrawResult, Figure};
use crate::report::thousands;
use crate::study::cnn::CnnStudy;

/// Accuracy per epoch on the training mini-batches and on the test images, with the best
/// classical model's test accuracy as a reference line.
#[derive(Debug, Clone)]
pub struct CnnLearningCurve {
    subtitle: String,
    /// (epoch, accuracy on the training mini-batches, test accuracy)
    points: Vec<(usize, f64, Option<f64>)>,
    final_test: f64,
    baseline: (String, f64),
}

impl CnnLearningCurve {
    /// Figure 13 from a finished study.
    pub fn new(study: &CnnStudy) -> CnnLearningCurve {
        let p = study.trained.net.params();
        let norm = if p.batch_norm { " with batch norm" } else { "" };
        let augment = p.augmentation_text();
        CnnLearningCurve {
            subtitle: format!(
                "{} training images; conv {}{norm}, dense {}, dropout {}{augment}; Adam, batch {}, \
                 seed {}; trained in {:.0} s",
                thousands(study.trained.train_images),
                p.filters_text(),
                p.hidden,
                p.dropout,
                p.batch_size,
                p.seed,
                study.trained.train_seconds
            ),
            points: study
                .trained
                .history
                .iter()
                .map(|r| (r.epoch, r.train_accuracy, r.monitor_accuracy))
                .collect(),
            final_test: study.confusion.accuracy(),
            baseline: (
                study.baseline.name.clone(),
                study.baseline.confusion.accuracy(),
            ),
        }
    }
}

impl Figure for CnnLearningCurve {
    fn stem(&self) -> String {
        "fig13_cnn_learning_curve".into()
    }

    fn size(&self) -> (u32, u32) {
        (900, 580)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            "A convolutional network: accuracy after each epoch",
            &self.subtitle,
        )?;
        let body = root.margin(70, 10, 10, 10);
        let epochs = self.points.len().max(1) as f64;
        let values = self
            .points
            .iter()
            .flat_map(|&(_, a, b)| [Some(a), b])
            .flatten()
            .chain([self.baseline.1, self.final_test]);
        let lo = values.clone().fold(f64::MAX, f64::min);
        let hi = values.fold(f64::MIN, f64::max);
        let pad = 0.08 * (hi - lo).max(0.01);
        let mut chart = ChartBuilder::on(&body)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(0.5..epochs + 0.5, (lo - pad)..(hi + pad))?;
        chart
            .configure_mesh()
            .x_desc("epoch (one pass over the training images)")
            .y_desc("accuracy")
            .x_labels(self.points.len() + 2)
            .x_label_formatter(&|v| {
                if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| format!("{:.1}%", v * 100.0))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .bold_line_style(RGBColor(220, 220, 220))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()?;
        // The reference line, labelled at its right end, where the curves run well above it.
        let grey = RGBColor(110, 110, 110);
        let (x0, x1) = (0.5, epochs + 0.5);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x0, self.baseline.1), (x1, self.baseline.1)],
            grey.stroke_width(1),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!(
                "best classical model, {}: {:.2}%",
                self.baseline.0,
                self.baseline.1 * 100.0
            ),
            (x1 - 0.1, self.baseline.1),
            (FONT, 13)
                .into_font()
                .color(&grey)
                .pos(Pos::new(HPos::Right, VPos::Bottom)),
        )))?;
        let train = RGBColor(242, 142, 43);
        let test = RGBColor(31, 119, 180);
        let train_points: Vec<(f64, f64)> =
            self.points.iter().map(|&(e, a, _)| (e as f64, a)).collect();
        let test_points: Vec<(f64, f64)> = self
            .points
            .iter()
            .filter_map(|&(e, _, t)| t.map(|t| (e as f64, t)))
            .collect();
        for (points, color, label) in [
            (
                &train_points,
                train,
                "training mini-batches (dropout on, weights moving)",
            ),
            (
                &test_points,
                test,
                "test images (watched, never used to choose)",
            ),
        ] {
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
        }
        if let Some(&last) = test_points.last() {
            chart.draw_series(std::iter::once(Text::new(
                format!("{:.2}%", self.final_test * 100.0),
                (last.0, last.1 + pad * 0.3),
                (FONT, 14)
                    .into_font()
                    .color(&test)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(200, 200, 200))
            .draw()?;
        Ok(())
    }
}

impl ConfusionHeatmaps {
    /// Figure 14: the network's and the best classical model's confusion matrices.
    pub fn cnn(study: &CnnStudy) -> ConfusionHeatmaps {
        ConfusionHeatmaps::new(
            "fig14_confusion_cnn",
            &format!(
                "Confusion matrices on the test images, both trained on {} images",
                thousands(study.trained.train_images)
            ),
            vec![
                (study.name(), study.confusion.clone()),
                (
                    "Gradient boosting, PCA".to_string(),
                    study.baseline.confusion.clone(),
                ),
            ],
        )
    }
}
