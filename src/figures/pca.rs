//! Figures 5–8: the PCA of the training images.

use ndarray::{Array1, Array2};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::paint::{self, Scale, FONT};
use super::{DrawResult, Figure};
use crate::data::{Class, Split, N_CLASSES, SIDE};
use crate::pca::{Pca, PcaError};

const TOP: i32 = 80;

/// Figure 5: the scree plot of the first components and the cumulative explained variance.
#[derive(Debug, Clone)]
pub struct PcaScree {
    ratio: Array1<f64>,
    cumulative: Array1<f64>,
    threshold: f64,
    needed: usize,
    n_samples: usize,
}

impl PcaScree {
    /// PCs shown in the scree panel.
    pub const SCREE: usize = 20;
    /// PCs shown in the cumulative panel.
    pub const CUMULATIVE: usize = 200;

    /// The figure of `pca`, marking the components needed for `threshold` (e.g. 0.95).
    pub fn new(pca: &Pca, threshold: f64) -> PcaScree {
        PcaScree {
            ratio: pca.explained_variance_ratio(),
            cumulative: pca.cumulative_variance_ratio(),
            threshold,
            needed: pca.components_for(threshold),
            n_samples: pca.n_samples(),
        }
    }
}

impl Figure for PcaScree {
    fn stem(&self) -> String {
        "fig05_pca_scree".into()
    }

    fn size(&self) -> (u32, u32) {
        (1000, 480)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            "Variance explained by the principal components",
            &format!(
                "PCA of the {} training images, centred, not scaled",
                paint::thousands(self.n_samples)
            ),
        )?;
        let body = root.margin(TOP, 10, 10, 10);
        let (left, right) = body.split_horizontally(500);

        let n = Self::SCREE.min(self.ratio.len());
        let top = self.ratio.iter().take(n).copied().fold(0.0, f64::max) * 100.0 * 1.08;
        let mut chart = ChartBuilder::on(&left)
            .caption("Scree plot: PC1–PC20", (FONT, 17, FontStyle::Bold))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(58)
            .build_cartesian_2d(0.5f64..n as f64 + 0.5, 0.0f64..top)?;
        paint::axes(&mut chart, "principal component", "variance explained (%)")?;
        chart.draw_series(LineSeries::new(
            (0..n).map(|i| (i as f64 + 1.0, self.ratio[i] * 100.0)),
            BLACK.stroke_width(2),
        ))?;
        chart.draw_series(
            (0..n).map(|i| Circle::new((i as f64 + 1.0, self.ratio[i] * 100.0), 3, BLACK.filled())),
        )?;
        paint::hline(&mut chart, 1.0, &RED, "1% of the variance")?;

        let m = Self::CUMULATIVE.min(self.cumulative.len());
        let mut chart = ChartBuilder::on(&right)
            .caption("Cumulative: PC1–PC200", (FONT, 17, FontStyle::Bold))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(58)
            .build_cartesian_2d(0f64..m as f64, 0.0f64..100.0)?;
        paint::axes(
            &mut chart,
            "number of components",
            "cumulative variance explained (%)",
        )?;
        chart.draw_series(LineSeries::new(
            (0..m).map(|i| (i as f64 + 1.0, self.cumulative[i] * 100.0)),
            BLACK.stroke_width(2),
        ))?;
        let pct = self.threshold * 100.0;
        paint::hline(&mut chart, pct, &RED, &format!("{pct:.0}% of the variance"))?;
        if self.needed <= m {
            let x = self.needed as f64;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x, 0.0), (x, pct)],
                BLUE.stroke_width(1),
            )))?;
            chart.draw_series(std::iter::once(Circle::new((x, pct), 5, BLUE.filled())))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{} components", self.needed),
                (x, pct - 12.0),
                (FONT, 14)
                    .into_font()
                    .color(&BLUE)
                    .pos(plotters::style::text_anchor::Pos::new(
                        HPos::Right,
                        VPos::Center,
                    )),
            )))?;
        }
        Ok(())
    }
}

/// Figure 6: principal components drawn as images, with their share of the variance.
///
/// Dark is positive, as in the study's figure and in Figures 1–3 and 8 (dark = high): with the
/// sign convention of [`Pca`], PC1 is dark over the tops of garments, as the study's text says.
#[derive(Debug, Clone)]
pub struct PcaComponents {
    panels: Vec<(usize, Array2<f64>, f64)>,
}

