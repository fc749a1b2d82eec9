//! The command line's arguments (clap): what each subcommand accepts, its defaults and its
//! help text. `main` turns them into a [`Study`] and its parameters.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use fmnist::data::{LoadOptions, DEFAULT_MIRROR};
use fmnist::figures::Format;
use fmnist::study::{Protocol, Study, StudyError};

use super::bar::Bar;

/// Reproduce "Machine Learning Methods for Modeling and Classification of Fashion MNIST"
/// (Blumenstiel et al., 2021): figures into figures/, tables into results/.
#[derive(Debug, Parser)]
#[command(name = "fmnist", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub data: DataArgs,
    /// Seed for every random step (samples, folds, model initialisation).
    #[arg(long, global = true, default_value_t = 42)]
    pub seed: u64,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data comes from. Without --data-dir, the search order is data/fashion-mnist (here
/// or in the nearest folder above that has one), the user cache (~/.cache/fmnist),
/// /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist), then a download
/// into the user cache.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Read the four files from this directory only.
    #[arg(long, global = true, env = "FMNIST_DATA", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Accept files whose content differs from the published Fashion-MNIST.
    #[arg(long, global = true)]
    pub no_verify: bool,
    /// Never download; fail if no local copy is found.
    #[arg(long, global = true)]
    pub no_download: bool,
    /// Base URL to download the four .gz files from.
    #[arg(long, global = true, env = "FMNIST_MIRROR", default_value = DEFAULT_MIRROR)]
    pub mirror: String,
}

impl DataArgs {
    /// The loader's options these arguments ask for.
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            data_dir: self.data_dir.clone(),
            verify: !self.no_verify,
            download: !self.no_download && cfg!(feature = "download"),
            mirror: self.mirror.clone(),
            ..LoadOptions::default()
        }
    }

    /// Finds, reads and verifies the data, and builds a study of it with `seed`, reporting
    /// progress on a terminal bar.
    pub fn study(&self, seed: u64) -> Result<Study, StudyError> {
        Ok(Study::load_with(&self.options())?
            .with_seed(seed)
            .with_quick(false)
            .with_progress(Bar::new()))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find and verify the dataset, and say where it is and what it holds.
    Data,
    /// Check that a results folder (and the figures its manifest names) holds exactly the
    /// files its runs recorded: which run wrote each, which changed or went missing, which
    /// no run recorded, and what an interrupted run left. Exits non-zero if any.
    Check(CheckArgs),
    /// Draw the study's figures.
    Figures(FiguresArgs),
    /// Write the 84 engineered features of the study's training sample and of the test
    /// images as CSV (label first), for other tools.
    Features(FeaturesArgs),
    /// Section 2: five classifiers on the 84 engineered features (Table 1, Figure 4 and, past
    /// the study, Figures 15 and 16; results/table1.csv, table1.md and the SVM's precision,
    /// recall and F1 by class in table1_svm_by_class.csv).
    Table1(Table1Args),
    /// Section 3.2: kNN on raw pixels against kNN on PCA scores (Figures 9 and 10,
    /// results/knn.csv and knn.md).
    Knn(KnnArgs),
    /// The whole study in order, sharing work: every figure, every table, and
    /// results/REPORT.md with every number the study reports beside ours.
    Reproduce(ReproduceArgs),
    /// Section 3.3: gradient boosting, an averaged neural network and a random forest on the
    /// PCA scores (Figures 11 and 12, results/pca_models.csv and pca_models.md).
    PcaModels(PcaModelsArgs),
    /// Beyond the study: a convolutional network on all 60,000 training images against the
    /// best classical model (Figures 13 and 14, results/cnn.csv and cnn.md); saves its
    /// weights and reuses them while the settings match.
    Cnn(CnnArgs),
    /// Beyond the study: linfa's own algorithms (logistic regression, Gaussian naive Bayes,
    /// PCA, SVM, decision tree) beside ours on Table 1's inputs, with the accuracy and time of
    /// each and why they differ (results/linfa_baselines.csv and .md).
    Linfa(LinfaArgs),
    /// Beyond the study: each method at its best on all 60,000 training images (image
    /// features; settings chosen on held-out training images), the CNN beside them, against
    /// Zalando's published figures and the study's (results/leaderboard.csv and .md, Figure 18).
    Leaderboard(LeaderboardArgs),
    /// Time the pipeline's steps on this machine and write a table.
    Bench(super::bench::BenchArgs),
}

