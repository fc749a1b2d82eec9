//! Figures of fitted classifiers: accuracy by class (Figure 4) and confusion heat maps.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::paint::{self, FONT};
use super::{DrawResult, Figure};
use crate::data::{Class, N_CLASSES};
use crate::eval::ConfusionMatrix;
use crate::report::thousands;

const TOP: i32 = 80;

/// Figure 4: one model's accuracy on each class (the share of that class's test images it
/// labels correctly), as horizontal bars sorted from best to worst, with the overall accuracy
/// as a vertical line.
#[derive(Debug, Clone)]
pub struct ClassAccuracy {
    stem: String,
    model: String,
    bars: Vec<(Class, f64)>,
    overall: f64,
    n: u64,
}

impl ClassAccuracy {
    /// The figure of `model`'s confusion matrix, saved as `stem`.
    pub fn new(stem: &str, model: &str, cm: &ConfusionMatrix) -> ClassAccuracy {
        let mut bars: Vec<(Class, f64)> = Class::ALL
            .iter()
            .map(|&c| (c, cm.class_metrics(usize::from(c.label())).sensitivity))
            .collect();
        bars.sort_by(|a, b| b.1.total_cmp(&a.1));
        ClassAccuracy {
            stem: stem.to_string(),
            model: model.to_string(),
            bars,
            overall: cm.accuracy(),
            n: cm.total(),
        }
    }
}