impl PcaComponents {
    const CELL: i32 = 7;
    const COLS: i32 = 3;
    const BAR_ZONE: i32 = 150;

    /// Components `which` (1-based, as the study numbers them: 1, 2, 3, 4, 392, 784).
    pub fn new(pca: &Pca, which: &[usize]) -> PcaComponents {
        let ratio = pca.explained_variance_ratio();
        PcaComponents {
            panels: which
                .iter()
                .filter(|&&k| k >= 1 && k <= pca.n_components())
                .map(|&k| (k, pca.component_image(k - 1), ratio[k - 1]))
                .collect(),
        }
    }

    fn tile() -> (i32, i32) {
        let side = SIDE as i32 * Self::CELL;
        (side + 40, side + 44)
    }

    fn rows(&self) -> i32 {
        (self.panels.len() as i32 + Self::COLS - 1) / Self::COLS
    }
}

impl Figure for PcaComponents {
    fn stem(&self) -> String {
        "fig06_pca_components".into()
    }

    fn size(&self) -> (u32, u32) {
        let (tw, th) = Self::tile();
        (
            (30 + Self::COLS * tw + Self::BAR_ZONE) as u32,
            (TOP + self.rows() * th + 10) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            "Principal components as images",
            "each pixel's loading, scaled to the panel's largest: dark = positive, mid grey = 0, \
             white = negative",
        )?;
        let side = SIDE as i32 * Self::CELL;
        let (tw, th) = Self::tile();
        for (i, (k, image, ratio)) in self.panels.iter().enumerate() {
            // Each component is a unit vector, so each panel is scaled to its own largest
            // loading: the pattern is what a reader compares.
            let m = image.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let (x, y) = (
                30 + (i as i32 % Self::COLS) * tw,
                TOP + (i as i32 / Self::COLS) * th + 28,
            );
            paint::text(
                root,
                &format!("PC{k}: {} of variance", paint::percent(*ratio)),
                (x + side / 2, y - 8),
                15.0,
                true,
                (HPos::Center, VPos::Bottom),
            )?;
            paint::grid(
                root,
                (x, y),
                Self::CELL,
                image.view(),
                (-m, m),
                Scale::Greys,
            )?;
        }
        let bar_x = 30 + Self::COLS * tw + 20;
        paint::colorbar(
            root,
            (bar_x, TOP + 50),
            (18, self.rows() * th - 90),
            (-1.0, 1.0),
            Scale::Greys,
            "loading ÷ largest",
        )
    }
}

/// Figure 7: the training images on the first two components, coloured by class, with each
/// class's mean labelled.
///
/// The points are drawn in a seeded random order, so that no class hides the others by being
/// drawn last; each axis says its component's share of the variance.
#[derive(Debug, Clone)]
pub struct PcaProjection {
    points: Array2<f64>,
    labels: Vec<u8>,
    /// The order the points are drawn in: a seeded permutation.
    order: Vec<usize>,
    means: Vec<(f64, f64)>,
    share: (f64, f64),
    step: usize,
    seed: u64,
}

impl PcaProjection {
    /// PC1–PC2 scores of every image of `split` on `pca`, drawn in an order shuffled with
    /// `seed`.
    pub fn new(pca: &Pca, split: &Split, seed: u64) -> Result<PcaProjection, PcaError> {
        let points = pca.transform(split.images(), 2)?;
        let labels = split.labels().to_vec();
        let mut sums = vec![(0.0, 0.0, 0usize); N_CLASSES];
        for (p, &l) in points.rows().into_iter().zip(&labels) {
            let s = &mut sums[usize::from(l)];
            s.0 += p[0];
            s.1 += p[1];
            s.2 += 1;
        }
        let means = sums
            .into_iter()
            .map(|(x, y, n)| (x / n.max(1) as f64, y / n.max(1) as f64))
            .collect();
        let mut order: Vec<usize> = (0..labels.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let ratio = pca.explained_variance_ratio();
        Ok(PcaProjection {
            points,
            labels,
            order,
            means,
            share: (ratio[0], ratio[1]),
            step: 1,
            seed,
        })
    }

    /// The same figure drawing only every `step`-th point of the shuffled order (the class
    /// means stay exact): an SVG of all 60,000 points is megabytes, one of every twelfth reads
    /// the same.
    pub fn thinned(&self, step: usize) -> PcaProjection {
        PcaProjection {
            step: step.max(1),
            ..self.clone()
        }
    }
}

impl Figure for PcaProjection {
    fn stem(&self) -> String {
        "fig07_pca_projection".into()
    }