impl Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Data => "data",
            Command::Check(_) => "check",
            Command::Figures(_) => "figures",
            Command::Features(_) => "features",
            Command::Table1(_) => "table1",
            Command::Knn(_) => "knn",
            Command::Reproduce(_) => "reproduce",
            Command::PcaModels(_) => "pca-models",
            Command::Cnn(_) => "cnn",
            Command::Linfa(_) => "linfa",
            Command::Leaderboard(_) => "leaderboard",
            Command::Bench(_) => "bench",
        }
    }
}

#[derive(Debug, Args)]
pub struct LeaderboardArgs {
    /// Directory for leaderboard.csv and leaderboard.md.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Directory for Figure 18.
    #[arg(long, default_value = "figures")]
    pub figures: PathBuf,
    /// Figure formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    pub format: Vec<Format>,
    /// The CNN's weights: reused when their settings match (trained on --train-rows images),
    /// written after training otherwise (default: cnn.safetensors in --out).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Training images (the first N), for every method and the CNN.
    #[arg(long, default_value_t = 60_000)]
    pub train_rows: usize,
    /// Test images (the first N).
    #[arg(long, default_value_t = 10_000)]
    pub test_rows: usize,
    /// Training images held out to choose each method's setting (seeded).
    #[arg(long, default_value_t = 10_000)]
    pub validation_rows: usize,
    /// Training images the candidate settings are fitted on while choosing.
    #[arg(long, default_value_t = 20_000)]
    pub selection_rows: usize,
    /// Principal components of the image features that every method but the SVM sees.
    #[arg(long, default_value_t = 100)]
    pub components: usize,
    /// Every step on a few thousand images, in about a minute: for checking the pipeline, not
    /// its numbers.
    #[arg(long, env = "FMNIST_QUICK")]
    pub quick: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The results folder, with its manifest.json.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct CnnArgs {
    /// Directory for cnn.csv, cnn_history.csv, cnn_mcnemar.csv, cnn_timings.csv and cnn.md.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Directory for Figures 13 and 14.
    #[arg(long, default_value = "figures")]
    pub figures: PathBuf,
    /// Figure formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    pub format: Vec<Format>,
    /// The weights file: reused when its settings match, written after training otherwise
    /// (default: cnn.safetensors in --out, where `reproduce` keeps it too).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Train even when matching weights are saved.
    #[arg(long)]
    pub retrain: bool,
    /// Passes over the training images.
    #[arg(long, default_value_t = fmnist::study::cnn::EPOCHS)]
    pub epochs: usize,
    /// Training images (the first N).
    #[arg(long, default_value_t = 60_000)]
    pub train_rows: usize,
    /// Test images (the first N).
    #[arg(long, default_value_t = 10_000)]
    pub test_rows: usize,
    /// A narrow network for two epochs on 2,000 images, in seconds: for checking the
    /// pipeline, not for its numbers (weights are not saved).
    #[arg(long, env = "FMNIST_QUICK")]
    pub quick: bool,
}

#[derive(Debug, Args)]
pub struct FiguresArgs {
    /// Figures to draw, by number, comma-separated. The study's: 1 exemplars, 2 pixel mean
    /// and standard deviation, 3 heat maps by class (both variants), 4 the SVM's precision and
    /// recall by class (and every section-2 confusion matrix), 5 scree plot, 6 components as
    /// images, 7 training images on PC1-PC2, 8 reconstructions from 187 components, 9 and 10
    /// kNN accuracy against k (raw pixels, PCA scores), 11 models on the PCA scores, 12 their
    /// confusion matrices. Beyond the study: 13 the CNN's learning curve, 14 its confusion
    /// matrix, 15 the SVM's most frequent mistakes as images, 16 the SVM's confusion matrix
    /// as counts and row shares, 17 reconstructions from 10, 50, 187 and 784 components, 18
    /// accuracy against training time (not drawn unless asked for).
    /// 4, 15 and 16 run the section-2 study (about a minute and a half); 9 and 10 the kNN
    /// study; 11 and 12 the section-3.3 models (a few minutes); 13 and 14 the CNN (its saved
    /// weights, or minutes of training); 18 the leaderboard (about ten minutes; it shows the
    /// models of every section run before it, so `reproduce --protocol full` draws it whole).
    #[arg(long, value_delimiter = ',',
          default_value = "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17",
          value_parser = clap::value_parser!(u8).range(1..=fmnist::study::LAST_FIGURE as i64))]
    pub only: Vec<u8>,
    /// Directory to write into.
    #[arg(long, default_value = "figures")]
    pub out: PathBuf,
    /// Formats to write, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    pub format: Vec<Format>,
    /// Exemplar images per class in Figure 1.
    #[arg(long, default_value_t = 8)]
    pub exemplars: usize,
    /// Images sampled per class for the non-white-count variant of Figure 3 (the study: 600).
    #[arg(long, default_value_t = 600)]
    pub sample_per_class: usize,
    /// Components used for the reconstructions of Figure 8 (the study: 187, 95% of the variance).
    #[arg(long, default_value_t = 187)]
    pub components: usize,
}

