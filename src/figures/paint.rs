//! Drawing primitives shared by the figures: pixel grids, colour bars, text.
//!
//! Images are drawn in backend pixels rather than through a chart's coordinate system, so a
//! 28 × 28 image is a true grid of equal squares (aspect 1) at any size.

// Without the `linalg` feature the figures of the later sections, and the charting helpers
// only they use, are not built.
#![cfg_attr(not(feature = "linalg"), allow(dead_code))]

use ndarray::{Array2, ArrayView1, ArrayView2};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{BackendCoord, DrawingErrorKind};

use super::DrawResult;
use crate::data::SIDE;

/// The font family registered in [`super::register_fonts`].
pub(crate) const FONT: &str = "sans-serif";

/// How values map to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// White for the lowest value, black for the highest: ink on paper.
    Greys,
    /// The perceptually uniform viridis map: dark purple (low) to yellow (high).
    Viridis,
    /// White (lowest) to a strong blue (highest): the shade of confusion-matrix cells.
    Blues,
}

impl Scale {
    /// The colour of `t`, clamped to `[0, 1]`.
    pub(crate) fn color(self, t: f64) -> RGBColor {
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        match self {
            Scale::Greys => {
                let g = (255.0 * (1.0 - t)).round() as u8;
                RGBColor(g, g, g)
            }
            Scale::Viridis => ViridisRGB.get_color(t as f32),
            Scale::Blues => {
                let shade = |w: f64| (255.0 - w * t).round() as u8;
                RGBColor(shade(230.0), shade(175.0), shade(90.0))
            }
        }
    }
}

/// An 8-bit RGB image drawn pixel for pixel with its top-left corner at a point: one
/// `<image>` element in SVG.
pub(crate) struct Pixels {
    at: (i32, i32),
    size: (u32, u32),
    rgb: Vec<u8>,
}

impl Pixels {
    /// `size.0 × size.1` pixels from `color(x, y)`, top-left at `at`.
    pub(crate) fn from_fn(
        at: (i32, i32),
        size: (u32, u32),
        color: impl Fn(u32, u32) -> RGBColor,
    ) -> Pixels {
        let (w, h) = size;
        let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
        for y in 0..h {
            for x in 0..w {
                let RGBColor(r, g, b) = color(x, y);
                rgb.extend([r, g, b]);
            }
        }
        Pixels { at, size, rgb }
    }
}

impl<'a> PointCollection<'a, (i32, i32)> for &'a Pixels {
    type Point = &'a (i32, i32);
    type IntoIter = std::iter::Once<&'a (i32, i32)>;

    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<DB: DrawingBackend> Drawable<DB> for Pixels {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut points: I,
        backend: &mut DB,
        _parent_dim: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        match points.next() {
            Some(at) => backend.blit_bitmap(at, self.size, &self.rgb),
            None => Ok(()),
        }
    }
}

/// Draws `values` as a grid of square cells of `cell` pixels with its top-left corner at
/// `origin`, colours scaled from `range.0` to `range.1`, and a thin frame. The grid is one
/// pixel image (each value a `cell × cell` block: nearest-neighbour scaling).
pub(crate) fn grid<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    origin: (i32, i32),
    cell: i32,
    values: ArrayView2<'_, f64>,
    range: (f64, f64),
    scale: Scale,
) -> DrawResult<DB> {
    let span = (range.1 - range.0).max(f64::MIN_POSITIVE);
    let step = cell.max(1) as u32;
    let (w, h) = (values.ncols() as u32 * step, values.nrows() as u32 * step);
    root.draw(&Pixels::from_fn(origin, (w, h), |x, y| {
        let v = values[[(y / step) as usize, (x / step) as usize]];
        scale.color((v - range.0) / span)
    }))?;
    let (x0, y0) = origin;
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + w as i32, y0 + h as i32)],
        RGBColor(150, 150, 150).stroke_width(1),
    ))
}

/// One image's pixels (784 values, row-major) as a 28 × 28 grid of `f64`, row 0 at the top.
pub(crate) fn as_image<T: Copy + Into<f64>>(pixels: ArrayView1<'_, T>) -> Array2<f64> {
    Array2::from_shape_fn((SIDE, SIDE), |(r, c)| pixels[r * SIDE + c].into())
}

/// Grey-level images (0 white to 255 black) side by side from `origin`, `cell` pixels per
/// image pixel, one every `pitch` pixels.
pub(crate) fn image_row<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    origin: (i32, i32),
    cell: i32,
    pitch: i32,
    images: &[Array2<f64>],
) -> DrawResult<DB> {
    let (x0, y) = origin;
    for (k, image) in images.iter().enumerate() {
        let x = x0 + k as i32 * pitch;
        grid(root, (x, y), cell, image.view(), (0.0, 255.0), Scale::Greys)?;
    }
    Ok(())
}