    fn size(&self) -> (u32, u32) {
        (1000, 760)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let n = self.labels.len();
        let shown = if self.step == 1 {
            format!(
                "all {} training images, drawn in random order (seed {})",
                paint::thousands(n),
                self.seed
            )
        } else {
            format!(
                "every {}th of the {} training images in random order (seed {}): {} points; \
                 class means from all",
                self.step,
                paint::thousands(n),
                self.seed,
                paint::thousands(n.div_ceil(self.step))
            )
        };
        paint::title(
            root,
            "The training images on the first two principal components",
            &shown,
        )?;
        let body = root.margin(TOP - 10, 10, 10, 10);
        let (plot, legend) = body.split_horizontally(820);
        let range = |c: usize| {
            let col = self.points.column(c);
            let (lo, hi) = col
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
            let pad = 0.03 * (hi - lo);
            (lo - pad)..(hi + pad)
        };
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(range(0), range(1))?;
        paint::axes(
            &mut chart,
            &format!(
                "PC1 score ({} of the variance)",
                paint::percent(self.share.0)
            ),
            &format!(
                "PC2 score ({} of the variance)",
                paint::percent(self.share.1)
            ),
        )?;
        chart.draw_series(self.order.iter().step_by(self.step).map(|&i| {
            let l = self.labels[i];
            let (x, y) = (self.points[[i, 0]], self.points[[i, 1]]);
            Circle::new((x, y), 1, paint::class_color(l).mix(0.35).filled())
        }))?;
        for (c, &(x, y)) in self.means.iter().enumerate() {
            chart.draw_series(std::iter::once(Circle::new(
                (x, y),
                7,
                paint::class_color(c as u8).filled(),
            )))?;
            chart.draw_series(std::iter::once(Circle::new(
                (x, y),
                7,
                BLACK.stroke_width(2),
            )))?;
        }
        // Labels last, each on a white box, so that no point or dot covers one.
        for (c, &(x, y)) in self.means.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(x, y));
            let at = (
                px - plot.get_base_pixel().0 + 11,
                py - plot.get_base_pixel().1,
            );
            paint::label_on_white(&plot, Class::ALL[c].name(), at, 15.0, true)?;
        }
        paint::class_legend(&legend, (10, 40), "class (dot: mean)")
    }
}

/// Figure 8: original images beside their reconstructions from the first `k` components.
#[derive(Debug, Clone)]
pub struct Reconstructions {
    originals: Vec<(Class, Array2<f64>)>,
    rebuilt: Vec<Array2<f64>>,
    k: usize,
    share: f64,
}

impl Reconstructions {
    const CELL: i32 = 4;

    /// The first image of each class in `split`, and its reconstruction from `k` components.
    pub fn new(pca: &Pca, split: &Split, k: usize) -> Result<Reconstructions, PcaError> {
        let chosen = split.first_of_each_class();
        let rebuilt = pca.reconstruct(chosen.images(), k)?;
        let share = pca.cumulative_variance_ratio()[k.max(1) - 1];
        Ok(Reconstructions {
            originals: (0..chosen.len())
                .map(|i| (chosen.class(i), paint::as_image(chosen.images().row(i))))
                .collect(),
            rebuilt: rebuilt.rows().into_iter().map(paint::as_image).collect(),
            k,
            share,
        })
    }

    fn tile() -> i32 {
        SIDE as i32 * Self::CELL + 10
    }
}

impl Figure for Reconstructions {
    fn stem(&self) -> String {
        "fig08_pca_reconstruction".into()
    }

