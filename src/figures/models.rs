//! Figures of fitted classifiers: accuracy by class (Figure 4), models compared (Figure 11)
//! and confusion heat maps (Figure 12).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::paint::{self, Scale, FONT};
use super::{DrawResult, Figure};
use crate::data::{class_names, Class, N_CLASSES};
use crate::eval::ConfusionMatrix;
use crate::report::thousands;
#[cfg(feature = "linalg")]
use crate::study::pca_models::{PcaModels, PAPER};

const TOP: i32 = 80;

/// Figure 4: one model's precision on each class (the study's "Pos Pred Value": the share of
/// the test images it labels as the class that are of it) as horizontal bars sorted from best
/// to worst, as in the study, with the recall (the share of the class's test images it labels
/// correctly) beside each, and the overall accuracy as a vertical line.
#[derive(Debug, Clone)]
pub struct ClassAccuracy {
    stem: String,
    model: String,
    /// Class name, precision and recall, best precision first.
    bars: Vec<(String, f64, f64)>,
    overall: f64,
    n: u64,
}

impl ClassAccuracy {
    /// The figure of `model`'s confusion matrix, saved as `stem`.
    pub fn new(stem: &str, model: &str, cm: &ConfusionMatrix) -> ClassAccuracy {
        let mut bars: Vec<(String, f64, f64)> = class_names(cm.n_classes())
            .into_iter()
            .enumerate()
            .map(|(c, name)| {
                let m = cm.class_metrics(c);
                (name, m.precision, m.sensitivity)
            })
            .collect();
        // A class never predicted has no precision (NaN): it sorts last.
        let key = |p: f64| if p.is_nan() { -1.0 } else { p };
        bars.sort_by(|a, b| key(b.1).total_cmp(&key(a.1)));
        ClassAccuracy {
            stem: stem.to_string(),
            model: model.to_string(),
            bars,
            overall: cm.accuracy(),
            n: cm.total(),
        }
    }
}

/// Figure 4's colours: the study's measure strong, the other light.
const PRECISION_BLUE: RGBColor = RGBColor(49, 90, 140);
const RECALL_BLUE: RGBColor = RGBColor(150, 185, 220);

impl Figure for ClassAccuracy {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn size(&self) -> (u32, u32) {
        (960, (TOP + 64 + 46 * self.bars.len() as i32 + 60) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            &format!("{}: precision and recall by class", self.model),
            &format!(
                "sorted by precision (the study's \"Pos Pred Value\"); {} test images",
                thousands(self.n as usize)
            ),
        )?;
        let (x0, width) = (150, 700);
        let y0 = TOP + 64;
        let row = 46;
        let bottom = y0 + row * self.bars.len() as i32;
        let x_of = |v: f64| x0 + (v.clamp(0.0, 1.0) * f64::from(width)).round() as i32;
        // Legend: which bar is which.
        let legend = [
            (
                PRECISION_BLUE,
                "precision: share of the images labelled as the class that are of it",
            ),
            (
                RECALL_BLUE,
                "recall: share of the class's images labelled as it",
            ),
        ];
        for (i, (color, what)) in legend.into_iter().enumerate() {
            let y = TOP + 2 + 20 * i as i32;
            root.draw(&Rectangle::new(
                [(x0, y), (x0 + 14, y + 12)],
                color.filled(),
            ))?;
            paint::text(
                root,
                what,
                (x0 + 20, y + 6),
                13.0,
                false,
                (HPos::Left, VPos::Center),
            )?;
        }
        for tick in (0..=10).map(|t| f64::from(t) / 10.0) {
            let x = x_of(tick);
            root.draw(&PathElement::new(
                vec![(x, y0 - 4), (x, bottom)],
                RGBColor(225, 225, 225),
            ))?;
            paint::text(
                root,
                &format!("{:.0}%", tick * 100.0),
                (x, bottom + 6),
                13.0,
                false,
                (HPos::Center, VPos::Top),
            )?;
        }
        let value = |v: f64| {
            if v.is_nan() {
                "none predicted".to_string()
            } else {
                format!("{:.1}%", v * 100.0)
            }
        };
        for (i, (name, precision, recall)) in self.bars.iter().enumerate() {
            let y = y0 + row * i as i32;
            for (k, (v, color)) in [(*precision, PRECISION_BLUE), (*recall, RECALL_BLUE)]
                .into_iter()
                .enumerate()
            {
                let top = y + 5 + 18 * k as i32;
                let end = if v.is_nan() { x0 } else { x_of(v) };
                root.draw(&Rectangle::new(
                    [(x0, top), (end, top + 16)],
                    color.filled(),
                ))?;
                paint::text(
                    root,
                    &value(v),
                    (end + 6, top + 8),
                    12.0,
                    k == 0,
                    (HPos::Left, VPos::Center),
                )?;
            }
            paint::text(
                root,
                name,
                (x0 - 10, y + 22),
                15.0,
                true,
                (HPos::Right, VPos::Center),
            )?;
        }
        let x = x_of(self.overall);
        root.draw(&PathElement::new(
            vec![(x, y0 - 10), (x, bottom)],
            RED.stroke_width(2),
        ))?;
        paint::text(
            root,
            &format!("overall accuracy {:.1}%", self.overall * 100.0),
            (x + 6, y0 - 12),
            13.0,
            true,
            (HPos::Left, VPos::Center),
        )?;
        paint::text(
            root,
            "share of test images",
            (x0 + width / 2, bottom + 30),
            14.0,
            false,
            (HPos::Center, VPos::Top),
        )
    }
}