impl Figure for ClassAccuracy {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn size(&self) -> (u32, u32) {
        (900, (TOP + 30 + 42 * self.bars.len() as i32 + 60) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            &format!("{}: accuracy by class", self.model),
            &format!(
                "share of each class's test images labelled correctly ({} test images)",
                thousands(self.n as usize)
            ),
        )?;
        let (x0, width) = (150, 680);
        let y0 = TOP + 30;
        let row = 42;
        let x_of = |v: f64| x0 + (v.clamp(0.0, 1.0) * f64::from(width)).round() as i32;
        for tick in (0..=10).map(|t| f64::from(t) / 10.0) {
            let x = x_of(tick);
            let bottom = y0 + row * self.bars.len() as i32;
            root.draw(&PathElement::new(
                vec![(x, y0 - 6), (x, bottom)],
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
        let color = RGBColor(78, 121, 167);
        for (i, (class, acc)) in self.bars.iter().enumerate() {
            let y = y0 + row * i as i32;
            root.draw(&Rectangle::new(
                [(x0, y + 6), (x_of(*acc), y + row - 6)],
                color.filled(),
            ))?;
            paint::text(
                root,
                class.name(),
                (x0 - 10, y + row / 2),
                15.0,
                true,
                (HPos::Right, VPos::Center),
            )?;
            paint::text(
                root,
                &format!("{:.1}%", acc * 100.0),
                (x_of(*acc) + 6, y + row / 2),
                13.0,
                false,
                (HPos::Left, VPos::Center),
            )?;
        }
        let bottom = y0 + row * self.bars.len() as i32;
        let x = x_of(self.overall);
        root.draw(&PathElement::new(
            vec![(x, y0 - 14), (x, bottom)],
            RED.stroke_width(2),
        ))?;
        paint::text(
            root,
            &format!("overall {:.1}%", self.overall * 100.0),
            (x, y0 - 16),
            14.0,
            true,
            (HPos::Center, VPos::Bottom),
        )?;
        paint::text(
            root,
            "accuracy on the class's test images",
            (x0 + width / 2, bottom + 30),
            14.0,
            false,
            (HPos::Center, VPos::Top),
        )
    }
}

/// Confusion matrices as heat maps, one panel per model: rows are the actual classes, columns
/// the predicted ones, each cell shows its count and is shaded by its share of the row.
#[derive(Debug, Clone)]
pub struct ConfusionHeatmaps {
    stem: String,
    title: String,
    panels: Vec<(String, ConfusionMatrix)>,
}

impl ConfusionHeatmaps {
    const CELL: i32 = 34;
    const LEFT: i32 = 100;
    const HEAD: i32 = 110;
    const COLS: usize = 3;

    /// Heat maps of `panels` (name, matrix), saved as `stem`.
    pub fn new(
        stem: &str,
        title: &str,
        panels: Vec<(String, ConfusionMatrix)>,
    ) -> ConfusionHeatmaps {
        ConfusionHeatmaps {
            stem: stem.to_string(),
            title: title.to_string(),
            panels,
        }
    }

    fn tile() -> (i32, i32) {
        let side = N_CLASSES as i32 * Self::CELL;
        (Self::LEFT + side + 30, Self::HEAD + side + 20)
    }

    fn cols(&self) -> usize {
        self.panels.len().clamp(1, Self::COLS)
    }
}

impl Figure for ConfusionHeatmaps {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn size(&self) -> (u32, u32) {
        let (tw, th) = Self::tile();
        let rows = self.panels.len().div_ceil(self.cols()) as i32;
        (
            (20 + self.cols() as i32 * tw) as u32,
            (TOP + rows * th + 10) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            &self.title,
            "rows: actual class; columns: predicted class; shade: share of the row; numbers: test images",
        )?;
        let (tw, th) = Self::tile();
        let side = N_CLASSES as i32 * Self::CELL;
        for (p, (name, cm)) in self.panels.iter().enumerate() {
            let ox = 20 + (p % self.cols()) as i32 * tw;
            let oy = TOP + (p / self.cols()) as i32 * th;
            let (gx, gy) = (ox + Self::LEFT, oy + Self::HEAD);
            paint::text(
                root,
                &format!("{name}: {:.1}%", cm.accuracy() * 100.0),
                (gx + side / 2, oy + 6),
                16.0,
                true,
                (HPos::Center, VPos::Top),
            )?;
            for (i, class) in Class::ALL.iter().enumerate() {
                let c = i as i32 * Self::CELL + Self::CELL / 2;
                paint::text(
                    root,
                    class.name(),
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
                root.draw(&Text::new(
                    class.name().to_string(),
                    (gx + c, gy - 6),
                    style,
                ))?;
            }
            for (a, row) in cm.counts.iter().enumerate() {
                let total = row.iter().sum::<u64>().max(1) as f64;
                for (b, &count) in row.iter().enumerate() {
                    let share = count as f64 / total;
                    let (x, y) = (gx + b as i32 * Self::CELL, gy + a as i32 * Self::CELL);
                    let blue = |w: f64| (255.0 - w * share).round() as u8;
                    let fill = RGBColor(blue(230.0), blue(175.0), blue(90.0));
                    root.draw(&Rectangle::new(
                        [(x, y), (x + Self::CELL, y + Self::CELL)],
                        fill.filled(),
                    ))?;
                    if count > 0 {
                        let ink = if share > 0.5 { WHITE } else { BLACK };
                        let style = (FONT, 11).into_font().color(&ink).pos(
                            plotters::style::text_anchor::Pos::new(HPos::Center, VPos::Center),
                        );
                        root.draw(&Text::new(
                            count.to_string(),
                            (x + Self::CELL / 2, y + Self::CELL / 2),
                            style,
                        ))?;
                    }
                }
            }
            root.draw(&Rectangle::new(
                [(gx, gy), (gx + side, gy + side)],
                RGBColor(150, 150, 150).stroke_width(1),
            ))?;
        }
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
    fn class_accuracy_sorts_bars_and_marks_the_overall_line() {
        let fig = ClassAccuracy::new("fig04_svm_accuracy_by_class", "SVM", &cm());
        assert!(fig.bars.windows(2).all(|w| w[0].1 >= w[1].1));
        assert_eq!(&to_png(&fig).unwrap()[1..4], b"PNG");
        let svg = to_svg(&fig).unwrap();
        let overall = format!("overall {:.1}%", cm().accuracy() * 100.0);
        assert!(
            svg.contains(&overall)
                && svg.contains("Ankle boot")
                && svg.contains("SVM: accuracy by class")
        );
    }

    #[test]
    fn confusion_heatmaps_label_both_axes_by_name() {
        let fig = ConfusionHeatmaps::new(
            "fig_cm",
            "Confusion",
            vec![
                ("A".into(), cm()),
                ("B".into(), cm()),
                ("C".into(), cm()),
                ("D".into(), cm()),
            ],
        );
        assert_eq!(fig.size().0, fig.size().0.max(1000), "three panels a row");
        assert_eq!(&to_png(&fig).unwrap()[1..4], b"PNG");
        let svg = to_svg(&fig).unwrap();
        let title = format!("D: {:.1}%", cm().accuracy() * 100.0);
        assert!(svg.contains("T-shirt/top") && svg.contains(&title));
    }
}
