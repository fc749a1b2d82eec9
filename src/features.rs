//! The study's 84 engineered features (section 2.1), each a share in `[0, 1]`.
//!
//! In order, with the names [`feature_names`] gives them:
//!
//! | features | count | definition |
//! | --- | ---: | --- |
//! | `shade_0`, `shade_1_46`, `shade_47_93`, `shade_94_168`, `shade_169_205`, `shade_206_255` | 6 | share of the 784 pixels in each grey-level band (inclusive) |
//! | `row_00_nonzero` … `row_27_nonzero` | 28 | share of non-white (non-zero) pixels in each row, row 0 at the top |
//! | `col_00_nonzero` … `col_27_nonzero` | 28 | share of non-white pixels in each column |
//! | `{block}_nonzero`, `{block}_light_1_122` | 20 | for each of ten [`BLOCKS`], the share of non-white pixels and of light-grey pixels (1–122) |
//! | `rows_all_zero`, `cols_all_zero` | 2 | share of rows (columns) entirely white; see [`LineSummary`] |
//!
//! Written by hand: the features are the study's own definitions and fit in one pass over
//! each image; no crate computes them.

use std::ops::RangeInclusive;
use std::sync::OnceLock;

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use crate::data::{PIXELS, SIDE};

/// Number of engineered features.
pub const N_FEATURES: usize = 84;

/// The six grey-level bands, inclusive, as the study lists them.
pub const SHADES: [RangeInclusive<u8>; 6] =
    [0..=0, 1..=46, 47..=93, 94..=168, 169..=205, 206..=255];

/// Light grey, as the block features count it.
pub const LIGHT: RangeInclusive<u8> = 1..=122;

/// A rectangular region of the image, rows and columns 0-based and inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Name used in the feature names.
    pub name: &'static str,
    /// Rows, 0 at the top.
    pub rows: RangeInclusive<usize>,
    /// Columns, 0 at the left.
    pub cols: RangeInclusive<usize>,
}

impl Block {
    /// Pixels in the block.
    pub fn area(&self) -> usize {
        self.rows.clone().count() * self.cols.clone().count()
    }
}

const fn block(
    name: &'static str,
    rows: RangeInclusive<usize>,
    cols: RangeInclusive<usize>,
) -> Block {
    Block { name, rows, cols }
}

/// The ten custom blocks the study chose by looking at the per-class heat maps (Figure 3).
pub const BLOCKS: [Block; 10] = [
    block("collar", 0..=2, 11..=17),
    block("short_sleeve", 8..=14, 1..=11),
    block("trouser_legs", 8..=24, 11..=17),
    block("shoulder", 0..=5, 1..=9),
    block("sneaker_top", 3..=11, 18..=26),
    block("centre", 7..=21, 6..=20),
    block("bag_handle", 4..=12, 9..=19),
    block("footwear", 6..=22, 0..=27),
    block("sleeve", 12..=27, 3..=9),
    block("heel", 18..=24, 15..=23),
];

/// What the last two features count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum LineSummary {
    /// Rows (columns) whose 28 pixels are all white, as the study's text defines them.
    #[default]
    AllWhite,
    /// Rows (columns) whose 28 pixels are all non-white, as the study's code computed them.
    AllInked,
}

/// The feature builder's settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FeatureParams {
    /// Which row/column summary to compute.
    pub line_summary: LineSummary,
}

impl FeatureParams {
    /// The study's code variant of the row/column summaries instead of the text's.
    pub fn with_line_summary(mut self, line_summary: LineSummary) -> Self {
        self.line_summary = line_summary;
        self
    }

    /// The 84 features of each image of `images` (`n × 784`), in parallel over images.
    pub fn transform(&self, images: ArrayView2<'_, u8>) -> Array2<f64> {
        let mut out = Array2::zeros((images.nrows(), N_FEATURES));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(images.axis_iter(Axis(0)))
            .for_each(|(mut row, image)| {
                let f = self.features_of(image);
                row.iter_mut().zip(f).for_each(|(o, v)| *o = v);
            });
        out
    }