/// What the cells of a [`ConfusionHeatmaps`] panel show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cells {
    /// The number of test images.
    Counts,
    /// The share of the true class's test images, in percent: each row sums to 100%.
    RowPercent,
}

/// Confusion matrices as heat maps, one panel per matrix: rows are the true classes, columns
/// the predicted ones (the study's Figure 12 is transposed: true class along the bottom,
/// predicted class up the side), each cell shaded by its share of the row (the colour key) and
/// labelled with its count or that share.
#[derive(Debug, Clone)]
pub struct ConfusionHeatmaps {
    stem: String,
    title: String,
    /// Each panel's heading, matrix and what its cells show.
    panels: Vec<(String, ConfusionMatrix, Cells)>,
    columns: usize,
}

impl ConfusionHeatmaps {
    const CELL: i32 = 34;
    const LEFT: i32 = 124;
    const HEAD: i32 = 136;
    const BAR_ZONE: i32 = 120;

    /// Heat maps of `panels` (name, matrix) with counts in the cells, three a row, saved as
    /// `stem`.
    pub fn new(
        stem: &str,
        title: &str,
        panels: Vec<(String, ConfusionMatrix)>,
    ) -> ConfusionHeatmaps {
        ConfusionHeatmaps {
            stem: stem.to_string(),
            title: title.to_string(),
            panels: panels
                .into_iter()
                .map(|(name, cm)| {
                    let heading = format!("{name}: {:.1}%", cm.accuracy() * 100.0);
                    (heading, cm, Cells::Counts)
                })
                .collect(),
            columns: 3,
        }
    }

    /// One model's matrix twice, counts beside row percentages (each row sums to 100%).
    pub fn counts_and_shares(stem: &str, model: &str, cm: &ConfusionMatrix) -> ConfusionHeatmaps {
        ConfusionHeatmaps {
            stem: stem.to_string(),
            title: format!("{model}: confusion matrix, counts and shares of each true class"),
            panels: vec![
                (
                    format!("test images (accuracy {:.1}%)", cm.accuracy() * 100.0),
                    cm.clone(),
                    Cells::Counts,
                ),
                (
                    "% of the true class (each row sums to 100)".into(),
                    cm.clone(),
                    Cells::RowPercent,
                ),
            ],
            columns: 2,
        }
    }

    /// The same figure with `columns` panels a row (one a row stays readable in a notebook
    /// at page width).
    pub fn with_columns(mut self, columns: usize) -> ConfusionHeatmaps {
        self.columns = columns.max(1);
        self
    }

