//! Histograms of oriented gradients (Dalal and Triggs, 2005): the image features the best
//! classical models of the leaderboard see.
//!
//! For each pixel, the gradient by central differences (the border pixel repeated); its
//! orientation, unsigned (0–180°), votes with its magnitude into the two nearest of `bins`
//! orientation bins of its cell (`cell × cell` pixels), shared linearly between them. Cells are
//! grouped into blocks of 2 × 2 cells, one cell apart; each block's histograms are normalised
//! by L2-Hys (L2 norm, values clipped at 0.2, L2 norm again), which makes the features
//! insensitive to contrast. A 28 × 28 image with 4-pixel cells and 9 bins gives 6 × 6 blocks
//! of 36 values: 1,296 features.
//!
//! Written here because it is fifty lines of arithmetic on 28 × 28 images (the crates that
//! compute HOG work on `image` buffers and pull in an image library).

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::data::SIDE;

/// Settings of the histograms; [`HogParams::default`] is 4-pixel cells and 9 bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HogParams {
    /// Side of a cell in pixels; it must divide 28.
    pub cell: usize,
    /// Orientation bins over 0–180°.
    pub bins: usize,
}

impl Default for HogParams {
    fn default() -> Self {
        HogParams { cell: 4, bins: 9 }
    }
}

impl HogParams {
    /// Cells along a side.
    fn cells(&self) -> usize {
        SIDE / self.cell
    }

    /// Features per image: blocks × 4 cells × bins.
    pub fn len(&self) -> usize {
        let blocks = self.cells().saturating_sub(1);
        blocks * blocks * 4 * self.bins
    }

    /// Whether the settings give no features (a cell as large as the image).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the settings describe a histogram this module computes: a cell that divides 28
    /// into at least two, and at least two bins.
    pub fn is_valid(&self) -> bool {
        self.cell >= 1 && SIDE.is_multiple_of(self.cell) && self.cells() >= 2 && self.bins >= 2
    }

    /// The features of every image (`n × 784` pixels, row-major), one row each, in parallel.
    ///
    /// # Panics
    /// If the settings are not [valid](HogParams::is_valid) or an image is not 784 pixels.
    pub fn transform(&self, images: ArrayView2<'_, u8>) -> Array2<f64> {
        assert!(self.is_valid(), "HOG settings {self:?}");
        assert_eq!(images.ncols(), SIDE * SIDE, "28 × 28 images");
        let mut out = Array2::<f64>::zeros((images.nrows(), self.len()));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(images.axis_iter(Axis(0)).into_par_iter())
            .for_each(|(mut row, image)| {
                let features = self.image(image.as_slice().expect("contiguous rows"));
                row.iter_mut()
                    .zip(features)
                    .for_each(|(o, v)| *o = f64::from(v));
            });
        out
    }

