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
        // What a label must not cover, in pixels: every marker and Zalando's lines, then each
        // model's label as it is placed, in the order of the points (Zalando's labels, placed
        // next, avoid them all).
        let point_style: TextStyle = (FONT, POINT_FONT).into();
        let centres: Vec<(i32, i32)> = self
            .points
            .iter()
            .map(|p| chart.backend_coord(&(p.seconds.max(1e-3), 100.0 * p.accuracy)))
            .collect();
        let mut taken: Vec<Rect> = centres.iter().map(|&c| Rect::marker(c)).collect();
        // Zalando's lines, so that no label sits on one.
        let (left, _) = chart.backend_coord(&(lo, top));
        let (right, _) = chart.backend_coord(&(hi, top));
        let rows: Vec<i32> = self
            .zalando
            .iter()
            .map(|(_, a)| chart.backend_coord(&(lo, 100.0 * a)).1)
            .collect();
        taken.extend(rows.iter().map(|&py| Rect::new(left, py, right, py + 1)));
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let bounds = Rect::new(xs.start, ys.start, xs.end, ys.end);
        let mut corners = vec![None; self.points.len()];
        for (i, p) in self.points.iter().enumerate().filter(|(_, p)| p.labelled) {
            let (w, _) = plot.estimate_text_size(&p.label, &point_style)?;
            let size = (w as i32, POINT_FONT as i32);
            let (corner, rect) = Corner::best(centres[i], size, &taken, &bounds);
            taken.push(rect);
            corners[i] = Some(corner);
        }
        // Each of Zalando's labels sits on its line at the right end, or at the left end, or
        // under the line at either end, whichever covers the fewest markers, labels and other
        // lines (the models cluster at the right, and 87.3% and 87.1% are less than a line of
        // text apart).
        let zalando_style: TextStyle = (FONT, ZALANDO_FONT).into();
        for ((method, accuracy), &py) in self.zalando.iter().zip(&rows) {
            let y = 100.0 * accuracy;
            chart.draw_series(DashedLineSeries::new(
                [(lo, y), (hi, y)],
                4,
                3,
                grey.stroke_width(1),
            ))?;
            let text = format!("Zalando, {method}: {y:.1}%");
            let (w, _) = plot.estimate_text_size(&text, &zalando_style)?;
            let (w, h) = (w as i32, ZALANDO_FONT as i32);
            let places = [
                (
                    Rect::new(right - w, py - h, right, py),
                    hi,
                    HPos::Right,
                    VPos::Bottom,
                ),
                (
                    Rect::new(left, py - h, left + w, py),
                    lo,
                    HPos::Left,
                    VPos::Bottom,
                ),
                (
                    Rect::new(right - w, py + 1, right, py + 1 + h),
                    hi,
                    HPos::Right,
                    VPos::Top,
                ),
                (
                    Rect::new(left, py + 1, left + w, py + 1 + h),
                    lo,
                    HPos::Left,
                    VPos::Top,
                ),
            ];
            let (rect, x, hpos, vpos) = places
                .into_iter()
                .min_by_key(|place| place.0.clashes(&taken))
                .expect("four places");
            taken.push(rect);
            let below = if matches!(vpos, VPos::Top) { 3 } else { 0 };
            chart.draw_series(std::iter::once(
                EmptyElement::at((x, y))
                    + Text::new(
                        text,
                        (0, below),
                        zalando_style.color(&grey).pos(Pos::new(hpos, vpos)),
                    ),
            ))?;
        }
        let groups = self.groups();
        for (i, p) in self.points.iter().enumerate() {
            let g = groups.iter().position(|g| *g == p.group).unwrap_or(0);
            let color = GROUP_COLORS[g % GROUP_COLORS.len()];
            let at = (p.seconds.max(1e-3), 100.0 * p.accuracy);
            chart.draw_series(std::iter::once(Circle::new(
                at,
                MARKER_RADIUS,
                color.filled(),
            )))?;
            if let Some(corner) = corners[i] {
                let (offset, pos) = corner.anchor();
                chart.draw_series(std::iter::once(
                    EmptyElement::at(at)
                        + Text::new(p.label.clone(), offset, point_style.color(&BLACK).pos(pos)),
                ))?;
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

/// Sizes of a model's label and of Zalando's, in pixels: also the height of a label's box,
/// since plotters' estimate of a text's height leaves out the space above its capitals and
/// below its baseline, where a neighbouring label's glyphs would touch.
const POINT_FONT: f64 = 12.0;
const ZALANDO_FONT: f64 = 11.0;

/// Radius of a model's marker, in pixels.
const MARKER_RADIUS: i32 = 5;

/// How far a model's label sits from its marker's centre, across and up or down, in pixels:
/// far enough that the label's box only touches the marker's.
const LABEL_GAP: i32 = MARKER_RADIUS + 1;

/// Where a model's label sits around its marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Corner {
    AboveRight,
    AboveLeft,
    BelowRight,
    BelowLeft,
}

impl Corner {
    /// In order of preference: above right reads first, as labels usually do.
    const ALL: [Corner; 4] = [
        Corner::AboveRight,
        Corner::AboveLeft,
        Corner::BelowRight,
        Corner::BelowLeft,
    ];

    /// The box of a `w × h` label at this corner of the marker centred on `(x, y)`.
    fn rect(self, (x, y): (i32, i32), (w, h): (i32, i32)) -> Rect {
        let g = LABEL_GAP;
        let (x0, x1) = match self {
            Corner::AboveRight | Corner::BelowRight => (x + g, x + g + w),
            Corner::AboveLeft | Corner::BelowLeft => (x - g - w, x - g),
        };
        let (y0, y1) = match self {
            Corner::AboveRight | Corner::AboveLeft => (y - g - h, y - g),
            Corner::BelowRight | Corner::BelowLeft => (y + g, y + g + h),
        };
        Rect::new(x0, y0, x1, y1)
    }

    /// The text's offset from the marker's centre and the point of the text placed there.
    fn anchor(self) -> ((i32, i32), Pos) {
        let g = LABEL_GAP;
        match self {
            Corner::AboveRight => ((g, -g), Pos::new(HPos::Left, VPos::Bottom)),
            Corner::AboveLeft => ((-g, -g), Pos::new(HPos::Right, VPos::Bottom)),
            Corner::BelowRight => ((g, g), Pos::new(HPos::Left, VPos::Top)),
            Corner::BelowLeft => ((-g, g), Pos::new(HPos::Right, VPos::Top)),
        }
    }

    /// The corner where a `size` label beside the marker at `centre` overlaps the fewest of
    /// `taken` while staying inside `bounds` (the first such corner in [`Corner::ALL`] on a
    /// tie; a corner outside the bounds only when all are), and its box.
    fn best(centre: (i32, i32), size: (i32, i32), taken: &[Rect], bounds: &Rect) -> (Corner, Rect) {
        Corner::ALL
            .into_iter()
            .map(|c| (c, c.rect(centre, size)))
            .min_by_key(|(_, r)| (!bounds.contains(r), r.clashes(taken)))
            .expect("four corners")
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

    /// The box around a marker centred on `(x, y)`.
    fn marker((x, y): (i32, i32)) -> Rect {
        let r = MARKER_RADIUS + 1;
        Rect::new(x - r, y - r, x + r, y + r)
    }

    /// Whether `inner` lies wholly inside this rectangle.
    fn contains(&self, inner: &Rect) -> bool {
        self.x0 <= inner.x0 && inner.x1 <= self.x1 && self.y0 <= inner.y0 && inner.y1 <= self.y1
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
    fn a_label_takes_the_first_corner_that_covers_nothing_and_stays_inside() {
        let bounds = Rect::new(0, 0, 1000, 600);
        let size = (55, 12);
        let svm = (773, 125);
        // Alone, a label sits above right, clear of its own marker.
        let (corner, rect) = Corner::best(svm, size, &[Rect::marker(svm)], &bounds);
        assert_eq!(corner, Corner::AboveRight);
        assert_eq!(rect.clashes(&[Rect::marker(svm)]), 0);
        // Figure 18 of 2026-12-02: the CNN's marker sat on "SVM (RBF)", above right.
        let markers = [Rect::marker(svm), Rect::marker((803, 116))];
        assert_eq!(Corner::AboveRight.rect(svm, size).clashes(&markers), 1);
        assert_eq!(
            Corner::best(svm, size, &markers, &bounds).0,
            Corner::AboveLeft
        );
        // Crowded above on both sides: below right.
        let crowded = [markers[0], markers[1], Rect::marker((740, 116))];
        assert_eq!(
            Corner::best(svm, size, &crowded, &bounds).0,
            Corner::BelowRight
        );
        // At the plot's top right corner only below left stays inside.
        let corner = (995, 5);
        assert_eq!(
            Corner::best(corner, size, &[], &bounds).0,
            Corner::BelowLeft
        );
        // Where every corner covers something, the first covering least: one marker in each
        // corner and a second above right.
        let ring = [(460, 288), (540, 288), (545, 290), (540, 312), (460, 312)].map(Rect::marker);
        assert_eq!(
            Corner::best((500, 300), size, &ring, &bounds).0,
            Corner::AboveLeft
        );
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