    /// Classes per panel: the most any panel has.
    fn classes(&self) -> usize {
        self.panels
            .iter()
            .map(|(_, cm, _)| cm.n_classes())
            .max()
            .unwrap_or(0)
    }

    fn tile(&self) -> (i32, i32) {
        let side = self.classes() as i32 * Self::CELL;
        (Self::LEFT + side + 30, Self::HEAD + side + 24)
    }

    fn cols(&self) -> usize {
        self.panels.len().clamp(1, self.columns)
    }
}

impl Figure for ConfusionHeatmaps {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn size(&self) -> (u32, u32) {
        let (tw, th) = self.tile();
        let rows = self.panels.len().div_ceil(self.cols()) as i32;
        (
            (20 + self.cols() as i32 * tw + Self::BAR_ZONE) as u32,
            (TOP + rows * th + 10) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            &self.title,
            "rows: true class; columns: predicted class (the study's Figure 12 is transposed); \
             shade: share of the row",
        )?;
        let (tw, th) = self.tile();
        let side = self.classes() as i32 * Self::CELL;
        let names = class_names(self.classes());
        for (p, (heading, cm, cells)) in self.panels.iter().enumerate() {
            let ox = 20 + (p % self.cols()) as i32 * tw;
            let oy = TOP + (p / self.cols()) as i32 * th;
            let (gx, gy) = (ox + Self::LEFT, oy + Self::HEAD);
            paint::text(
                root,
                heading,
                (gx + side / 2, oy + 6),
                16.0,
                true,
                (HPos::Center, VPos::Top),
            )?;
            paint::text(
                root,
                "predicted class",
                (gx + side / 2, oy + 30),
                13.0,
                true,
                (HPos::Center, VPos::Top),
            )?;
            let vertical = (FONT, 13, FontStyle::Bold)
                .into_font()
                .transform(FontTransform::Rotate270)
                .color(&BLACK)
                .pos(plotters::style::text_anchor::Pos::new(
                    HPos::Center,
                    VPos::Top,
                ));
            root.draw(&Text::new("true class", (ox, gy + side / 2), vertical))?;
            for (i, class) in names.iter().enumerate() {
                let c = i as i32 * Self::CELL + Self::CELL / 2;
                paint::text(
                    root,
                    class,
                    (gx - 6, gy + c),
                    12.0,
                    false,
                    (HPos::Right, VPos::Center),
                )?;
                let style = (FONT, 12)
                    .into_font()
                    .transform(FontTransform::Rotate270)
                    .color(&BLACK)
                    .pos(plotters::style::text_anchor::Pos::new(
                        HPos::Left,
                        VPos::Center,
                    ));
                root.draw(&Text::new(class.to_string(), (gx + c, gy - 6), style))?;
            }
            for (a, row) in cm.counts.iter().enumerate() {
                let total = row.iter().sum::<u64>().max(1) as f64;
                for (b, &count) in row.iter().enumerate() {
                    let share = count as f64 / total;
                    let (x, y) = (gx + b as i32 * Self::CELL, gy + a as i32 * Self::CELL);
                    root.draw(&Rectangle::new(
                        [(x, y), (x + Self::CELL, y + Self::CELL)],
                        Scale::Blues.color(share).filled(),
                    ))?;
                    // Halves round up (`{:.0}` would write 0.5% as "0").
                    let percent = (share * 100.0).round();
                    let label = match cells {
                        _ if count == 0 => continue,
                        Cells::Counts => count.to_string(),
                        Cells::RowPercent if percent == 0.0 => "<1".into(),
                        Cells::RowPercent => format!("{percent:.0}"),
                    };
                    let ink = if share > 0.5 { WHITE } else { BLACK };
                    let style = (FONT, 11).into_font().color(&ink).pos(
                        plotters::style::text_anchor::Pos::new(HPos::Center, VPos::Center),
                    );
                    root.draw(&Text::new(
                        label,
                        (x + Self::CELL / 2, y + Self::CELL / 2),
                        style,
                    ))?;
                }
            }
            root.draw(&Rectangle::new(
                [(gx, gy), (gx + side, gy + side)],
                RGBColor(150, 150, 150).stroke_width(1),
            ))?;
        }
        let bar_x = 20 + self.cols() as i32 * tw + 10;
        paint::colorbar(
            root,
            (bar_x, TOP + Self::HEAD),
            (18, side),
            (0.0, 100.0),
            Scale::Blues,
            "% of the row",
        )
    }
}

