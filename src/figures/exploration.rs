//! Figures 1–3: exemplar images, per-pixel mean and standard deviation, per-class heat maps.

use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::paint::{self, Scale};
use super::{DrawResult, Figure};
use crate::data::{Class, DataError, Split, N_CLASSES, SIDE};
use crate::explore::{self, PixelStats};

/// Height reserved for a title and subtitle.
const TOP: i32 = 80;

/// Figure 1: a few randomly drawn training images of each class, one row per class.
#[derive(Debug, Clone)]
pub struct Exemplars {
    rows: Vec<(Class, Vec<Array2<f64>>)>,
    seed: u64,
}

impl Exemplars {
    const CELL: i32 = 3;
    const GAP: i32 = 8;
    const LABEL_W: i32 = 120;

    /// `per_class` images of each class drawn from `split` with `seed`.
    pub fn new(split: &Split, per_class: usize, seed: u64) -> Result<Exemplars, DataError> {
        let indices = split.stratified_indices(per_class, seed)?;
        let mut rows: Vec<(Class, Vec<Array2<f64>>)> =
            Class::ALL.iter().map(|&c| (c, Vec::new())).collect();
        for i in indices {
            rows[usize::from(split.labels()[i])]
                .1
                .push(paint::as_image(split.images().row(i)));
        }
        Ok(Exemplars { rows, seed })
    }

    fn per_class(&self) -> usize {
        self.rows.first().map_or(0, |(_, images)| images.len())
    }

    fn tile() -> i32 {
        SIDE as i32 * Self::CELL + Self::GAP
    }
}

impl Figure for Exemplars {
    fn stem(&self) -> String {
        "fig01_exemplars".into()
    }

    fn size(&self) -> (u32, u32) {
        let w = Self::LABEL_W + self.per_class().max(4) as i32 * Self::tile() + 12;
        let h = TOP + self.rows.len() as i32 * Self::tile() + 8;
        (w as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            "Fashion-MNIST exemplars",
            &format!(
                "{} training images per class, drawn at random (seed {}); white = 0, black = 255",
                self.per_class(),
                self.seed
            ),
        )?;
        let side = SIDE as i32 * Self::CELL;
        for (r, (class, images)) in self.rows.iter().enumerate() {
            let y = TOP + r as i32 * Self::tile();
            paint::text(
                root,
                class.name(),
                (Self::LABEL_W - 12, y + side / 2),
                15.0,
                true,
                (HPos::Right, VPos::Center),
            )?;
            paint::image_row(root, (Self::LABEL_W, y), Self::CELL, Self::tile(), images)?;
        }
        Ok(())
    }
}

/// Figure 2: the mean and the standard deviation of every pixel, side by side.
#[derive(Debug, Clone)]
pub struct PixelMeanSd {
    stats: PixelStats,
}

impl PixelMeanSd {
    const CELL: i32 = 11;
    const PANEL_W: i32 = 460;
    const LEFT: i32 = 40;

    /// The figure of `stats` (see [`PixelStats::of`]).
    pub fn new(stats: &PixelStats) -> PixelMeanSd {
        PixelMeanSd {
            stats: stats.clone(),
        }
    }
}

impl Figure for PixelMeanSd {
    fn stem(&self) -> String {
        "fig02_pixel_mean_sd".into()
    }

    fn size(&self) -> (u32, u32) {
        let side = SIDE as i32 * Self::CELL;
        (
            (2 * Self::LEFT + 2 * Self::PANEL_W) as u32,
            (TOP + 40 + side + 24) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            "Pixel mean and standard deviation",
            &format!(
                "over the {} training images; darker = higher",
                paint::thousands(self.stats.n)
            ),
        )?;
        let side = SIDE as i32 * Self::CELL;
        let y = TOP + 40;
        for (i, (name, values)) in [
            ("Mean", &self.stats.mean),
            ("Standard deviation", &self.stats.sd),
        ]
        .into_iter()
        .enumerate()
        {
            let x = Self::LEFT + i as i32 * Self::PANEL_W;
            let max = values.iter().copied().fold(0.0, f64::max);
            let hi = paint::nice_ticks(0.0, max, 5).last().map_or(max, |&t| {
                if t < max {
                    t + (max - t).max(1.0)
                } else {
                    t
                }
            });
            paint::text(
                root,
                name,
                (x + side / 2, y - 10),
                17.0,
                true,
                (HPos::Center, VPos::Bottom),
            )?;
            paint::grid(
                root,
                (x, y),
                Self::CELL,
                paint::as_image(values.view()).view(),
                (0.0, hi),
                Scale::Greys,
            )?;
            paint::colorbar(
                root,
                (x + side + 24, y),
                (18, side),
                (0.0, hi),
                Scale::Greys,
                "grey level",
            )?;
        }
        Ok(())
    }
}

/// Figure 3: one 28 × 28 heat map per class, on a shared colour scale.
///
/// Two variants: [`ClassHeatmaps::mean_intensity`], what the study's caption describes, and
/// [`ClassHeatmaps::nonwhite_counts`], what the study's published image actually shows.
#[derive(Debug, Clone)]
pub struct ClassHeatmaps {
    stem: &'static str,
    title: String,
    subtitle: String,
    bar_label: String,
    values: Array2<f64>,
    range: (f64, f64),
    scale: Scale,
}

