//! Fashion-MNIST: verified loading, the train and test splits, class names and samples.
//!
//! ```no_run
//! use fmnist::data::{Class, FashionMnist};
//!
//! let data = FashionMnist::load()?; // finds, reads and verifies the four files
//! assert_eq!(data.train.len(), 60_000);
//! let subset = data.train.stratified_sample(1_001, 42)?; // the study's 10,010 images
//! println!("{}", Class::from_label(data.train.labels()[0]).unwrap());
//! # Ok::<(), fmnist::data::DataError>(())
//! ```
//!
//! Where the files are looked for, and in which order, is [`LoadOptions`]'s business; the
//! low-level format is in [`idx`].

#[cfg(feature = "download")]
pub mod download;
pub mod idx;
mod source;

use std::fmt;
use std::path::PathBuf;

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

pub use idx::{IdxError, IdxKind, Sha256Digest, N_CLASSES, PIXELS, SIDE};
pub use source::{
    project_data_dir, Attempt, DataFile, LoadOptions, Origin, Source, DEFAULT_MIRROR, FILES,
};

/// Everything that can go wrong while finding, reading or sampling the data. Each variant
/// names the file or directory at fault.
#[derive(Debug, Error)]
pub enum DataError {
    /// One file is unreadable or malformed; the source says how.
    #[error("{}", path.display())]
    File {
        /// The file at fault.
        path: PathBuf,
        /// The defect.
        #[source]
        source: IdxError,
    },
    /// A file's decompressed content is not the published Fashion-MNIST content.
    #[error(
        "{}: content checksum mismatch: expected SHA-256 {expected}, found {found} \
         (a modified copy? --no-verify accepts it)",
        path.display()
    )]
    Checksum {
        /// The file at fault.
        path: PathBuf,
        /// The published digest of the decompressed content.
        expected: Sha256Digest,
        /// The digest of what the file holds.
        found: Sha256Digest,
    },
    /// The directory does not exist.
    #[error("{}: no such directory", dir.display())]
    NoSuchDir {
        /// The directory asked for.
        dir: PathBuf,
    },
    /// The directory holds none of the four files.
    #[error(
        "{}: none of the Fashion-MNIST files are here (expected {})",
        dir.display(),
        source::expected_names()
    )]
    EmptyDir {
        /// The directory searched.
        dir: PathBuf,
    },
    /// The directory holds some of the four files but not all.
    #[error("{}: missing {} (found the other Fashion-MNIST files)", dir.display(), missing.join(", "))]
    MissingFiles {
        /// The directory searched.
        dir: PathBuf,
        /// The file names (without `.gz`) that are absent.
        missing: Vec<String>,
    },
    /// An image file and its label file disagree on the number of items.
    #[error("{} holds {images} images but {} holds {labels} labels", images_path.display(), labels_path.display())]
    CountMismatch {
        /// The image file.
        images_path: PathBuf,
        /// Images it holds.
        images: usize,
        /// The label file.
        labels_path: PathBuf,
        /// Labels it holds.
        labels: usize,
    },
    /// No location held a valid set and none could be downloaded.
    #[error("{}", source::not_found_message(searched, download))]
    NotFound {
        /// Every place looked at, with what was wrong there.
        searched: Vec<Attempt>,
        /// Why the download failed, or why none was tried.
        download: String,
    },
    /// A download failed; nothing was left in the destination.
    #[cfg(feature = "download")]
    #[error("downloading {url}")]
    Download {
        /// The URL fetched.
        url: String,
        /// What went wrong.
        #[source]
        source: download::DownloadError,
    },
    /// A split built in memory has inconsistent shapes or labels.
    #[error("invalid split: {0}")]
    InvalidSplit(String),
    /// A stratified sample asked for more images of a class than there are.
    #[error("asked for {asked} images per class but {class} has only {available}")]
    TooFewInClass {
        /// Images asked for per class.
        asked: usize,
        /// The short class.
        class: Class,
        /// Images of that class available.
        available: usize,
    },
}