#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// Directory for features_train.csv and features_test.csv.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Training images sampled per class (the study: 1,001).
    #[arg(long, default_value_t = 1_001)]
    pub per_class: usize,
    /// Use the study code's row/column summaries (rows entirely non-white) instead of the
    /// text's (rows entirely white).
    #[arg(long)]
    pub code_summaries: bool,
}

#[derive(Debug, Args)]
pub struct Table1Args {
    /// Directory for table1.csv, table1_timings.csv and table1.md.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Directory for Figure 4 and the confusion heat maps.
    #[arg(long, default_value = "figures")]
    pub figures: PathBuf,
    /// Figure formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    pub format: Vec<Format>,
    /// Training images sampled per class (the study: 1,001).
    #[arg(long, default_value_t = 1_001)]
    pub per_class: usize,
    /// Test rows (the first N test images; the study: all 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub test_rows: usize,
    /// Trees in the random forest (the study: 500).
    #[arg(long, default_value_t = 500)]
    pub trees: usize,
}

#[derive(Debug, Args)]
pub struct LinfaArgs {
    /// Directory for linfa_baselines.csv and linfa_baselines.md.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Training images sampled per class (Table 1: 1,001).
    #[arg(long, default_value_t = 1_001)]
    pub per_class: usize,
    /// Test rows (the first N test images).
    #[arg(long, default_value_t = 10_000)]
    pub test_rows: usize,
    /// Training images (the first N) whose pixels both PCAs are fitted on.
    #[arg(long, default_value_t = 10_000)]
    pub pca_rows: usize,
    /// A run of seconds on a few hundred images: for checking the pipeline, not its numbers.
    #[arg(long, env = "FMNIST_QUICK")]
    pub quick: bool,
}

#[derive(Debug, Args)]
pub struct KnnArgs {
    /// Directory for knn.csv, knn_cv.csv and knn.md.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Directory for Figures 9 and 10.
    #[arg(long, default_value = "figures")]
    pub figures: PathBuf,
    /// Figure formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    pub format: Vec<Format>,
    /// Training rows (the first N training images; the study: 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub train_rows: usize,
    /// Test rows (the first N test images; the study: all 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub test_rows: usize,
}

/// `--protocol`: the library's [`Protocol`], as a command-line value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtocolArg {
    /// The study's: its training subsets, its cross-validation grids.
    Paper,
    /// The study's, then every model refitted on all 60,000 training images, then the
    /// leaderboard (each method at its best on them).
    Full,
}

impl From<ProtocolArg> for Protocol {
    fn from(p: ProtocolArg) -> Protocol {
        match p {
            ProtocolArg::Paper => Protocol::Paper,
            ProtocolArg::Full => Protocol::Full,
        }
    }
}

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Which protocol to run.
    #[arg(long, value_enum, default_value_t = ProtocolArg::Paper)]
    pub protocol: ProtocolArg,
    /// Directory for the tables and REPORT.md.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Directory for the figures.
    #[arg(long, default_value = "figures")]
    pub figures: PathBuf,
    /// Figure formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    pub format: Vec<Format>,
    /// Every step on a few hundred images with tiny grids, in well under a minute: for
    /// checking the pipeline (CI, notebooks), not for its numbers.
    #[arg(long, env = "FMNIST_QUICK")]
    pub quick: bool,
}

#[derive(Debug, Args)]
pub struct PcaModelsArgs {
    /// Directory for pca_models.csv, pca_models_mcnemar.csv, pca_models_timings.csv and
    /// pca_models.md.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Directory for Figures 11 and 12.
    #[arg(long, default_value = "figures")]
    pub figures: PathBuf,
    /// Figure formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    pub format: Vec<Format>,
    /// Training rows (the first N training images; the study: 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub train_rows: usize,
    /// Test rows (the first N test images; the study: all 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub test_rows: usize,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 10)]
    pub folds: usize,
    /// Run the study's full grids (boosting alone is 1,200 fits: hours on two cores) instead
    /// of the reduced default grids.
    #[arg(long)]
    pub study_grids: bool,
    /// Boosting rounds to score, comma-separated (overrides the grid's).
    #[arg(long, value_delimiter = ',')]
    pub boost_rounds: Option<Vec<usize>>,
    /// Trees in the random forest (the study: 500).
    #[arg(long, default_value_t = 500)]
    pub forest_trees: usize,
}
