//! Figure 18 (beyond the study): every model's test accuracy against the time it took to get
//! it, with Zalando's published accuracies marked.

use plotters::coord::combinators::IntoLogRange;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::paint::{self, FONT};
use super::{DrawResult, Figure};

/// One trained model.
#[derive(Debug, Clone, PartialEq)]
pub struct EffortPoint {
    /// The model, short (`SVM`, `CNN`).
    pub label: String,
    /// Which protocol trained it (one legend entry each).
    pub group: &'static str,
    /// Test accuracy, 0–1.
    pub accuracy: f64,
    /// Seconds to choose its setting and fit it (the CNN: to train it).
    pub seconds: f64,
    /// Whether its label is written beside it.
    pub labelled: bool,
}

/// Figure 18: test accuracy against training time, log scale, one marker per model and a
/// colour per protocol, Zalando's best published accuracy of each method as a dashed line.
#[derive(Debug, Clone, PartialEq)]
pub struct Effort {
    points: Vec<EffortPoint>,
    zalando: Vec<(String, f64)>,
    subtitle: String,
    machine: String,
}

/// Colours of the protocols, in legend order (Okabe–Ito).
const GROUP_COLORS: [RGBColor; 4] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
];

impl Effort {
    /// The figure of `points`, with Zalando's published accuracies `zalando` (method, 0–1);
    /// `machine` names where the seconds were measured (the time axis says it).
    pub fn new(
        points: Vec<EffortPoint>,
        zalando: &[(&str, f64)],
        subtitle: &str,
        machine: &str,
    ) -> Effort {
        Effort {
            points,
            zalando: zalando.iter().map(|(m, a)| (m.to_string(), *a)).collect(),
            subtitle: subtitle.to_string(),
            machine: machine.to_string(),
        }
    }

    /// The protocols, in the order their points first appear.
    fn groups(&self) -> Vec<&'static str> {
        let mut groups = Vec::new();
        for p in &self.points {
            if !groups.contains(&p.group) {
                groups.push(p.group);
            }
        }
        groups
    }
}

impl Figure for Effort {
    fn stem(&self) -> String {
        "fig18_accuracy_against_time".into()
    }

    fn size(&self) -> (u32, u32) {
        (1100, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            "Test accuracy against the time it took to train",
            &self.subtitle,
        )?;
        let body = root.margin(70, 10, 10, 10);
        let (plot, legend) = body.split_horizontally(860);
        let seconds = self.points.iter().map(|p| p.seconds.max(1e-3));
        let (lo, hi) = seconds.fold((f64::MAX, f64::MIN), |(a, b), s| (a.min(s), b.max(s)));
        let (lo, hi) = if lo > hi {
            (0.01, 100.0)
        } else {
            (lo / 2.0, hi * 2.0)
        };
        let accuracies = self.points.iter().map(|p| 100.0 * p.accuracy);
        let zal = self.zalando.iter().map(|z| 100.0 * z.1);
        let low = accuracies.chain(zal.clone()).fold(100.0, f64::min);
        let top = zal.fold(0.0, f64::max).max(
            self.points
                .iter()
                .map(|p| 100.0 * p.accuracy)
                .fold(0.0, f64::max),
        );
        let mut chart = ChartBuilder::on(&plot)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(
                (lo..hi).log_scale(),
                (low - 1.5).floor()..(top + 1.0).ceil(),
            )?;
        chart
            .configure_mesh()
            .x_desc(format!(
                "seconds to choose the setting and fit, log scale ({})",
                self.machine
            ))
            .y_desc("test accuracy (%)")
            .x_label_formatter(&|s| paint::short_number(s))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(RGBColor(245, 245, 245))
            .draw()?;
        let grey = RGBColor(150, 150, 150);
        // What a label must not cover, in pixels: every marker and every model's label.
        let point_style: TextStyle = (FONT, 12).into();
        let mut taken = Vec::new();
        for p in &self.points {
            let (x, y) = chart.backend_coord(&(p.seconds.max(1e-3), 100.0 * p.accuracy));
            taken.push(Rect::new(x - 6, y - 6, x + 6, y + 6));
            if p.labelled {
                let (w, h) = plot.estimate_text_size(&p.label, &point_style)?;
                taken.push(Rect::new(x, y - h as i32, x + w as i32, y));
            }
        }
        // Each of Zalando's labels sits on its line at the right end, or at the left end where
        // the right one would cover more markers or labels (the models cluster at the right,
        // and 87.3% and 87.1% are less than a line of text apart).
        let zalando_style: TextStyle = (FONT, 11).into();
        for (method, accuracy) in &self.zalando {
            let y = 100.0 * accuracy;
            chart.draw_series(DashedLineSeries::new(
                [(lo, y), (hi, y)],
                4,
                3,
                grey.stroke_width(1),
            ))?;
            let text = format!("Zalando, {method}: {y:.1}%");
            let (w, h) = plot.estimate_text_size(&text, &zalando_style)?;
            let (left, py) = chart.backend_coord(&(lo, y));
            let (right, _) = chart.backend_coord(&(hi, y));
            let (w, h) = (w as i32, h as i32);
            let at_right = Rect::new(right - w, py - h, right, py);
            let at_left = Rect::new(left, py - h, left + w, py);
            let (rect, x, pos) = if at_left.clashes(&taken) < at_right.clashes(&taken) {
                (at_left, lo, HPos::Left)
            } else {
                (at_right, hi, HPos::Right)
            };
            taken.push(rect);
            chart.draw_series(std::iter::once(Text::new(
                text,
                (x, y),
                zalando_style.color(&grey).pos(Pos::new(pos, VPos::Bottom)),
            )))?;
        }
        let groups = self.groups();
        for p in &self.points {
            let g = groups.iter().position(|g| *g == p.group).unwrap_or(0);
            let color = GROUP_COLORS[g % GROUP_COLORS.len()];
            let at = (p.seconds.max(1e-3), 100.0 * p.accuracy);
            chart.draw_series(std::iter::once(Circle::new(at, 5, color.filled())))?;
            if p.labelled {
                chart.draw_series(std::iter::once(Text::new(
                    p.label.clone(),
                    at,
                    point_style
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Left, VPos::Bottom)),
                )))?;
            }
        }
        paint::text(
            &legend,
            "protocol",
            (10, 30),
            14.0,
            true,
            (HPos::Left, VPos::Center),
        )?;
        for (g, name) in groups.iter().enumerate() {
            let y = 58 + 26 * g as i32;
            let color = GROUP_COLORS[g % GROUP_COLORS.len()];
            legend.draw(&Circle::new((17, y), 6, color.filled()))?;
            paint::text(
                &legend,
                name,
                (30, y),
                13.0,
                false,
                (HPos::Left, VPos::Center),
            )?;
        }
        let y = 58 + 26 * groups.len() as i32;
        legend.draw(&PathElement::new(
            vec![(8, y), (26, y)],
            grey.stroke_width(1),
        ))?;
        paint::text(
            &legend,
            "Zalando's best",
            (30, y),
            13.0,
            false,
            (HPos::Left, VPos::Center),
        )
    }
}