/// Bar colours of the models compared in one figure (colour-blind safe: Okabe–Ito).
const MODEL_COLORS: [RGBColor; 4] = [
    RGBColor(0, 114, 178),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
];

/// One model of a [`ModelComparison`].
#[derive(Debug, Clone, Copy)]
pub struct ComparedModel<'a> {
    /// The model's name, as the legend shows it.
    pub name: &'a str,
    /// Its test confusion matrix.
    pub confusion: &'a ConfusionMatrix,
    /// The study's test accuracy and kappa for it, where the study reports them.
    pub study: Option<(f64, f64)>,
}

/// The study's bars in [`ModelComparison`].
const STUDY_GREY: RGBColor = RGBColor(170, 170, 170);

/// One model in [`ModelComparison`].
#[derive(Debug, Clone)]
struct ModelBars {
    name: String,
    accuracy: f64,
    ci95: (f64, f64),
    kappa: f64,
    /// The study's accuracy and kappa, where it reports them.
    study: Option<(f64, f64)>,
    balanced: [f64; N_CLASSES],
    sensitivity: [f64; N_CLASSES],
}

/// Figure 11: several models' test accuracy (with its 95% interval) and kappa as labelled
/// bars, each beside the study's value in grey; below, each class's balanced accuracy and
/// sensitivity as bars grouped by class.
#[derive(Debug, Clone)]
pub struct ModelComparison {
    stem: String,
    title: String,
    subtitle: String,
    models: Vec<ModelBars>,
}

/// A rectangle of the canvas: left, top, width, height.
type Frame = (i32, i32, i32, i32);