/// A vertical colour bar of size `(w, h)` at `origin`, high values at the top, with tick
/// labels on its right and `label` centred above it.
pub(crate) fn colorbar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    origin: (i32, i32),
    (w, h): (i32, i32),
    range: (f64, f64),
    scale: Scale,
    label: &str,
) -> DrawResult<DB> {
    let (x0, y0) = origin;
    root.draw(&Pixels::from_fn(origin, (w as u32, h as u32), |_, y| {
        scale.color(1.0 - f64::from(y) / f64::from(h - 1).max(1.0))
    }))?;
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + w, y0 + h)],
        BLACK.stroke_width(1),
    ))?;
    let span = (range.1 - range.0).max(f64::MIN_POSITIVE);
    let ticks = nice_ticks(range.0, range.1, 5);
    let step = ticks.get(1).zip(ticks.first()).map_or(1.0, |(b, a)| b - a);
    for v in ticks {
        let y = y0 + ((1.0 - (v - range.0) / span) * f64::from(h)).round() as i32;
        root.draw(&PathElement::new(
            vec![(x0 + w, y), (x0 + w + 4, y)],
            BLACK.stroke_width(1),
        ))?;
        text(
            root,
            &format_tick(v, step),
            (x0 + w + 7, y),
            13.0,
            false,
            (HPos::Left, VPos::Center),
        )?;
    }
    text(
        root,
        label,
        (x0 + w / 2, y0 - 10),
        13.0,
        false,
        (HPos::Center, VPos::Bottom),
    )
}

/// Draws `s` at `at`, anchored as `anchor` says, in the bundled font.
pub(crate) fn text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &str,
    at: (i32, i32),
    size: f64,
    bold: bool,
    anchor: (HPos, VPos),
) -> DrawResult<DB> {
    let font = if bold {
        (FONT, size, FontStyle::Bold).into_font()
    } else {
        (FONT, size).into_font()
    };
    let style = font.color(&BLACK).pos(Pos::new(anchor.0, anchor.1));
    root.draw(&Text::new(s.to_string(), at, style))
}

/// `s` left-anchored at `at` (its vertical centre there) on a white box a little larger than
/// the text, so that it stays readable over points and lines.
pub(crate) fn label_on_white<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &str,
    at: (i32, i32),
    size: f64,
    bold: bool,
) -> DrawResult<DB> {
    let font = if bold {
        (FONT, size, FontStyle::Bold).into_font()
    } else {
        (FONT, size).into_font()
    };
    let (w, _) = root.estimate_text_size(s, &TextStyle::from(font))?;
    let half = (size * 0.55).round() as i32;
    let (x, y) = at;
    root.draw(&Rectangle::new(
        [(x - 3, y - half), (x + w as i32 + 3, y + half)],
        WHITE.mix(0.85).filled(),
    ))?;
    text(root, s, at, size, bold, (HPos::Left, VPos::Center))
}

/// A figure title (bold, centred at the top) and an optional subtitle below it.
pub(crate) fn title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> DrawResult<DB> {
    let (w, _) = root.dim_in_pixel();
    let x = w as i32 / 2;
    text(root, title, (x, 12), 22.0, true, (HPos::Center, VPos::Top))?;
    if !subtitle.is_empty() {
        text(
            root,
            subtitle,
            (x, 42),
            14.0,
            false,
            (HPos::Center, VPos::Top),
        )?;
    }
    Ok(())
}

/// Ten distinguishable class colours (Tableau 10), in label order.
const CLASS_COLORS: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];

/// The colour of class `label` in every figure.
pub(crate) fn class_color(label: u8) -> RGBColor {
    CLASS_COLORS[usize::from(label) % CLASS_COLORS.len()]
}

/// A legend of the ten classes: a dot and the name of each, from `origin` downwards.
pub(crate) fn class_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    origin: (i32, i32),
    title: &str,
) -> DrawResult<DB> {
    let (x, y) = origin;
    text(area, title, (x, y), 14.0, true, (HPos::Left, VPos::Center))?;
    for class in crate::data::Class::ALL {
        let yy = y + 26 * (i32::from(class.label()) + 1);
        area.draw(&Circle::new(
            (x + 7, yy),
            6,
            class_color(class.label()).filled(),
        ))?;
        text(
            area,
            class.name(),
            (x + 20, yy),
            14.0,
            false,
            (HPos::Left, VPos::Center),
        )?;
    }
    Ok(())
}

/// A 2-D chart on `f64` axes.
pub(crate) type Chart<'a, 'b, DB> =
    ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Light grid, tick labels and axis titles in the bundled font.
