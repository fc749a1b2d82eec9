//! Per-pixel statistics behind the study's exploratory figures (Figures 2 and 3).
//!
//! Sums run over exact integers (`u64`), in parallel over blocks of rows, so the result does
//! not depend on the number of threads.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::data::{Split, N_CLASSES, PIXELS};

/// Rows per parallel block: large enough to amortise the per-block buffers.
const BLOCK: usize = 2048;

/// Mean and sample standard deviation (denominator n − 1, as R's `sd`) of each pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelStats {
    /// Images the statistics summarise.
    pub n: usize,
    /// Mean of each of the 784 pixels, 0 to 255.
    pub mean: Array1<f64>,
    /// Standard deviation of each pixel.
    pub sd: Array1<f64>,
}

impl PixelStats {
    /// The statistics of `images` (`n × 784`, n ≥ 2).
    pub fn of(images: ArrayView2<'_, u8>) -> PixelStats {
        let (sum, sum_sq) = images
            .axis_chunks_iter(Axis(0), BLOCK)
            .into_par_iter()
            .map(|block| {
                let mut sum = vec![0u64; block.ncols()];
                let mut sum_sq = vec![0u64; block.ncols()];
                for row in block.rows() {
                    for ((s, q), &v) in sum.iter_mut().zip(&mut sum_sq).zip(row) {
                        let v = u64::from(v);
                        *s += v;
                        *q += v * v;
                    }
                }
                (sum, sum_sq)
            })
            .reduce(
                || (vec![0; images.ncols()], vec![0; images.ncols()]),
                |(mut s1, mut q1), (s2, q2)| {
                    s1.iter_mut().zip(s2).for_each(|(a, b)| *a += b);
                    q1.iter_mut().zip(q2).for_each(|(a, b)| *a += b);
                    (s1, q1)
                },
            );
        let n = images.nrows();
        let nf = n as f64;
        let mean = sum.iter().map(|&s| s as f64 / nf).collect();
        // n·Σx² − (Σx)² is exact in integers (< 2^63 for up to 10^8 images of u8).
        let sd = sum
            .iter()
            .zip(&sum_sq)
            .map(|(&s, &q)| {
                let spread = u128::from(q) * n as u128 - u128::from(s) * u128::from(s);
                (spread as f64 / (nf * (nf - 1.0))).sqrt()
            })
            .collect();
        PixelStats { n, mean, sd }
    }
}

/// The mean intensity of each pixel within each class: `10 × 784`, row = label.
pub fn class_means(split: &Split) -> Array2<f64> {
    let counts = split.class_counts();
    let sums = per_class_sums(split, u64::from);
    Array2::from_shape_fn((N_CLASSES, PIXELS), |(c, p)| {
        sums[[c, p]] as f64 / counts[c].max(1) as f64
    })
}

/// For each class, the number of its images in which each pixel is not white (non-zero):
/// `10 × 784`, row = label. The study's own Figure 3 image shows this count.
pub fn class_nonwhite_counts(split: &Split) -> Array2<u64> {
    per_class_sums(split, |v| u64::from(v != 0))
}

fn per_class_sums(split: &Split, f: impl Fn(u8) -> u64 + Sync) -> Array2<u64> {
    let images = split.images();
    let labels = split.labels();
    (0..split.len())
        .into_par_iter()
        .step_by(BLOCK)
        .map(|start| {
            let mut acc = Array2::<u64>::zeros((N_CLASSES, PIXELS));
            for i in start..(start + BLOCK).min(split.len()) {
                let mut row = acc.row_mut(usize::from(labels[i]));
                row.iter_mut()
                    .zip(images.row(i))
                    .for_each(|(a, &v)| *a += f(v));
            }
            acc
        })
        .reduce(|| Array2::zeros((N_CLASSES, PIXELS)), |a, b| a + b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    #[test]
    fn pixel_stats_match_hand_computation() {
        // Pixel 0 takes 0, 2, 4 (mean 2, sd 2); pixel 1 is constant 7 (sd 0).
        let mut images = Array2::<u8>::zeros((3, PIXELS));
        for (i, v) in [0u8, 2, 4].into_iter().enumerate() {
            images[[i, 0]] = v;
            images[[i, 1]] = 7;
        }
        let stats = PixelStats::of(images.view());
        assert_eq!(stats.n, 3);
        assert_eq!(stats.mean[0], 2.0);
        assert!((stats.sd[0] - 2.0).abs() < 1e-12);
        assert_eq!((stats.mean[1], stats.sd[1]), (7.0, 0.0));
    }

    #[test]
    fn pixel_stats_do_not_depend_on_blocking() {
        let images = Array2::from_shape_fn((BLOCK * 2 + 17, PIXELS), |(i, j)| {
            ((i * 31 + j * 7) % 256) as u8
        });
        let whole = PixelStats::of(images.view());
        let mean0 = images.column(5).mapv(f64::from).mean().unwrap();
        assert!((whole.mean[5] - mean0).abs() < 1e-9);
        let sd0 = images.column(5).mapv(f64::from).std(1.0);
        assert!((whole.sd[5] - sd0).abs() < 1e-9);
    }

    #[test]
    fn class_means_and_nonwhite_counts() {
        let mut images = Array2::<u8>::zeros((3, PIXELS));
        images[[0, 10]] = 100; // class 2
        images[[1, 10]] = 0; // class 2
        images[[2, 10]] = 50; // class 9
        let split = Split::new(images, Array1::from(vec![2, 2, 9])).unwrap();
        let means = class_means(&split);
        assert_eq!(means[[2, 10]], 50.0);
        assert_eq!(means[[9, 10]], 50.0);
        assert_eq!(means[[0, 10]], 0.0, "an empty class has mean 0");
        let counts = class_nonwhite_counts(&split);
        assert_eq!(
            counts.column(10).to_vec(),
            array![0, 0, 1, 0, 0, 0, 0, 0, 0, 1].to_vec()
        );
    }
}