impl ModelComparison {
    /// The figure of `models`, saved as `stem`. At most four models.
    pub fn new(
        stem: &str,
        title: &str,
        subtitle: &str,
        models: &[ComparedModel<'_>],
    ) -> ModelComparison {
        assert!(models.len() <= MODEL_COLORS.len(), "at most four models");
        let models = models
            .iter()
            .map(
                |&ComparedModel {
                     name,
                     confusion: cm,
                     study,
                 }| {
                    let per_class = |f: fn(&crate::eval::ClassMetrics) -> f64| {
                        std::array::from_fn(|c| f(&cm.class_metrics(c)))
                    };
                    ModelBars {
                        name: name.to_string(),
                        accuracy: cm.accuracy(),
                        ci95: cm.accuracy_ci95(),
                        kappa: cm.kappa(),
                        study,
                        balanced: per_class(|m| m.balanced_accuracy),
                        sensitivity: per_class(|m| m.sensitivity),
                    }
                },
            )
            .collect();
        ModelComparison {
            stem: stem.to_string(),
            title: title.to_string(),
            subtitle: subtitle.to_string(),
            models,
        }
    }

    /// A panel of vertical bars on a 0–1 axis: `groups` of (label, bars as (value, colour)),
    /// each bar labelled with `label(value)` when given, and 95% intervals drawn on the bars
    /// `ci` names by (group, bar).
    fn bar_panel<DB: DrawingBackend>(
        root: &DrawingArea<DB, Shift>,
        (x0, y0, w, h): Frame,
        heading: &str,
        groups: &[(String, Vec<(f64, RGBColor)>)],
        label: Option<&dyn Fn(f64) -> String>,
        ci: &[(usize, usize, (f64, f64))],
    ) -> DrawResult<DB> {
        paint::text(
            root,
            heading,
            (x0 + w / 2, y0),
            16.0,
            true,
            (HPos::Center, VPos::Top),
        )?;
        let (top, bottom) = (y0 + 28, y0 + h - 24);
        let y_of = |v: f64| bottom - (v.clamp(0.0, 1.0) * f64::from(bottom - top)).round() as i32;
        for tick in (0..=4).map(|t| f64::from(t) / 4.0) {
            let y = y_of(tick);
            root.draw(&PathElement::new(
                vec![(x0, y), (x0 + w, y)],
                RGBColor(225, 225, 225),
            ))?;
            paint::text(
                root,
                &format!("{tick:.2}"),
                (x0 - 6, y),
                12.0,
                false,
                (HPos::Right, VPos::Center),
            )?;
        }
        let group_w = w / groups.len().max(1) as i32;
        for (g, (name, bars)) in groups.iter().enumerate() {
            let n = bars.len().max(1) as i32;
            let bar_w = ((group_w - 16) / n).min(80);
            let gx = x0 + g as i32 * group_w + (group_w - bar_w * n) / 2;
            for (b, &(v, color)) in bars.iter().enumerate() {
                let (bx, by) = (gx + b as i32 * bar_w, y_of(v));
                let cx = bx + bar_w / 2;
                root.draw(&Rectangle::new(
                    [(bx + 1, by), (bx + bar_w - 1, bottom)],
                    color.filled(),
                ))?;
                // The value goes above the bar, or above its interval when that is higher.
                let mut label_y = by;
                if let Some(&(_, _, (lo, hi))) = ci.iter().find(|c| c.0 == g && c.1 == b) {
                    let (ylo, yhi) = (y_of(lo), y_of(hi));
                    label_y = label_y.min(yhi);
                    root.draw(&PathElement::new(
                        vec![(cx, ylo), (cx, yhi)],
                        BLACK.stroke_width(2),
                    ))?;
                    for y in [ylo, yhi] {
                        root.draw(&PathElement::new(
                            vec![(cx - 6, y), (cx + 6, y)],
                            BLACK.stroke_width(2),
                        ))?;
                    }
                }
                if let Some(label) = label {
                    paint::text(
                        root,
                        &label(v),
                        (cx, label_y - 6),
                        13.0,
                        true,
                        (HPos::Center, VPos::Bottom),
                    )?;
                }
            }
            paint::text(
                root,
                name,
                (x0 + g as i32 * group_w + group_w / 2, bottom + 6),
                13.0,
                false,
                (HPos::Center, VPos::Top),
            )?;
        }
        root.draw(&PathElement::new(
            vec![(x0, bottom), (x0 + w, bottom)],
            BLACK,
        ))?;
        Ok(())
    }
}

#[cfg(feature = "linalg")]
impl ModelComparison {
    /// Figure 11 from a finished section-3.3 study.
    pub fn pca_models(study: &PcaModels) -> ModelComparison {
        let models: Vec<_> = study
            .models
            .iter()
            .map(|m| ComparedModel {
                name: m.name,
                confusion: &m.confusion,
                study: m.paper_row.map(|r| (PAPER[r].1, PAPER[r].2)),
            })
            .collect();
        ModelComparison::new(
            "fig11_pca_models",
            "Models on the PCA scores: test accuracy, kappa and results by class",
            &format!(
                "scores on {} principal components; trained on the first {} training images, \
                 tested on {} test images",
                study.components,
                thousands(study.params.train_rows),
                thousands(study.params.test_rows)
            ),
            &models,
        )
    }
}

#[cfg(feature = "linalg")]
impl ConfusionHeatmaps {
    /// Figure 12 from a finished section-3.3 study.
    pub fn pca_models(study: &PcaModels) -> ConfusionHeatmaps {
        ConfusionHeatmaps::new(
            "fig12_confusion_pca_models",
            &format!(
                "Confusion matrices of the models on {} PCA scores",
                study.components
            ),
            study
                .models
                .iter()
                .map(|m| (m.name.to_string(), m.confusion.clone()))
                .collect(),
        )
    }
}

impl Figure for ModelComparison {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn size(&self) -> (u32, u32) {
        (1300, 1000)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(root, &self.title, &self.subtitle)?;
        let models = &self.models;
        let any_study = models.iter().any(|m| m.study.is_some());
        // Legend: one swatch per model, and the study's grey.
        let mut x = 60;
        let entries = models
            .iter()
            .enumerate()
            .map(|(m, b)| (b.name.as_str(), MODEL_COLORS[m]))
            .chain(any_study.then_some(("the study's value (its own, smaller PCA)", STUDY_GREY)));
        for (name, color) in entries {
            root.draw(&Rectangle::new([(x, 72), (x + 16, 88)], color.filled()))?;
            paint::text(
                root,
                name,
                (x + 22, 80),
                14.0,
                false,
                (HPos::Left, VPos::Center),
            )?;
            x += 40 + 8 * name.chars().count() as i32;
        }