/// The ten Fashion-MNIST classes, in label order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Class {
    /// Label 0.
    TShirtTop = 0,
    /// Label 1.
    Trouser,
    /// Label 2.
    Pullover,
    /// Label 3.
    Dress,
    /// Label 4.
    Coat,
    /// Label 5.
    Sandal,
    /// Label 6.
    Shirt,
    /// Label 7.
    Sneaker,
    /// Label 8.
    Bag,
    /// Label 9.
    AnkleBoot,
}

/// Class names in label order, as Zalando publishes them.
pub const CLASS_NAMES: [&str; N_CLASSES] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

impl Class {
    /// All classes in label order.
    pub const ALL: [Class; N_CLASSES] = [
        Class::TShirtTop,
        Class::Trouser,
        Class::Pullover,
        Class::Dress,
        Class::Coat,
        Class::Sandal,
        Class::Shirt,
        Class::Sneaker,
        Class::Bag,
        Class::AnkleBoot,
    ];

    /// The class of a label, `None` above 9.
    pub fn from_label(label: u8) -> Option<Class> {
        Class::ALL.get(usize::from(label)).copied()
    }

    /// The label, 0 to 9.
    pub fn label(self) -> u8 {
        self as u8
    }

    /// The published name, e.g. "Ankle boot".
    pub fn name(self) -> &'static str {
        CLASS_NAMES[self as usize]
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of labelled images: `len × 784` pixels (row-major 28 × 28, 0 = white background,
/// 255 = full ink) and one label per image.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    images: Array2<u8>,
    labels: Array1<u8>,
}

impl Split {
    /// Builds a split, checking that shapes agree and every label is a class.
    pub fn new(images: Array2<u8>, labels: Array1<u8>) -> Result<Split, DataError> {
        if images.ncols() != PIXELS {
            return Err(DataError::InvalidSplit(format!(
                "images have {} columns, expected {PIXELS}",
                images.ncols()
            )));
        }
        if images.nrows() != labels.len() {
            return Err(DataError::InvalidSplit(format!(
                "{} images but {} labels",
                images.nrows(),
                labels.len()
            )));
        }
        if let Some(bad) = labels.iter().find(|&&l| usize::from(l) >= N_CLASSES) {
            return Err(DataError::InvalidSplit(format!(
                "label {bad} is not a class"
            )));
        }
        Ok(Split { images, labels })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the split holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// All images, one row of 784 pixels each.
    pub fn images(&self) -> ArrayView2<'_, u8> {
        self.images.view()
    }

    /// All labels, 0 to 9.
    pub fn labels(&self) -> ArrayView1<'_, u8> {
        self.labels.view()
    }

