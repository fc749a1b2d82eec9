//! Beyond the study: what a model gets wrong, as images.

use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::paint;
use super::{DrawResult, Figure, FigureError};
use crate::data::{class_names, Split, SIDE};
use crate::report::thousands;

/// A gallery of misclassified test images for any fitted model: one row per (true class,
/// predicted class) pair, the most frequent confusions first (for Fashion-MNIST models: shirts
/// taken for T-shirts, pullovers for coats and back), each with the first few of its images.
#[derive(Debug, Clone)]
pub struct Misclassified {
    stem: String,
    model: String,
    /// True class, predicted class, how many test images, and the first few of them.
    rows: Vec<(String, String, usize, Vec<Array2<f64>>)>,
    per_pair: usize,
    errors: usize,
    n: usize,
}

impl Misclassified {
    const CELL: i32 = 3;
    const GAP: i32 = 8;
    const LABEL_W: i32 = 230;

    /// The gallery of `model`'s mistakes on `test`, whose labels it predicted as `predicted`
    /// (one per image, in order): the `pairs` most frequent (true, predicted) confusions, up
    /// to `per_pair` images each, saved as `stem`.
    pub fn new(
        stem: &str,
        model: &str,
        test: &Split,
        predicted: &[u8],
        pairs: usize,
        per_pair: usize,
    ) -> Result<Misclassified, FigureError> {
        if predicted.len() != test.len() {
            return Err(FigureError::Input {
                stem: stem.to_string(),
                reason: format!(
                    "{} predictions for {} test images",
                    predicted.len(),
                    test.len()
                ),
            });
        }
        let labels = test.labels();
        let n_classes = labels
            .iter()
            .chain(predicted)
            .map(|&l| usize::from(l) + 1)
            .max()
            .unwrap_or(0)
            .max(crate::data::N_CLASSES);
        let names = class_names(n_classes);
        let mut by_pair = vec![Vec::new(); n_classes * n_classes];
        for (i, (&t, &p)) in labels.iter().zip(predicted).enumerate() {
            if t != p {
                by_pair[usize::from(t) * n_classes + usize::from(p)].push(i);
            }
        }
        let errors = by_pair.iter().map(Vec::len).sum();
        let mut order: Vec<usize> = (0..by_pair.len())
            .filter(|&k| !by_pair[k].is_empty())
            .collect();
        // Most images first; ties in (true, predicted) order, so the gallery is reproducible.
        order.sort_by_key(|&k| std::cmp::Reverse(by_pair[k].len()));
        let rows = order
            .into_iter()
            .take(pairs)
            .map(|k| {
                let images = by_pair[k]
                    .iter()
                    .take(per_pair)
                    .map(|&i| paint::as_image(test.images().row(i)))
                    .collect();
                (
                    names[k / n_classes].clone(),
                    names[k % n_classes].clone(),
                    by_pair[k].len(),
                    images,
                )
            })
            .collect();
        Ok(Misclassified {
            stem: stem.to_string(),
            model: model.to_string(),
            rows,
            per_pair,
            errors,
            n: test.len(),
        })
    }

    fn tile() -> i32 {
        SIDE as i32 * Self::CELL + Self::GAP
    }
}

impl Figure for Misclassified {
    fn stem(&self) -> String {
        self.stem.clone()
    }

    fn size(&self) -> (u32, u32) {
        let w = Self::LABEL_W + self.per_pair.max(4) as i32 * Self::tile() + 12;
        let h = 96 + self.rows.len().max(1) as i32 * Self::tile() + 8;
        (w as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        paint::title(
            root,
            &format!("{}: its most frequent mistakes", self.model),
            &format!(
                "{} of {} test images misclassified; each row a true class → the class predicted, \
                 most frequent first, with its first {} images",
                thousands(self.errors),
                thousands(self.n),
                self.per_pair
            ),
        )?;
        let side = SIDE as i32 * Self::CELL;
        for (r, (truth, predicted, count, images)) in self.rows.iter().enumerate() {
            let y = 96 + r as i32 * Self::tile();
            paint::text(
                root,
                &format!("{truth} → {predicted}"),
                (Self::LABEL_W - 12, y + side / 2 - 9),
                14.0,
                true,
                (HPos::Right, VPos::Center),
            )?;
            paint::text(
                root,
                &format!("{} images", thousands(*count)),
                (Self::LABEL_W - 12, y + side / 2 + 11),
                13.0,
                false,
                (HPos::Right, VPos::Center),
            )?;
            paint::image_row(root, (Self::LABEL_W, y), Self::CELL, Self::tile(), images)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::{to_png, to_svg};
    use ndarray::Array1;

    fn split(labels: &[u8]) -> Split {
        let images = Array2::from_shape_fn((labels.len(), SIDE * SIDE), |(i, p)| {
            ((i * 37 + p) % 256) as u8
        });
        Split::new(images, Array1::from(labels.to_vec())).unwrap()
    }

    #[test]
    fn the_most_frequent_confusions_come_first() {
        // Shirts (6) taken for T-shirts (0) three times, coats (4) for pullovers (2) twice,
        // a bag (8) for a sandal (5) once.
        let truth = [6u8, 6, 6, 4, 4, 8, 1, 1];
        let predicted = [0u8, 0, 0, 2, 2, 5, 1, 1];
        let fig = Misclassified::new("g", "SVM", &split(&truth), &predicted, 2, 2).unwrap();
        assert_eq!(fig.errors, 6);
        let pairs: Vec<_> = fig
            .rows
            .iter()
            .map(|(t, p, n, images)| (t.as_str(), p.as_str(), *n, images.len()))
            .collect();
        assert_eq!(
            pairs,
            [("Shirt", "T-shirt/top", 3, 2), ("Coat", "Pullover", 2, 2)]
        );
        assert_eq!(&to_png(&fig).unwrap()[1..4], b"PNG");
        let svg = to_svg(&fig).unwrap();
        assert!(svg.contains("Shirt → T-shirt/top") && svg.contains("6 of 8 test images"));
        assert_eq!(
            svg.matches("<image").count(),
            4,
            "two images in each of two rows"
        );
    }

    #[test]
    fn predictions_must_match_the_images() {
        let err = Misclassified::new("g", "SVM", &split(&[1, 2]), &[1], 2, 2).unwrap_err();
        assert_eq!(err.to_string(), "g: 1 predictions for 2 test images");
    }
}