    /// The features of one image.
    fn image(&self, pixels: &[u8]) -> Vec<f32> {
        let (cells, bins) = (self.cells(), self.bins);
        let at = |r: usize, c: usize| f32::from(pixels[r * SIDE + c]);
        let mut hist = vec![0f32; cells * cells * bins];
        let bin_width = std::f32::consts::PI / bins as f32;
        for r in 0..SIDE {
            for c in 0..SIDE {
                let dx = at(r, (c + 1).min(SIDE - 1)) - at(r, c.saturating_sub(1));
                let dy = at((r + 1).min(SIDE - 1), c) - at(r.saturating_sub(1), c);
                let magnitude = dx.hypot(dy);
                if magnitude == 0.0 {
                    continue;
                }
                // Unsigned orientation in [0, π), then the two nearest bin centres.
                let angle = dy.atan2(dx).rem_euclid(std::f32::consts::PI);
                let position = angle / bin_width - 0.5;
                let lower = position.floor();
                let share = position - lower;
                let first = (lower as i64).rem_euclid(bins as i64) as usize;
                let second = (first + 1) % bins;
                let cell = (r / self.cell) * cells + c / self.cell;
                hist[cell * bins + first] += magnitude * (1.0 - share);
                hist[cell * bins + second] += magnitude * share;
            }
        }
        let mut features = Vec::with_capacity(self.len());
        let mut block = vec![0f32; 4 * bins];
        for br in 0..cells - 1 {
            for bc in 0..cells - 1 {
                for (k, (dr, dc)) in [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate() {
                    let cell = (br + dr) * cells + bc + dc;
                    block[k * bins..(k + 1) * bins]
                        .copy_from_slice(&hist[cell * bins..(cell + 1) * bins]);
                }
                l2_hys(&mut block);
                features.extend_from_slice(&block);
            }
        }
        features
    }
}

/// L2-Hys: scale to unit length, clip at 0.2, scale to unit length again (a block with no
/// gradient stays zero).
fn l2_hys(v: &mut [f32]) {
    let normalise = |v: &mut [f32]| {
        let norm = (v.iter().map(|x| x * x).sum::<f32>() + 1e-6).sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
    };
    normalise(v);
    v.iter_mut().for_each(|x| *x = x.min(0.2));
    normalise(v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::PIXELS;

    /// A vertical edge: left half black, right half white.
    fn edge() -> Vec<u8> {
        (0..PIXELS)
            .map(|p| if p % SIDE < SIDE / 2 { 255 } else { 0 })
            .collect()
    }

    #[test]
    fn sizes_follow_the_cells_and_bins() {
        assert_eq!(HogParams::default().len(), 6 * 6 * 4 * 9);
        assert_eq!(HogParams { cell: 7, bins: 9 }.len(), 3 * 3 * 36);
        assert!(
            !HogParams { cell: 5, bins: 9 }.is_valid(),
            "5 does not divide 28"
        );
        assert!(
            !HogParams { cell: 28, bins: 9 }.is_valid(),
            "a block needs two cells a side"
        );
        assert_eq!(HogParams { cell: 14, bins: 9 }.len(), 36, "one block");
    }

    #[test]
    fn a_vertical_edge_votes_into_the_horizontal_gradient_bin_of_its_cells() {
        let p = HogParams::default();
        let hist = p.image(&edge());
        assert_eq!(hist.len(), p.len());
        // Gradients point along x (0°): bin 0 and the last bin share them (centres at 10°
        // and 170°). Blocks away from the edge have no gradient at all.
        let first_block = &hist[..36];
        assert!(first_block.iter().all(|&v| v == 0.0), "no edge there");
        let at_edge = &hist[2 * 36..3 * 36]; // block (0, 2) covers columns 8-15
        let bin0: f32 = (0..4).map(|c| at_edge[c * 9]).sum();
        let others: f32 = (0..4).map(|c| at_edge[c * 9 + 4]).sum();
        assert!(bin0 > 0.1 && others == 0.0, "{at_edge:?}");
        let norm: f32 = at_edge.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-3,
            "L2-Hys gives unit blocks: {norm}"
        );
    }

    #[test]
    fn contrast_does_not_change_the_features() {
        let dark = edge();
        let faint: Vec<u8> = dark.iter().map(|&p| p / 5).collect();
        let p = HogParams::default();
        let (a, b) = (p.image(&dark), p.image(&faint));
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-3));
    }

    #[test]
    fn rows_are_computed_per_image() {
        let images = Array2::from_shape_fn((3, PIXELS), |(i, p)| ((i * 50 + p * 7) % 256) as u8);
        let p = HogParams { cell: 7, bins: 6 };
        let all = p.transform(images.view());
        assert_eq!(all.dim(), (3, p.len()));
        let one = p.image(images.row(1).as_slice().unwrap());
        assert!(all
            .row(1)
            .iter()
            .zip(&one)
            .all(|(a, b)| *a == f64::from(*b)));
    }
}