/// A rectangle in pixels, for keeping labels off markers and off each other.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: i32,
    y0: i32,
    x1: i32,
    y1: i32,
}

impl Rect {
    fn new(x0: i32, y0: i32, x1: i32, y1: i32) -> Rect {
        Rect { x0, y0, x1, y1 }
    }

    /// How many of `others` this rectangle overlaps.
    fn clashes(&self, others: &[Rect]) -> usize {
        others
            .iter()
            .filter(|o| self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::{to_png, to_svg};

    #[test]
    fn a_label_clashes_with_what_it_overlaps_and_not_with_what_it_touches() {
        let label = Rect::new(100, 50, 200, 62);
        let marker = |x, y| Rect::new(x - 6, y - 6, x + 6, y + 6);
        assert_eq!(label.clashes(&[marker(150, 60), marker(300, 60)]), 1);
        // Edges that only meet do not overlap: a label may sit right on its line.
        assert_eq!(label.clashes(&[Rect::new(200, 50, 260, 62)]), 0);
        assert_eq!(label.clashes(&[marker(150, 56), marker(190, 58)]), 2);
    }

    #[test]
    fn every_model_and_every_published_figure_is_drawn() {
        let point = |label: &str, group, accuracy, seconds| EffortPoint {
            label: label.into(),
            group,
            accuracy,
            seconds,
            labelled: group == "leaderboard",
        };
        let fig = Effort::new(
            vec![
                point("SVM", "study's protocol", 0.85, 20.0),
                point("SVM", "leaderboard", 0.93, 300.0),
                point("CNN", "leaderboard", 0.94, 280.0),
            ],
            &[("SVM (RBF)", 0.897)],
            "test",
            "a test CPU, 2 logical cores",
        );
        assert_eq!(fig.groups(), ["study's protocol", "leaderboard"]);
        assert_eq!(&to_png(&fig).unwrap()[1..4], b"PNG");
        let svg = to_svg(&fig).unwrap();
        for needle in [
            "Zalando, SVM (RBF): 89.7%",
            ">CNN<",
            "protocol",
            "log scale (a test CPU, 2 logical cores)",
        ] {
            assert!(svg.contains(needle), "{needle}");
        }
        assert_eq!(
            svg.matches("<circle").count(),
            3 + 2,
            "three models, two legend dots"
        );
    }
}