    fn size(&self) -> (u32, u32) {
        let w = 150 + self.originals.len() as i32 * Self::tile() + 10;
        (w as u32, (TOP + 30 + 2 * Self::tile() + 10) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            &format!("Images rebuilt from {} principal components", self.k),
            &format!(
                "top: the first training image of each class; bottom: its projection on PC1–PC{} ({:.1}% of the variance) and back",
                self.k,
                self.share * 100.0
            ),
        )?;
        let side = SIDE as i32 * Self::CELL;
        let y0 = TOP + 30;
        for (label, row) in [("original", 0), (&*format!("{} components", self.k), 1)] {
            paint::text(
                root,
                label,
                (140, y0 + row * Self::tile() + side / 2),
                15.0,
                true,
                (HPos::Right, VPos::Center),
            )?;
        }
        for (i, ((class, original), rebuilt)) in
            self.originals.iter().zip(&self.rebuilt).enumerate()
        {
            let x = 150 + i as i32 * Self::tile();
            paint::text(
                root,
                class.name(),
                (x + side / 2, y0 - 6),
                13.0,
                true,
                (HPos::Center, VPos::Bottom),
            )?;
            paint::grid(
                root,
                (x, y0),
                Self::CELL,
                original.view(),
                (0.0, 255.0),
                Scale::Greys,
            )?;
            paint::grid(
                root,
                (x, y0 + Self::tile()),
                Self::CELL,
                rebuilt.view(),
                (0.0, 255.0),
                Scale::Greys,
            )?;
        }
        Ok(())
    }
}

/// Beyond the study: images rebuilt from several numbers of components side by side (the
/// study's Figure 8 shows 187 only), each column headed by the share of the variance it keeps.
#[derive(Debug, Clone)]
pub struct ReconstructionLadder {
    /// Each class's first training image: the original, then one rebuild per column.
    rows: Vec<(Class, Vec<Array2<f64>>)>,
    /// Components of each rebuilt column and the share of the variance they keep.
    columns: Vec<(usize, f64)>,
}

impl ReconstructionLadder {
    const CELL: i32 = 3;
    const GAP: i32 = 10;
    const LABEL_W: i32 = 120;
    /// Column pitch: wide enough for "95.00% of the variance" under each image.
    const STEP: i32 = 160;

    /// The first image of each class in `split`, and its reconstructions from each of
    /// `components` (e.g. 10, 50, 187, 784).
    pub fn new(
        pca: &Pca,
        split: &Split,
        components: &[usize],
    ) -> Result<ReconstructionLadder, PcaError> {
        let chosen = split.first_of_each_class();
        let mut rows: Vec<(Class, Vec<Array2<f64>>)> = (0..chosen.len())
            .map(|i| {
                (
                    chosen.class(i),
                    vec![paint::as_image(chosen.images().row(i))],
                )
            })
            .collect();
        let cumulative = pca.cumulative_variance_ratio();
        let mut columns = Vec::with_capacity(components.len());
        for &k in components {
            let rebuilt = pca.reconstruct(chosen.images(), k)?;
            for (row, r) in rows.iter_mut().zip(rebuilt.rows()) {
                row.1.push(paint::as_image(r));
            }
            columns.push((k, if k == 0 { 0.0 } else { cumulative[k - 1] }));
        }
        Ok(ReconstructionLadder { rows, columns })
    }

    fn tile() -> i32 {
        SIDE as i32 * Self::CELL + Self::GAP
    }
}

impl Figure for ReconstructionLadder {
    fn stem(&self) -> String {
        "fig17_pca_reconstruction_ladder".into()
    }