    /// Image `i` as a 28 × 28 grid, row 0 at the top.
    ///
    /// # Panics
    /// If `i >= self.len()`, like slice indexing ([`Split::get`] does not).
    pub fn image(&self, i: usize) -> ArrayView2<'_, u8> {
        self.images
            .row(i)
            .into_shape_with_order((SIDE, SIDE))
            .expect("a row of 784 contiguous pixels is a 28 × 28 grid")
    }

    /// Image `i` as a 28 × 28 grid and its class, or `None` past the end: the form that
    /// cannot panic, for a notebook that indexes by hand.
    pub fn get(&self, i: usize) -> Option<(ArrayView2<'_, u8>, Class)> {
        (i < self.len()).then(|| (self.image(i), self.class(i)))
    }

    /// The class of image `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn class(&self, i: usize) -> Class {
        Class::from_label(self.labels[i]).expect("labels are checked on construction")
    }

    /// The pixels as `f32`, values 0 to 255 unscaled.
    pub fn images_f32(&self) -> Array2<f32> {
        self.images.mapv(f32::from)
    }

    /// The pixels as `f64`, values 0 to 255 unscaled.
    pub fn images_f64(&self) -> Array2<f64> {
        self.images.mapv(f64::from)
    }

    /// The first `n` images (all of them if there are fewer), as the study's sections 3.2 and
    /// 3.3 take the first 10,000 training images.
    pub fn first(&self, n: usize) -> Split {
        let n = n.min(self.len());
        Split {
            images: self.images.slice(s![..n, ..]).to_owned(),
            labels: self.labels.slice(s![..n]).to_owned(),
        }
    }

    /// The images at `indices`, in that order, or an error naming the first index past the
    /// end: the form of [`Split::select`] that cannot panic.
    pub fn try_select(&self, indices: &[usize]) -> Result<Split, DataError> {
        match indices.iter().find(|&&i| i >= self.len()) {
            Some(&bad) => Err(DataError::InvalidSplit(format!(
                "index {bad} is past the end of a split of {} images",
                self.len()
            ))),
            None => Ok(self.select(indices)),
        }
    }

    /// The images at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is out of range (see [`Split::try_select`]).
    pub fn select(&self, indices: &[usize]) -> Split {
        Split {
            images: self.images.select(Axis(0), indices),
            labels: self.labels.select(Axis(0), indices),
        }
    }

    /// The first image of each class that has one, in label order: one example per class, as
    /// Figures 8 and 17 show them.
    pub fn first_of_each_class(&self) -> Split {
        let picks: Vec<usize> = self
            .indices_by_class()
            .iter()
            .filter_map(|ix| ix.first().copied())
            .collect();
        self.select(&picks)
    }

    /// For each class in label order, the indices of its images, ascending.
    pub fn indices_by_class(&self) -> [Vec<usize>; N_CLASSES] {
        let mut out: [Vec<usize>; N_CLASSES] = Default::default();
        for (i, &label) in self.labels.iter().enumerate() {
            out[usize::from(label)].push(i);
        }
        out
    }

    /// Images per class, in label order.
    pub fn class_counts(&self) -> [usize; N_CLASSES] {
        let mut counts = [0; N_CLASSES];
        self.labels
            .iter()
            .for_each(|&l| counts[usize::from(l)] += 1);
        counts
    }

    /// The indices of a seeded class-stratified sample: `per_class` images drawn without
    /// replacement from each class, returned in ascending order. The same seed gives the same
    /// sample on every platform (ChaCha8).
    pub fn stratified_indices(&self, per_class: usize, seed: u64) -> Result<Vec<usize>, DataError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut chosen = Vec::with_capacity(per_class * N_CLASSES);
        for (class, mut members) in Class::ALL.into_iter().zip(self.indices_by_class()) {
            if members.len() < per_class {
                return Err(DataError::TooFewInClass {
                    asked: per_class,
                    class,
                    available: members.len(),
                });
            }
            let (picked, _) = members.partial_shuffle(&mut rng, per_class);
            chosen.extend_from_slice(picked);
        }
        chosen.sort_unstable();
        Ok(chosen)
    }

    /// A seeded class-stratified sample of `per_class` images per class, in the order they
    /// appear in this split. The study's section 2 used 1,001 per class (10,010 images).
    pub fn stratified_sample(&self, per_class: usize, seed: u64) -> Result<Split, DataError> {
        Ok(self.select(&self.stratified_indices(per_class, seed)?))
    }
}

/// Names for classes `0..n` in tables and figures: Fashion-MNIST's ten when there are ten,
/// otherwise `class 0`, `class 1`, … (a model fitted on other data may have any number).
pub fn class_names(n: usize) -> Vec<String> {
    if n == N_CLASSES {
        Class::ALL.iter().map(|c| c.name().to_string()).collect()
    } else {
        (0..n).map(|i| format!("class {i}")).collect()
    }
}

/// The whole dataset: 60,000 training and 10,000 test images, and where they came from.
#[derive(Debug, Clone)]
pub struct FashionMnist {
    /// The training split.
    pub train: Split,
    /// The test split.
    pub test: Split,
    /// Where the files were found and whether they were verified.
    pub source: Source,
}

impl FashionMnist {
    /// Finds, reads and verifies the dataset with [`LoadOptions::from_env`]: `FMNIST_DATA`
    /// if set, else the usual places, else a download into the user cache.
    pub fn load() -> Result<FashionMnist, DataError> {
        Self::load_with(&LoadOptions::from_env())
    }