    /// The 84 features of one image (784 pixels, row-major).
    ///
    /// # Panics
    /// If `image` does not hold 784 pixels.
    pub fn features_of(&self, image: ArrayView1<'_, u8>) -> [f64; N_FEATURES] {
        assert_eq!(image.len(), PIXELS, "an image has 784 pixels");
        let px = |r: usize, c: usize| image[r * SIDE + c];
        let mut shades = [0usize; 6];
        let mut row_inked = [0usize; SIDE];
        let mut col_inked = [0usize; SIDE];
        for (p, &v) in image.iter().enumerate() {
            shades[SHADES
                .iter()
                .position(|s| s.contains(&v))
                .expect("bands cover 0..=255")] += 1;
            if v != 0 {
                row_inked[p / SIDE] += 1;
                col_inked[p % SIDE] += 1;
            }
        }

        let side = SIDE as f64;
        let mut f = [0.0; N_FEATURES];
        let mut k = 0;
        let mut push = |v: f64| {
            f[k] = v;
            k += 1;
        };
        shades.iter().for_each(|&n| push(n as f64 / PIXELS as f64));
        row_inked.iter().for_each(|&n| push(n as f64 / side));
        col_inked.iter().for_each(|&n| push(n as f64 / side));
        for b in &BLOCKS {
            let (mut inked, mut light) = (0usize, 0usize);
            for r in b.rows.clone() {
                for c in b.cols.clone() {
                    let v = px(r, c);
                    inked += usize::from(v != 0);
                    light += usize::from(LIGHT.contains(&v));
                }
            }
            let area = b.area() as f64;
            push(inked as f64 / area);
            push(light as f64 / area);
        }
        let target = match self.line_summary {
            LineSummary::AllWhite => 0,
            LineSummary::AllInked => SIDE,
        };
        let share =
            |counts: &[usize; SIDE]| counts.iter().filter(|&&n| n == target).count() as f64 / side;
        push(share(&row_inked));
        push(share(&col_inked));
        f
    }
}

/// The names of the 84 features, in order (see the module table).
pub fn feature_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = SHADES
            .iter()
            .map(|s| match (s.start(), s.end()) {
                (a, b) if a == b => format!("shade_{a}"),
                (a, b) => format!("shade_{a}_{b}"),
            })
            .collect();
        names.extend((0..SIDE).map(|r| format!("row_{r:02}_nonzero")));
        names.extend((0..SIDE).map(|c| format!("col_{c:02}_nonzero")));
        for b in &BLOCKS {
            names.push(format!("{}_nonzero", b.name));
            names.push(format!(
                "{}_light_{}_{}",
                b.name,
                LIGHT.start(),
                LIGHT.end()
            ));
        }
        names.push("rows_all_zero".into());
        names.push("cols_all_zero".into());
        names
    })
}