    fn size(&self) -> (u32, u32) {
        let w = Self::LABEL_W + (self.columns.len() as i32 + 1) * Self::STEP + 10;
        (
            w as u32,
            (TOP + 50 + self.rows.len() as i32 * Self::tile() + 8) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            "Images rebuilt from more and more principal components",
            "the first training image of each class, and its projection on PC1–PCk and back",
        )?;
        let side = SIDE as i32 * Self::CELL;
        let step = Self::STEP;
        let y0 = TOP + 50;
        let headings = std::iter::once(("original".to_string(), String::new())).chain(
            self.columns
                .iter()
                .map(|&(k, share)| (format!("{k} components"), paint::percent(share))),
        );
        for (j, (heading, share)) in headings.enumerate() {
            let x = Self::LABEL_W + j as i32 * step + side / 2;
            paint::text(
                root,
                &heading,
                (x, y0 - 26),
                13.0,
                true,
                (HPos::Center, VPos::Bottom),
            )?;
            if !share.is_empty() {
                paint::text(
                    root,
                    &format!("{share} of the variance"),
                    (x, y0 - 8),
                    12.0,
                    false,
                    (HPos::Center, VPos::Bottom),
                )?;
            }
        }
        for (r, (class, images)) in self.rows.iter().enumerate() {
            let y = y0 + r as i32 * Self::tile();
            paint::text(
                root,
                class.name(),
                (Self::LABEL_W - 12, y + side / 2),
                14.0,
                true,
                (HPos::Right, VPos::Center),
            )?;
            paint::image_row(root, (Self::LABEL_W, y), Self::CELL, step, images)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::PIXELS;
    use crate::figures::{to_png, to_svg};
    use ndarray::Array1;

    fn toy() -> (Split, Pca) {
        let n = 40;
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let images = Array2::from_shape_fn((n, PIXELS), |(i, p)| {
            ((i * 31 + p * 7 + (p / SIDE) * i) % 256) as u8
        });
        let split = Split::new(images, Array1::from(labels)).unwrap();
        let pca = Pca::fit(split.images()).unwrap();
        (split, pca)
    }

    fn renders<F: Figure>(fig: &F, must_say: &[&str]) {
        assert_eq!(&to_png(fig).unwrap()[1..4], b"PNG");
        let svg = to_svg(fig).unwrap();
        for s in must_say {
            assert!(svg.contains(s), "{s:?} missing from {}", fig.stem());
        }
    }

    #[test]
    fn scree_marks_the_components_needed() {
        let (_, pca) = toy();
        let fig = PcaScree::new(&pca, 0.95);
        renders(
            &fig,
            &[
                "Scree plot",
                "95% of the variance",
                &format!("{} components", pca.components_for(0.95)),
            ],
        );
    }

    #[test]
    fn components_show_the_requested_pcs_that_exist() {
        let (_, pca) = toy();
        let fig = PcaComponents::new(&pca, &[1, 2, 3, 4, 392, 784, 785]);
        assert_eq!(fig.panels.len(), 6, "PC785 does not exist");
        renders(&fig, &["PC1:", "PC784:"]);
    }

    #[test]
    fn projection_labels_every_class_and_thins_for_svg() {
        let (split, pca) = toy();
        let fig = PcaProjection::new(&pca, &split, 3).unwrap();
        renders(
            &fig,
            &[
                "Ankle boot",
                "T-shirt/top",
                "all 40 training images, drawn in random order (seed 3)",
                "PC1 score (",
            ],
        );
        let thin = fig.thinned(10);
        renders(
            &thin,
            &["every 10th of the 40 training images", ": 4 points"],
        );
        assert_eq!(thin.means, fig.means, "means use every point");
        let mut order = fig.order.clone();
        assert_ne!(order, (0..40).collect::<Vec<_>>(), "shuffled");
        order.sort_unstable();
        assert_eq!(order, (0..40).collect::<Vec<_>>(), "each point once");
        let again = PcaProjection::new(&pca, &split, 3).unwrap();
        assert_eq!(again.order, fig.order, "the seed decides the order");
    }

    #[test]
    fn the_ladder_rebuilds_each_class_at_every_count_and_all_components_exactly() {
        let (split, pca) = toy();
        let fig = ReconstructionLadder::new(&pca, &split, &[2, 10, 784]).unwrap();
        assert_eq!(fig.rows.len(), 10);
        assert!(fig.rows.iter().all(|(_, images)| images.len() == 4));
        for (_, images) in &fig.rows {
            assert!((&images[0] - &images[3]).iter().all(|d| d.abs() < 1e-6));
        }
        assert!(
            (fig.columns[2].1 - 1.0).abs() < 1e-9,
            "784 components keep it all"
        );
        renders(
            &fig,
            &["10 components", "100.00% of the variance", "Ankle boot"],
        );
        assert!(ReconstructionLadder::new(&pca, &split, &[785]).is_err());
    }

    #[test]
    fn reconstructions_pair_each_class_with_its_rebuild() {
        let (split, pca) = toy();
        let fig = Reconstructions::new(&pca, &split, 5).unwrap();
        assert_eq!(fig.originals.len(), 10);
        renders(&fig, &["5 components", "Sneaker"]);
        let exact = Reconstructions::new(&pca, &split, 784).unwrap();
        for ((_, o), r) in exact.originals.iter().zip(&exact.rebuilt) {
            assert!(
                (o - r).iter().all(|d| d.abs() < 1e-6),
                "all components rebuild exactly"
            );
        }
    }
}
