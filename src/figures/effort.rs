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
        // Labels at the right end of their line, or at the left end where the right one would
        // overlap the label above (87.3% and 87.1% are a line of text apart).
        let (y_lo, y_hi) = ((low - 1.5).floor(), (top + 1.0).ceil());
        let pixels = chart.plotting_area().dim_in_pixel().1.max(1);
        let line = 14.0 * (y_hi - y_lo) / f64::from(pixels);
        let mut zalando = self.zalando.clone();
        zalando.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut last = [f64::INFINITY; 2]; // the lowest label so far: right end, left end
        for (method, accuracy) in &zalando {
            let y = 100.0 * accuracy;
            chart.draw_series(DashedLineSeries::new(
                [(lo, y), (hi, y)],
                4,
                3,
                grey.stroke_width(1),
            ))?;
            let side = usize::from(last[0] - y < line && last[1] - y >= line);
            last[side] = y;
            let (x, h) = if side == 0 {
                (hi, HPos::Right)
            } else {
                (lo, HPos::Left)
            };
            chart.draw_series(std::iter::once(Text::new(
                format!("Zalando, {method}: {y:.1}%"),
                (x, y),
                (FONT, 11)
                    .into_font()
                    .color(&grey)
                    .pos(Pos::new(h, VPos::Bottom)),
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
                    (FONT, 12)
                        .into_font()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::{to_png, to_svg};

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