        // Top: ours beside the study's, one group per model.
        let top_groups = |ours: fn(&ModelBars) -> f64, study: fn((f64, f64)) -> f64| {
            models
                .iter()
                .enumerate()
                .map(|(m, b)| {
                    let mut bars = vec![(ours(b), MODEL_COLORS[m])];
                    bars.extend(b.study.map(|s| (study(s), STUDY_GREY)));
                    (b.name.clone(), bars)
                })
                .collect::<Vec<_>>()
        };
        let pct = |v: f64| format!("{:.1}%", 100.0 * v);
        let three = |v: f64| format!("{v:.3}");
        let ci: Vec<_> = models
            .iter()
            .enumerate()
            .map(|(m, b)| (m, 0, b.ci95))
            .collect();
        Self::bar_panel(
            root,
            (80, 110, 540, 360),
            "Test accuracy (ours with its 95% interval)",
            &top_groups(|b| b.accuracy, |s| s.0),
            Some(&pct),
            &ci,
        )?;
        Self::bar_panel(
            root,
            (720, 110, 540, 360),
            "kappa",
            &top_groups(|b| b.kappa, |s| s.1),
            Some(&three),
            &[],
        )?;

        // Bottom: each class, one bar per model.
        let by_class = |f: fn(&ModelBars) -> &[f64; N_CLASSES]| {
            Class::ALL
                .iter()
                .map(|c| {
                    let bars = models
                        .iter()
                        .enumerate()
                        .map(|(m, b)| (f(b)[usize::from(c.label())], MODEL_COLORS[m]))
                        .collect();
                    (c.name().to_string(), bars)
                })
                .collect::<Vec<_>>()
        };
        Self::bar_panel(
            root,
            (80, 500, 1180, 230),
            "Balanced accuracy by class (mean of sensitivity and specificity)",
            &by_class(|b| &b.balanced),
            None,
            &[],
        )?;
        Self::bar_panel(
            root,
            (80, 750, 1180, 230),
            "Sensitivity by class (share of the class's test images labelled correctly)",
            &by_class(|b| &b.sensitivity),
            None,
            &[],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::{to_png, to_svg};

    fn cm() -> ConfusionMatrix {
        let actual: Vec<u8> = (0..200).map(|i| (i % 10) as u8).collect();
        let predicted: Vec<u8> = actual
            .iter()
            .enumerate()
            .map(|(i, &a)| if i % 7 == 0 { (a + 1) % 10 } else { a })
            .collect();
        ConfusionMatrix::new(&actual, &predicted)
    }

    #[test]
    fn class_accuracy_sorts_by_precision_and_shows_recall_beside_it() {
        let fig = ClassAccuracy::new("fig04_svm_accuracy_by_class", "SVM", &cm());
        assert!(fig.bars.windows(2).all(|w| w[0].1 >= w[1].1));
        // Class 0 loses 3 of its 20 images to class 1 and takes 3 of class 9's: both 85%.
        let t_shirt = fig.bars.iter().find(|b| b.0 == "T-shirt/top").unwrap();
        assert!((t_shirt.1 - 17.0 / 20.0).abs() < 1e-12 && (t_shirt.2 - 0.85).abs() < 1e-12);
        assert_eq!(&to_png(&fig).unwrap()[1..4], b"PNG");
        let svg = to_svg(&fig).unwrap();
        let overall = format!("overall accuracy {:.1}%", cm().accuracy() * 100.0);
        for needle in [
            overall.as_str(),
            "Ankle boot",
            "SVM: precision and recall by class",
            "precision: share",
            "recall: share",
        ] {
            assert!(svg.contains(needle), "{needle}");
        }
    }

    #[test]
    fn a_class_never_predicted_has_no_precision_and_sorts_last() {
        let actual = [0u8, 1, 2, 2];
        let predicted = [0u8, 0, 2, 2];
        let cm = ConfusionMatrix::with_classes(3, &actual, &predicted);
        let fig = ClassAccuracy::new("f", "M", &cm);
        assert_eq!(fig.bars.last().unwrap().0, class_names(3)[1]);
        assert!(to_svg(&fig).unwrap().contains("none predicted"));
    }

    #[test]
    fn confusion_heatmaps_label_both_axes_by_name() {
        let panels: Vec<_> = ["A", "B", "C", "D"]
            .into_iter()
            .map(|name| (name.to_string(), cm()))
            .collect();
        let fig = ConfusionHeatmaps::new("fig_cm", "Confusion", panels);
        let one_a_row = fig.clone().with_columns(1);
        assert_eq!(fig.cols(), 3, "three panels a row");
        assert_eq!(
            one_a_row.size().1,
            4 * one_a_row.tile().1 as u32 + TOP as u32 + 10
        );
        assert!(one_a_row.size().0 < 700, "{:?}", one_a_row.size());
        assert_eq!(&to_png(&fig).unwrap()[1..4], b"PNG");
        let svg = to_svg(&fig).unwrap();
        let title = format!("D: {:.1}%", cm().accuracy() * 100.0);
        for needle in [
            "T-shirt/top",
            title.as_str(),
            ">true class<",
            ">predicted class<",
            "% of the row",
            "the study&apos;s Figure 12 is transposed",
        ] {
            assert!(svg.contains(needle), "{needle}");
        }
    }

    #[test]
    fn row_shares_sum_to_a_hundred_beside_the_counts() {
        let fig = ConfusionHeatmaps::counts_and_shares("fig", "SVM", &cm());
        let svg = to_svg(&fig).unwrap();
        // 20 images a class, 3 of them (i % 7 == 0) labelled as the next class: 85% and 15%.
        let row0 = &cm().counts[0];
        assert_eq!(row0.iter().sum::<u64>(), 20);
        assert!(svg.contains(">85<") && svg.contains(">15<"), "{svg}");
        assert!(svg.contains("SVM: confusion matrix") && svg.contains("% of the true class"));
        assert!(svg.contains(&format!("(accuracy {:.1}%)", cm().accuracy() * 100.0)));

        // 1 of 200 is 0.5%: it reads 1, not 0 (round half to even would say 0).
        let predicted: Vec<u8> = (0..200).map(|i| u8::from(i == 0)).collect();
        let one_in_200 = ConfusionMatrix::with_classes(2, &[0; 200], &predicted);
        let fig = ConfusionHeatmaps::counts_and_shares("f", "M", &one_in_200);
        let svg = to_svg(&fig).unwrap();
        assert!(svg.contains(">1<"), "{svg}");
        assert_eq!(svg.matches(">0<").count(), 1, "only the colour key's 0");
    }

    #[test]
    fn model_comparison_labels_bars_classes_and_the_study() {
        let fig = ModelComparison::new(
            "fig11_pca_models",
            "Models on the PCA scores",
            "test",
            &[
                ComparedModel {
                    name: "Boost",
                    confusion: &cm(),
                    study: Some((0.739, 0.71)),
                },
                ComparedModel {
                    name: "Net",
                    confusion: &cm(),
                    study: None,
                },
            ],
        );
        assert_eq!(&to_png(&fig).unwrap()[1..4], b"PNG");
        let svg = to_svg(&fig).unwrap();
        let acc = format!("{:.1}%", cm().accuracy() * 100.0);
        for needle in [
            acc.as_str(),
            "73.9%",
            "0.710",
            "Ankle boot",
            "Boost",
            "kappa",
            "value (its own, smaller PCA)",
        ] {
            assert!(svg.contains(needle), "{needle}");
        }
    }
}