    /// Finds, reads and (unless told not to) verifies the dataset as `options` say.
    pub fn load_with(options: &LoadOptions) -> Result<FashionMnist, DataError> {
        source::load(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array;

    fn toy(labels: &[u8]) -> Split {
        let n = labels.len();
        let images = Array::from_shape_fn((n, PIXELS), |(i, j)| ((i * 7 + j) % 256) as u8);
        Split::new(images, Array1::from(labels.to_vec())).unwrap()
    }

    #[test]
    fn class_names_follow_label_order() {
        assert_eq!(Class::from_label(0), Some(Class::TShirtTop));
        assert_eq!(Class::from_label(9).unwrap().name(), "Ankle boot");
        assert_eq!(Class::from_label(10), None);
        for (i, c) in Class::ALL.iter().enumerate() {
            assert_eq!(usize::from(c.label()), i);
            assert_eq!(c.to_string(), CLASS_NAMES[i]);
        }
    }

    #[test]
    fn split_rejects_inconsistent_input() {
        let bad_cols = Split::new(Array2::zeros((2, 10)), Array1::zeros(2));
        assert!(matches!(bad_cols, Err(DataError::InvalidSplit(_))));
        let bad_len = Split::new(Array2::zeros((2, PIXELS)), Array1::zeros(3));
        assert!(matches!(bad_len, Err(DataError::InvalidSplit(_))));
        let bad_label = Split::new(Array2::zeros((1, PIXELS)), Array1::from(vec![11]));
        assert!(matches!(bad_label, Err(DataError::InvalidSplit(_))));
    }

    #[test]
    fn image_is_row_major_28_by_28() {
        let split = toy(&[3, 1]);
        let img = split.image(1);
        assert_eq!(img.dim(), (28, 28));
        assert_eq!(img[[2, 5]], split.images()[[1, 2 * 28 + 5]]);
        assert_eq!(split.class(0), Class::Dress);
    }

    #[test]
    fn first_select_and_counts() {
        let split = toy(&[0, 1, 1, 9, 0]);
        assert_eq!(split.first(2).labels().to_vec(), vec![0, 1]);
        assert_eq!(split.first(99).len(), 5);
        assert_eq!(split.select(&[3, 0]).labels().to_vec(), vec![9, 0]);
        assert_eq!(split.select(&[3]).images().row(0), split.images().row(3));
        assert_eq!(split.class_counts(), [2, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(split.indices_by_class()[1], vec![1, 2]);
        assert_eq!(
            split.images_f64()[[4, 3]],
            f64::from(split.images()[[4, 3]])
        );
        assert_eq!(split.first_of_each_class().labels().to_vec(), vec![0, 1, 9]);
    }

    #[test]
    fn get_and_try_select_answer_past_the_end_without_panicking() {
        let split = toy(&[3, 1]);
        let (image, class) = split.get(1).unwrap();
        assert_eq!((image, class), (split.image(1), Class::Trouser));
        assert!(split.get(2).is_none());
        assert_eq!(split.try_select(&[1]).unwrap().labels().to_vec(), vec![1]);
        let err = split.try_select(&[0, 7]).unwrap_err();
        assert_eq!(
            err.to_string(),
            DataError::InvalidSplit("index 7 is past the end of a split of 2 images".into())
                .to_string()
        );
    }

    #[test]
    fn stratified_sample_is_balanced_seeded_and_sorted() {
        let labels: Vec<u8> = (0..500).map(|i| (i * 7 % 10) as u8).collect();
        let split = toy(&labels);
        let a = split.stratified_indices(20, 7).unwrap();
        assert_eq!(a, split.stratified_indices(20, 7).unwrap());
        assert_ne!(a, split.stratified_indices(20, 8).unwrap());
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        let sample = split.stratified_sample(20, 7).unwrap();
        assert_eq!(sample.class_counts(), [20; N_CLASSES]);
        let err = split.stratified_indices(51, 7).unwrap_err();
        assert!(matches!(
            err,
            DataError::TooFewInClass {
                asked: 51,
                available: 50,
                ..
            }
        ));
    }
}