/// Features as a polars DataFrame: a `label` column (the class, 0 to 9, as `u32`), then one `f64` column
/// per feature under its name ([`feature_names`]).
///
/// # Errors
/// If `labels` has not one entry per row of `features`, or `features` has not 84 columns.
#[cfg(feature = "polars")]
pub fn to_dataframe(
    features: ArrayView2<'_, f64>,
    labels: &[u8],
) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
    use polars::prelude::{Column, DataFrame, PolarsError};
    if labels.len() != features.nrows() || features.ncols() != N_FEATURES {
        return Err(PolarsError::ShapeMismatch(
            format!(
                "{} labels for {} rows of {} features (expected {N_FEATURES})",
                labels.len(),
                features.nrows(),
                features.ncols()
            )
            .into(),
        ));
    }
    // polars has no `u8` column without its `dtype-u8` feature.
    let labels: Vec<u32> = labels.iter().map(|&l| u32::from(l)).collect();
    let mut columns = vec![Column::new("label".into(), labels)];
    columns.extend(
        feature_names()
            .iter()
            .zip(features.axis_iter(Axis(1)))
            .map(|(name, values)| Column::new(name.as_str().into(), values.to_vec())),
    );
    DataFrame::new(columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    fn index(name: &str) -> usize {
        feature_names().iter().position(|n| n == name).unwrap()
    }

    fn image(f: impl Fn(usize, usize) -> u8) -> Array1<u8> {
        Array1::from_shape_fn(PIXELS, |p| f(p / SIDE, p % SIDE))
    }

    #[test]
    fn there_are_84_distinct_names() {
        let names = feature_names();
        assert_eq!(names.len(), N_FEATURES);
        let mut sorted = names.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), N_FEATURES);
        assert_eq!(names[0], "shade_0");
        assert_eq!(names[6], "row_00_nonzero");
        assert_eq!(names[34], "col_00_nonzero");
        assert_eq!(names[62], "collar_nonzero");
        assert_eq!(names[63], "collar_light_1_122");
        assert_eq!(names[83], "cols_all_zero");
    }

    #[test]
    fn shade_bands_include_their_bounds() {
        // One pixel at each band's lower and upper edge; the rest white.
        let values = [1u8, 46, 47, 93, 94, 168, 169, 205, 206, 255];
        let img = image(|r, c| {
            if r == 0 && c < values.len() {
                values[c]
            } else {
                0
            }
        });
        let f = FeatureParams::default().features_of(img.view());
        let n = PIXELS as f64;
        assert_eq!(f[0], (PIXELS - 10) as f64 / n);
        for (band, &share) in f[1..6].iter().enumerate() {
            assert_eq!(share, 2.0 / n, "band {}", band + 1);
        }
        assert!((f[..6].iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn row_and_column_shares() {
        // Row 3 fully inked; column 5 inked in rows 10..=16 (7 pixels).
        let img = image(|r, c| u8::from(r == 3 || (c == 5 && (10..=16).contains(&r))) * 200);
        let f = FeatureParams::default().features_of(img.view());
        assert_eq!(f[index("row_03_nonzero")], 1.0);
        assert_eq!(f[index("row_10_nonzero")], 1.0 / 28.0);
        assert_eq!(f[index("row_00_nonzero")], 0.0);
        assert_eq!(f[index("col_05_nonzero")], 8.0 / 28.0);
        assert_eq!(f[index("col_00_nonzero")], 1.0 / 28.0);
    }

    #[test]
    fn blocks_count_inked_and_light_pixels_inside_their_bounds() {
        // The collar block (rows 0-2, cols 11-17) gets light pixels on its corners and dark
        // ones just outside it.
        let img = image(|r, c| match (r, c) {
            (0, 11) | (2, 17) => 122,
            (0, 12) => 123,
            (3, 11) | (0, 10) | (0, 18) => 255,
            _ => 0,
        });
        let f = FeatureParams::default().features_of(img.view());
        assert_eq!(BLOCKS[0].area(), 21);
        assert_eq!(f[index("collar_nonzero")], 3.0 / 21.0);
        assert_eq!(f[index("collar_light_1_122")], 2.0 / 21.0);
        // The footwear block spans every column of rows 6-22.
        assert_eq!(BLOCKS[7].area(), 17 * 28);
        assert_eq!(f[index("footwear_nonzero")], 0.0);
    }

    #[test]
    fn line_summaries_text_and_code_variants() {
        // Rows 0-9 white; rows 10-27 fully inked. Columns: none white, none fully inked.
        let img = image(|r, _| if r >= 10 { 90 } else { 0 });
        let text = FeatureParams::default().features_of(img.view());
        assert_eq!(text[index("rows_all_zero")], 10.0 / 28.0);
        assert_eq!(text[index("cols_all_zero")], 0.0);
        let code = FeatureParams::default()
            .with_line_summary(LineSummary::AllInked)
            .features_of(img.view());
        assert_eq!(code[index("rows_all_zero")], 18.0 / 28.0);
        assert_eq!(code[index("cols_all_zero")], 0.0);
        assert_eq!(text[..82], code[..82], "only the summaries differ");
    }

    #[test]
    fn transform_matches_features_of_row_by_row() {
        let images = Array2::from_shape_fn((5, PIXELS), |(i, p)| ((i * 37 + p * 11) % 256) as u8);
        let all = FeatureParams::default().transform(images.view());
        for i in 0..5 {
            let one = FeatureParams::default().features_of(images.row(i));
            assert_eq!(all.row(i).to_vec(), one.to_vec());
        }
    }

    #[cfg(feature = "polars")]
    #[test]
    fn features_become_a_dataframe_with_named_columns() {
        let images = Array2::from_shape_fn((3, PIXELS), |(i, j)| ((i * 37 + j) % 256) as u8);
        let x = FeatureParams::default().transform(images.view());
        let df = to_dataframe(x.view(), &[0, 5, 9]).unwrap();
        assert_eq!(df.shape(), (3, 1 + N_FEATURES));
        assert_eq!(df.get_column_names()[1].as_str(), feature_names()[0]);
        let last = &feature_names()[N_FEATURES - 1];
        let column = df.column(last).unwrap().f64().unwrap();
        assert_eq!(column.get(2), Some(x[[2, N_FEATURES - 1]]));
        assert!(
            to_dataframe(x.view(), &[0, 5]).is_err(),
            "one label per row"
        );
    }
}