pub(crate) fn axes<DB: DrawingBackend>(
    chart: &mut Chart<'_, '_, DB>,
    x: &str,
    y: &str,
) -> DrawResult<DB> {
    chart
        .configure_mesh()
        .x_desc(x)
        .y_desc(y)
        .x_label_formatter(&short_number)
        .y_label_formatter(&short_number)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .bold_line_style(RGBColor(220, 220, 220))
        .light_line_style(RGBColor(240, 240, 240))
        .draw()
}

/// A horizontal reference line at `y` across the chart, labelled at its left end.
pub(crate) fn hline<DB: DrawingBackend>(
    chart: &mut Chart<'_, '_, DB>,
    y: f64,
    color: &RGBColor,
    label: &str,
) -> DrawResult<DB> {
    let xs = chart.x_range();
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(xs.start, y), (xs.end, y)],
        color.stroke_width(1),
    )))?;
    let x = xs.start + 0.02 * (xs.end - xs.start);
    chart.draw_series(std::iter::once(Text::new(
        label.to_string(),
        (x, y),
        (FONT, 13)
            .into_font()
            .color(color)
            .pos(Pos::new(HPos::Left, VPos::Bottom)),
    )))?;
    Ok(())
}

/// A share (`0.2904`) as a percentage a reader would write: two decimals from 1% up
/// (`29.04%`), two significant digits below (`0.42%`), one below 0.01% (`0.009%`, truncated
/// so that it never reads larger than it is), and `< 0.0001%` below that.
pub(crate) fn percent(share: f64) -> String {
    let pct = share * 100.0;
    if pct == 0.0 {
        "0%".into()
    } else if pct >= 1.0 {
        format!("{pct:.2}%")
    } else if pct >= 0.01 {
        let decimals = (1.0 - pct.log10().floor()) as usize;
        format!("{pct:.decimals$}%")
    } else if pct >= 0.0001 {
        let decimals = (-pct.log10().floor()) as usize;
        let scale = 10f64.powi(decimals as i32);
        format!("{:.decimals$}%", (pct * scale).floor() / scale)
    } else {
        "< 0.0001%".into()
    }
}

/// A tick label without trailing zeros: `2`, `0.815`, `-1500`.
pub(crate) fn short_number(v: &f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

pub(crate) use crate::report::thousands;

/// About `target` round tick values (steps of 1, 2 or 5 × 10^k) within `[lo, hi]`.
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) || target == 0 {
        return vec![lo];
    }
    let raw = (hi - lo) / target as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    // The round step nearest to the raw one, on a log scale.
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .min_by(|a, b| (a / raw).ln().abs().total_cmp(&(b / raw).ln().abs()))
        .unwrap_or(magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A tick label with as many decimals as the step needs.
pub(crate) fn format_tick(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside_the_range() {
        assert_eq!(
            nice_ticks(0.0, 255.0, 5),
            vec![0.0, 50.0, 100.0, 150.0, 200.0, 250.0]
        );
        assert_eq!(nice_ticks(0.0, 600.0, 5).len(), 7, "0, 100, …, 600");
        assert_eq!(
            nice_ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(nice_ticks(3.0, 3.0, 5), vec![3.0]);
        assert_eq!(format_tick(0.6000000000000001, 0.2), "0.6");
        assert_eq!(format_tick(150.0, 50.0), "150");
    }

    #[test]
    fn short_tick_labels() {
        assert_eq!(short_number(&2.0), "2");
        assert_eq!(short_number(&0.815), "0.815");
        assert_eq!(short_number(&-1500.0), "-1500");
        assert_eq!(short_number(&-0.00001), "0");
    }

    #[test]
    fn shares_read_as_a_reader_writes_them() {
        assert_eq!(percent(0.2904), "29.04%");
        assert_eq!(percent(0.0602), "6.02%");
        assert_eq!(percent(0.004_2), "0.42%");
        assert_eq!(percent(0.000_094_8), "0.009%");
        assert_eq!(percent(0.000_012), "0.001%");
        assert_eq!(percent(1.5e-9), "< 0.0001%");
        assert_eq!(percent(0.0), "0%");
    }

    #[test]
    fn greys_put_ink_on_paper() {
        assert_eq!(Scale::Greys.color(0.0), WHITE);
        assert_eq!(Scale::Greys.color(1.0), BLACK);
        assert_eq!(Scale::Greys.color(7.0), BLACK, "clamped");
        assert_eq!(Scale::Greys.color(f64::NAN), WHITE);
        assert_ne!(Scale::Viridis.color(0.0), Scale::Viridis.color(1.0));
    }
}