impl ClassHeatmaps {
    const CELL: i32 = 6;
    const COLS: i32 = 5;
    const GAP: i32 = 16;
    const PANEL_TITLE: i32 = 26;
    const LEFT: i32 = 24;
    const BAR_ZONE: i32 = 130;

    /// The mean intensity of each pixel within each class, white = 0 to black = 255.
    pub fn mean_intensity(split: &Split) -> ClassHeatmaps {
        let per_class = split.class_counts();
        ClassHeatmaps {
            stem: "fig03_class_mean_intensity",
            title: "Mean intensity of each pixel, by class".into(),
            subtitle: format!(
                "over {} training images ({} per class); darker = more ink",
                paint::thousands(split.len()),
                paint::thousands(per_class.iter().copied().min().unwrap_or(0)),
            ),
            bar_label: "mean grey level".into(),
            values: explore::class_means(split),
            range: (0.0, 255.0),
            scale: Scale::Greys,
        }
    }

    /// In how many of `per_class` sampled images of each class (seeded, stratified) each pixel
    /// is not white. The study drew a 10% sample: `per_class = 600` of the training set.
    pub fn nonwhite_counts(
        split: &Split,
        per_class: usize,
        seed: u64,
    ) -> Result<ClassHeatmaps, DataError> {
        let sample = split.stratified_sample(per_class, seed)?;
        Ok(ClassHeatmaps {
            stem: "fig03_class_nonwhite_counts",
            title: "Pixels in use, by class".into(),
            subtitle: format!(
                "in how many of {per_class} sampled training images per class (seed {seed}) each pixel is not white"
            ),
            bar_label: "images".into(),
            values: explore::class_nonwhite_counts(&sample).mapv(|c| c as f64),
            range: (0.0, per_class as f64),
            scale: Scale::Viridis,
        })
    }

    fn tile() -> (i32, i32) {
        let side = SIDE as i32 * Self::CELL;
        (side + Self::GAP, Self::PANEL_TITLE + side + 14)
    }
}

impl Figure for ClassHeatmaps {
    fn stem(&self) -> String {
        self.stem.into()
    }

    fn size(&self) -> (u32, u32) {
        let (tw, th) = Self::tile();
        let rows = (N_CLASSES as i32 + Self::COLS - 1) / Self::COLS;
        let w = Self::LEFT + Self::COLS * tw + Self::BAR_ZONE;
        ((w) as u32, (TOP + rows * th + 8) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(root, &self.title, &self.subtitle)?;
        let side = SIDE as i32 * Self::CELL;
        let (tw, th) = Self::tile();
        for (class, row) in Class::ALL.iter().zip(self.values.rows()) {
            let k = i32::from(class.label());
            let x = Self::LEFT + (k % Self::COLS) * tw;
            let y = TOP + (k / Self::COLS) * th + Self::PANEL_TITLE;
            paint::text(
                root,
                class.name(),
                (x + side / 2, y - 6),
                15.0,
                true,
                (HPos::Center, VPos::Bottom),
            )?;
            paint::grid(
                root,
                (x, y),
                Self::CELL,
                paint::as_image(row).view(),
                self.range,
                self.scale,
            )?;
        }
        let rows = (N_CLASSES as i32 + Self::COLS - 1) / Self::COLS;
        let bar_top = TOP + Self::PANEL_TITLE + 16;
        paint::colorbar(
            root,
            (Self::LEFT + Self::COLS * tw + 30, bar_top),
            (18, rows * th - Self::PANEL_TITLE - 40),
            self.range,
            self.scale,
            &self.bar_label,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::{to_png, to_svg};
    use ndarray::Array1;

    /// 30 images, 3 per class, each class a different block of ink.
    fn toy_split() -> Split {
        let n = 30;
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let images = Array2::from_shape_fn((n, SIDE * SIDE), |(i, p)| {
            if p / SIDE == labels[i] as usize + 5 {
                200
            } else {
                0
            }
        });
        Split::new(images, Array1::from(labels)).unwrap()
    }

    fn renders<F: Figure>(fig: &F) {
        let png = to_png(fig).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let svg = to_svg(fig).unwrap();
        assert!(svg.contains("<svg"));
        for class in Class::ALL {
            assert!(svg.contains(class.name()), "{} is labelled", class);
        }
    }

    #[test]
    fn exemplars_render_every_class_by_name() {
        let fig = Exemplars::new(&toy_split(), 3, 1).unwrap();
        assert_eq!(fig.per_class(), 3);
        renders(&fig);
        assert!(Exemplars::new(&toy_split(), 4, 1).is_err());
    }

    #[test]
    fn pixel_mean_sd_renders() {
        let split = toy_split();
        let fig = PixelMeanSd::new(&PixelStats::of(split.images()));
        let svg = to_svg(&fig).unwrap();
        assert!(svg.contains("Standard deviation") && svg.contains("30 training images"));
        assert_eq!(&to_png(&fig).unwrap()[1..4], b"PNG");
    }

    #[test]
    fn class_heatmaps_render_both_variants() {
        let split = toy_split();
        let mean = ClassHeatmaps::mean_intensity(&split);
        assert_eq!(mean.values[[3, 8 * SIDE + 1]], 200.0);
        renders(&mean);
        let counts = ClassHeatmaps::nonwhite_counts(&split, 2, 5).unwrap();
        assert_eq!(counts.values[[3, 8 * SIDE + 1]], 2.0);
        assert_eq!(counts.values[[3, 0]], 0.0);
        renders(&counts);
    }
}
