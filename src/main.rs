//! `fmnist`: regenerate the study's figures and tables from the command line.
//!
//! Every subcommand loads the data the same way (see `fmnist data --help`); errors are
//! reported once, as a chain, and the exit status is non-zero.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use fmnist::data::{Class, FashionMnist, LoadOptions, DEFAULT_MIRROR};
use fmnist::explore::PixelStats;
use fmnist::figures::{
    self, ClassAccuracy, ClassHeatmaps, CnnLearningCurve, ConfusionHeatmaps, Exemplars, Figure,
    Format, KnnTuning, ModelComparison, PcaComponents, PcaProjection, PcaScree, PixelMeanSd,
    Reconstructions,
};
use fmnist::pca::Pca;
use fmnist::report;
use fmnist::study::cnn::{CnnStudy, CnnStudyParams, WeightsOrigin};
use fmnist::study::knn::{KnnStudy, KnnStudyParams};
use fmnist::study::pca_models::{PcaModels, PcaModelsParams};
use fmnist::study::table1::{Table1, Table1Params};

#[path = "cli/bench.rs"]
mod bench;

/// Reproduce "Machine Learning Methods for Modeling and Classification of Fashion MNIST"
/// (Blumenstiel et al., 2021): figures into figures/, tables into results/.
#[derive(Debug, Parser)]
#[command(name = "fmnist", version, about, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    data: DataArgs,
    /// Seed for every random step (samples, folds, model initialisation).
    #[arg(long, global = true, default_value_t = 42)]
    seed: u64,
    #[command(subcommand)]
    command: Command,
}

/// Where the data comes from. Without --data-dir, the search order is ./data/fashion-mnist,
/// the user cache (~/.cache/fmnist), /usr/share/datasets/fashion-mnist (Debian package
/// dataset-fashion-mnist), then a download into the user cache.
#[derive(Debug, Args)]
struct DataArgs {
    /// Read the four files from this directory only.
    #[arg(long, global = true, env = "FMNIST_DATA", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Accept files whose content differs from the published Fashion-MNIST.
    #[arg(long, global = true)]
    no_verify: bool,
    /// Never download; fail if no local copy is found.
    #[arg(long, global = true)]
    no_download: bool,
    /// Base URL to download the four .gz files from.
    #[arg(long, global = true, env = "FMNIST_MIRROR", default_value = DEFAULT_MIRROR)]
    mirror: String,
}

impl DataArgs {
    fn load(&self) -> Result<(FashionMnist, f64)> {
        let options = LoadOptions {
            data_dir: self.data_dir.clone(),
            verify: !self.no_verify,
            download: !self.no_download && cfg!(feature = "download"),
            mirror: self.mirror.clone(),
            ..LoadOptions::default()
        };
        let start = Instant::now();
        let data = FashionMnist::load_with(&options).context("cannot load Fashion-MNIST")?;
        Ok((data, start.elapsed().as_secs_f64()))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find and verify the dataset, and say where it is and what it holds.
    Data,
    /// Draw the study's figures.
    Figures(FiguresArgs),
    /// Write the 84 engineered features of the study's training sample and of the test
    /// images as CSV (label first), for other tools.
    Features(FeaturesArgs),
    /// Section 2: five classifiers on the 84 engineered features (Table 1 and Figure 4,
    /// results/table1.csv and table1.md).
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
    /// Time the pipeline's steps on this machine and write a table.
    Bench(bench::BenchArgs),
}

/// Where `fmnist cnn`, `figures` and `reproduce` keep the network's weights by default.
const CNN_WEIGHTS: &str = "results/cnn.safetensors";

#[derive(Debug, Args)]
struct CnnArgs {
    /// Directory for cnn.csv, cnn_history.csv, cnn_mcnemar.csv, cnn_timings.csv and cnn.md.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Directory for Figures 13 and 14.
    #[arg(long, default_value = "figures")]
    figures: PathBuf,
    /// Figure formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    format: Vec<Format>,
    /// The weights file: reused when its settings match, written after training otherwise.
    #[arg(long, default_value = CNN_WEIGHTS)]
    weights: PathBuf,
    /// Train even when matching weights are saved.
    #[arg(long)]
    retrain: bool,
    /// Passes over the training images.
    #[arg(long, default_value_t = fmnist::study::cnn::EPOCHS)]
    epochs: usize,
    /// Training images (the first N).
    #[arg(long, default_value_t = 60_000)]
    train_rows: usize,
    /// Test images (the first N).
    #[arg(long, default_value_t = 10_000)]
    test_rows: usize,
    /// A narrow network for two epochs on 2,000 images, in seconds: for checking the
    /// pipeline, not for its numbers (weights are not saved).
    #[arg(long, env = "FMNIST_QUICK")]
    quick: bool,
}

#[derive(Debug, Args)]
struct FiguresArgs {
    /// Figures to draw, by the study's numbering (3 draws both variants of Figure 3; 4 runs
    /// the section-2 study, about a minute and a half; 9 and 10 run the kNN study; 11 and 12
    /// the section-3.3 models, a few minutes).
    /// 13 and 14 (beyond the study) come from the CNN: its saved weights, or ten minutes of
    /// training.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5,6,7,8,9,10,11,12,13,14",
          value_parser = clap::value_parser!(u8).range(1..=14))]
    only: Vec<u8>,
    /// Directory to write into.
    #[arg(long, default_value = "figures")]
    out: PathBuf,
    /// Formats to write, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    format: Vec<Format>,
    /// Exemplar images per class in Figure 1.
    #[arg(long, default_value_t = 8)]
    exemplars: usize,
    /// Images sampled per class for the non-white-count variant of Figure 3 (the study: 600).
    #[arg(long, default_value_t = 600)]
    sample_per_class: usize,
    /// Components used for the reconstructions of Figure 8 (the study: 187, 95% of the variance).
    #[arg(long, default_value_t = 187)]
    components: usize,
}

#[derive(Debug, Args)]
struct FeaturesArgs {
    /// Directory for features_train.csv and features_test.csv.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Training images sampled per class (the study: 1,001).
    #[arg(long, default_value_t = 1_001)]
    per_class: usize,
    /// Use the study code's row/column summaries (rows entirely non-white) instead of the
    /// text's (rows entirely white).
    #[arg(long)]
    code_summaries: bool,
}

#[derive(Debug, Args)]
struct Table1Args {
    /// Directory for table1.csv, table1_timings.csv and table1.md.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Directory for Figure 4 and the confusion heat maps.
    #[arg(long, default_value = "figures")]
    figures: PathBuf,
    /// Figure formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    format: Vec<Format>,
    /// Training images sampled per class (the study: 1,001).
    #[arg(long, default_value_t = 1_001)]
    per_class: usize,
    /// Test rows (the first N test images; the study: all 10,000).
    #[arg(long, default_value_t = 10_000)]
    test_rows: usize,
    /// Trees in the random forest (the study: 500).
    #[arg(long, default_value_t = 500)]
    trees: usize,
}

#[derive(Debug, Args)]
struct KnnArgs {
    /// Directory for knn.csv, knn_cv.csv and knn.md.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Directory for Figures 9 and 10.
    #[arg(long, default_value = "figures")]
    figures: PathBuf,
    /// Figure formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    format: Vec<Format>,
    /// Training rows (the first N training images; the study: 10,000).
    #[arg(long, default_value_t = 10_000)]
    train_rows: usize,
    /// Test rows (the first N test images; the study: all 10,000).
    #[arg(long, default_value_t = 10_000)]
    test_rows: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Protocol {
    /// The study's: its training subsets, its cross-validation grids.
    Paper,
    /// The study's, then every model refitted on all 60,000 training images.
    Full,
}

#[derive(Debug, Args)]
struct ReproduceArgs {
    /// Which protocol to run.
    #[arg(long, value_enum, default_value_t = Protocol::Paper)]
    protocol: Protocol,
    /// Directory for the tables and REPORT.md.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Directory for the figures.
    #[arg(long, default_value = "figures")]
    figures: PathBuf,
    /// Figure formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    format: Vec<Format>,
    /// Every step on a few hundred images with tiny grids, in well under a minute: for
    /// checking the pipeline (CI, notebooks), not for its numbers.
    #[arg(long, env = "FMNIST_QUICK")]
    quick: bool,
}

#[derive(Debug, Args)]
struct PcaModelsArgs {
    /// Directory for pca_models.csv, pca_models_mcnemar.csv, pca_models_timings.csv and
    /// pca_models.md.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Directory for Figures 11 and 12.
    #[arg(long, default_value = "figures")]
    figures: PathBuf,
    /// Figure formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "png,svg")]
    format: Vec<Format>,
    /// Training rows (the first N training images; the study: 10,000).
    #[arg(long, default_value_t = 10_000)]
    train_rows: usize,
    /// Test rows (the first N test images; the study: all 10,000).
    #[arg(long, default_value_t = 10_000)]
    test_rows: usize,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 10)]
    folds: usize,
    /// Run the study's full grids (boosting alone is 1,200 fits: hours on two cores) instead
    /// of the reduced default grids.
    #[arg(long)]
    study_grids: bool,
    /// Boosting rounds to score, comma-separated (overrides the grid's).
    #[arg(long, value_delimiter = ',')]
    boost_rounds: Option<Vec<usize>>,
    /// Trees in the random forest (the study: 500).
    #[arg(long, default_value_t = 500)]
    forest_trees: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Data => data(&cli.data),
        Command::Figures(args) => draw_figures(&cli.data, args, cli.seed),
        Command::Features(args) => features(&cli.data, args, cli.seed),
        Command::Table1(args) => table1(&cli.data, args, cli.seed),
        Command::Knn(args) => knn(&cli.data, args, cli.seed),
        Command::Reproduce(args) => reproduce(&cli.data, args, cli.seed),
        Command::PcaModels(args) => pca_models(&cli.data, args, cli.seed),
        Command::Cnn(args) => cnn(&cli.data, args, cli.seed),
        Command::Bench(args) => bench::run(&cli.data, args),
    }
}

fn data(args: &DataArgs) -> Result<()> {
    let (data, seconds) = args.load()?;
    let source = &data.source;
    println!(
        "Fashion-MNIST in {} ({})",
        source.dir.display(),
        source.origin
    );
    for path in &source.files {
        println!("  {}", path.display());
    }
    if source.verified {
        println!(
            "verified: the decompressed content of all four files matches the published SHA-256"
        );
    } else {
        println!("NOT verified (--no-verify): results may differ from the published dataset");
    }
    for skipped in &source.skipped {
        println!(
            "skipped {} ({}): {}",
            skipped.dir.display(),
            skipped.origin,
            skipped.problem
        );
    }
    println!("loaded in {seconds:.2} s\n");
    let (train, test) = (data.train.class_counts(), data.test.class_counts());
    println!("{:<12} {:>7} {:>7}", "class", "train", "test");
    for class in Class::ALL {
        let i = usize::from(class.label());
        println!("{:<12} {:>7} {:>7}", class.name(), train[i], test[i]);
    }
    println!(
        "{:<12} {:>7} {:>7}",
        "all",
        data.train.len(),
        data.test.len()
    );
    Ok(())
}

/// Work shared between figures: computed on first use, at most once.
struct Shared<'a> {
    data: &'a FashionMnist,
    seed: u64,
    pca: Option<Pca>,
    knn: Option<KnnStudy>,
    table1: Option<Table1>,
    pca_models: Option<PcaModels>,
    cnn: Option<CnnStudy>,
}

impl<'a> Shared<'a> {
    fn new(data: &'a FashionMnist, seed: u64) -> Self {
        Shared {
            data,
            seed,
            pca: None,
            knn: None,
            table1: None,
            pca_models: None,
            cnn: None,
        }
    }

    fn table1(&mut self, params: &Table1Params) -> Result<&Table1> {
        if self.table1.is_none() {
            let bar = progress_bar();
            let t = fmnist::study::table1::run(self.data, params, &bar)?;
            bar.finish_and_clear();
            self.table1 = Some(t);
        }
        Ok(self.table1.as_ref().expect("just run"))
    }

    fn pca(&mut self) -> Result<&Pca> {
        if self.pca.is_none() {
            self.pca =
                Some(Pca::fit(self.data.train.images()).context("PCA of the training images")?);
        }
        Ok(self.pca.as_ref().expect("just fitted"))
    }

    fn knn(&mut self, params: &KnnStudyParams) -> Result<&KnnStudy> {
        if self.knn.is_none() {
            self.pca()?;
            let bar = progress_bar();
            let study = fmnist::study::knn::run(
                self.data,
                self.pca.as_ref().expect("fitted above"),
                params,
                &bar,
            )?;
            bar.finish_and_clear();
            self.knn = Some(study);
        }
        Ok(self.knn.as_ref().expect("just run"))
    }

    fn pca_models(&mut self, params: &PcaModelsParams) -> Result<&PcaModels> {
        if self.pca_models.is_none() {
            self.pca()?;
            let bar = progress_bar();
            let study = fmnist::study::pca_models::run(
                self.data,
                self.pca.as_ref().expect("fitted above"),
                params,
                &bar,
            )?;
            bar.finish_and_clear();
            self.pca_models = Some(study);
        }
        Ok(self.pca_models.as_ref().expect("just run"))
    }

    /// The CNN study; weights are reused from (or saved to) `weights` when given.
    fn cnn(
        &mut self,
        params: &CnnStudyParams,
        weights: Option<&std::path::Path>,
    ) -> Result<&CnnStudy> {
        if self.cnn.is_none() {
            self.pca()?;
            let bar = progress_bar();
            let study = fmnist::study::cnn::run(
                self.data,
                self.pca.as_ref().expect("fitted above"),
                params,
                weights,
                &bar,
            )?;
            bar.finish_and_clear();
            match (&study.origin, weights) {
                (WeightsOrigin::Reused, Some(w)) => {
                    eprintln!("reused the CNN weights in {}", w.display())
                }
                (WeightsOrigin::Trained { replaced }, Some(w)) => {
                    if let Some(why) = replaced {
                        eprintln!("retrained the CNN: {why}");
                    }
                    eprintln!("saved the CNN weights to {}", w.display());
                }
                _ => {}
            }
            self.cnn = Some(study);
        }
        Ok(self.cnn.as_ref().expect("just run"))
    }
}

fn progress_bar() -> ProgressBar {
    ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg:24} {bar:30} {pos}/{len} {elapsed}")
            .expect("a valid template"),
    )
}

fn save(
    fig: &impl Figure,
    out: &std::path::Path,
    formats: &[Format],
    written: &mut Vec<PathBuf>,
) -> Result<()> {
    written.extend(figures::save(fig, out, formats)?);
    Ok(())
}

fn draw_figures(args: &DataArgs, fig: &FiguresArgs, seed: u64) -> Result<()> {
    let (data, _) = args.load()?;
    let mut only = fig.only.clone();
    only.sort_unstable();
    only.dedup();
    let mut shared = Shared::new(&data, seed);
    let mut written = Vec::new();
    for number in only {
        eprintln!("Figure {number}");
        draw_figure(number, &mut shared, fig, &mut written)?;
    }
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Draws the study's figure `number` (3 draws both variants) into `fig.out`. Figures 4 and
/// 9–12 come from their section's study, run here unless `shared` holds it already.
fn draw_figure(
    number: u8,
    shared: &mut Shared<'_>,
    fig: &FiguresArgs,
    written: &mut Vec<PathBuf>,
) -> Result<()> {
    let data = shared.data;
    let seed = shared.seed;
    let (out, formats) = (&fig.out, &fig.format);
    match number {
        1 => save(
            &Exemplars::new(&data.train, fig.exemplars, seed)?,
            out,
            formats,
            written,
        )?,
        2 => save(
            &PixelMeanSd::new(&PixelStats::of(data.train.images())),
            out,
            formats,
            written,
        )?,
        3 => {
            save(
                &ClassHeatmaps::mean_intensity(&data.train),
                out,
                formats,
                written,
            )?;
            let f = ClassHeatmaps::nonwhite_counts(&data.train, fig.sample_per_class, seed)?;
            save(&f, out, formats, written)?;
        }
        4 => {
            let params = Table1Params {
                seed,
                ..Table1Params::default()
            };
            let (accuracy, _) = table1_figures(shared.table1(&params)?);
            save(&accuracy, out, formats, written)?;
        }
        5 => save(&PcaScree::new(shared.pca()?, 0.95), out, formats, written)?,
        6 => save(
            &PcaComponents::new(shared.pca()?, &[1, 2, 3, 4, 392, 784]),
            out,
            formats,
            written,
        )?,
        7 => {
            let f = PcaProjection::new(shared.pca()?, &data.train)?;
            for &format in formats {
                // Every point in the bitmap; every tenth in the vector file.
                match format {
                    Format::Png => save(&f, out, &[format], written)?,
                    Format::Svg => save(&f.thinned(10), out, &[format], written)?,
                }
            }
        }
        8 => save(
            &Reconstructions::new(shared.pca()?, &data.train, fig.components)?,
            out,
            formats,
            written,
        )?,
        9 | 10 => {
            let params = KnnStudyParams {
                seed: shared.seed,
                ..KnnStudyParams::default()
            };
            let study = shared.knn(&params)?;
            let f = if number == 9 {
                KnnTuning::raw(study)
            } else {
                KnnTuning::pca(study)
            };
            save(&f, out, formats, written)?;
        }
        11 | 12 => {
            let params = PcaModelsParams {
                seed: shared.seed,
                ..PcaModelsParams::default()
            };
            let study = shared.pca_models(&params)?;
            if number == 11 {
                save(&ModelComparison::pca_models(study), out, formats, written)?;
            } else {
                save(&ConfusionHeatmaps::pca_models(study), out, formats, written)?;
            }
        }
        13 | 14 => {
            let params = CnnStudyParams::default().with_seed(seed);
            let study = shared.cnn(&params, Some(std::path::Path::new(CNN_WEIGHTS)))?;
            if number == 13 {
                save(&CnnLearningCurve::new(study), out, formats, written)?;
            } else {
                save(&ConfusionHeatmaps::cnn(study), out, formats, written)?;
            }
        }
        _ => unreachable!("clap limits --only to the study's figures"),
    }
    Ok(())
}

fn features(args: &DataArgs, a: &FeaturesArgs, seed: u64) -> Result<()> {
    use fmnist::features::{feature_names, FeatureParams, LineSummary};
    let (data, _) = args.load()?;
    let builder = FeatureParams::default().with_line_summary(if a.code_summaries {
        LineSummary::AllInked
    } else {
        LineSummary::AllWhite
    });
    let sample = data.train.stratified_sample(a.per_class, seed)?;
    for (name, split) in [
        ("features_train.csv", &sample),
        ("features_test.csv", &data.test),
    ] {
        let x = builder.transform(split.images());
        let mut t = report::Table::new(
            std::iter::once("label").chain(feature_names().iter().map(String::as_str)),
        );
        for (row, &label) in x.rows().into_iter().zip(split.labels()) {
            t.push(
                std::iter::once(label.to_string()).chain(row.iter().map(|v| format!("{v:.10}"))),
            );
        }
        println!(
            "wrote {}",
            report::write_text(&a.out, name, &t.to_csv())?.display()
        );
    }
    Ok(())
}

/// Figure 4 and the confusion heat maps of the section-2 models.
fn table1_figures(t: &Table1) -> (ClassAccuracy, ConfusionHeatmaps) {
    let svm = t.svm();
    (
        ClassAccuracy::new(
            "fig04_svm_accuracy_by_class",
            "SVM (radial), engineered features",
            &svm.confusion,
        ),
        ConfusionHeatmaps::new(
            "fig04_confusion_engineered_features",
            "Confusion matrices of the section-2 models (84 engineered features)",
            t.models
                .iter()
                .map(|m| (m.name.to_string(), m.confusion.clone()))
                .collect(),
        ),
    )
}

fn table1(args: &DataArgs, a: &Table1Args, seed: u64) -> Result<()> {
    let (data, _) = args.load()?;
    let params = Table1Params {
        per_class: a.per_class,
        test_rows: a.test_rows,
        trees: a.trees,
        seed,
        ..Table1Params::default()
    };
    let mut shared = Shared::new(&data, seed);
    let t = shared.table1(&params)?;
    let written = write_table1(t, &a.out, &a.figures, &a.format)?;
    print!("{}", t.table().to_markdown());
    print_written(&written);
    Ok(())
}

/// Section 2's tables into `out`, Figure 4 and its confusion heat maps into `figures`.
fn write_table1(
    t: &Table1,
    out: &std::path::Path,
    figures: &std::path::Path,
    format: &[Format],
) -> Result<Vec<PathBuf>> {
    let mut written = vec![
        report::write_text(out, "table1.csv", &t.table().to_csv())?,
        report::write_text(out, "table1_timings.csv", &t.timings().to_csv())?,
        report::write_text(out, "table1.md", &t.markdown())?,
    ];
    let (accuracy, confusion) = table1_figures(t);
    save(&accuracy, figures, format, &mut written)?;
    save(&confusion, figures, format, &mut written)?;
    Ok(written)
}

fn print_written(written: &[PathBuf]) {
    for path in written {
        println!("wrote {}", path.display());
    }
}

fn knn(args: &DataArgs, knn: &KnnArgs, seed: u64) -> Result<()> {
    let (data, _) = args.load()?;
    let params = KnnStudyParams {
        train_rows: knn.train_rows,
        test_rows: knn.test_rows,
        seed,
        ..KnnStudyParams::default()
    };
    let mut shared = Shared::new(&data, seed);
    let study = shared.knn(&params)?;
    let written = write_knn(study, &knn.out, &knn.figures, &knn.format)?;
    print!("{}", study.table().to_markdown());
    println!("\nPCA beats raw pixels? {}", study.verdict());
    print_written(&written);
    Ok(())
}

/// Section 3.2's tables into `out`, Figures 9 and 10 into `figures`.
fn write_knn(
    study: &KnnStudy,
    out: &std::path::Path,
    figures: &std::path::Path,
    format: &[Format],
) -> Result<Vec<PathBuf>> {
    let mut written = vec![
        report::write_text(out, "knn.csv", &study.table().to_csv())?,
        report::write_text(out, "knn_cv.csv", &study.cv_table().to_csv())?,
        report::write_text(out, "knn.md", &study.markdown())?,
    ];
    save(&KnnTuning::raw(study), figures, format, &mut written)?;
    save(&KnnTuning::pca(study), figures, format, &mut written)?;
    Ok(written)
}

fn pca_models(args: &DataArgs, a: &PcaModelsArgs, seed: u64) -> Result<()> {
    let (data, _) = args.load()?;
    let base = if a.study_grids {
        PcaModelsParams::study_grids()
    } else {
        PcaModelsParams::default()
    };
    let mut params = PcaModelsParams {
        train_rows: a.train_rows,
        test_rows: a.test_rows,
        folds: a.folds,
        forest_trees: a.forest_trees,
        seed,
        ..base
    };
    if let Some(rounds) = &a.boost_rounds {
        params.boost.trees = rounds.clone();
    }
    let mut shared = Shared::new(&data, seed);
    let study = shared.pca_models(&params)?;
    let written = write_pca_models(study, &a.out, &a.figures, &a.format)?;
    print!("{}", study.table().to_markdown());
    print_written(&written);
    Ok(())
}

fn cnn(args: &DataArgs, a: &CnnArgs, seed: u64) -> Result<()> {
    let (data, _) = args.load()?;
    let base = if a.quick {
        CnnStudyParams::quick()
    } else {
        let d = CnnStudyParams::default();
        CnnStudyParams {
            net: fmnist::models::cnn::CnnParams {
                epochs: a.epochs,
                ..d.net
            },
            train_rows: a.train_rows,
            test_rows: a.test_rows,
            ..d
        }
    };
    let params = CnnStudyParams {
        retrain: a.retrain,
        ..base.with_seed(seed)
    };
    let weights = (!a.quick).then_some(a.weights.as_path());
    let mut shared = Shared::new(&data, seed);
    let study = shared.cnn(&params, weights)?;
    let written = write_cnn(study, &a.out, &a.figures, &a.format)?;
    print!("{}", study.table().to_markdown());
    print_written(&written);
    Ok(())
}

/// The CNN's tables into `out`, Figures 13 and 14 into `figures`.
fn write_cnn(
    study: &CnnStudy,
    out: &std::path::Path,
    figures: &std::path::Path,
    format: &[Format],
) -> Result<Vec<PathBuf>> {
    let mut written = vec![
        report::write_text(out, "cnn.csv", &study.table().to_csv())?,
        report::write_text(out, "cnn_history.csv", &study.history_table().to_csv())?,
        report::write_text(out, "cnn_mcnemar.csv", &study.mcnemar_table().to_csv())?,
        report::write_text(out, "cnn_timings.csv", &study.timings().to_csv())?,
        report::write_text(out, "cnn.md", &study.markdown())?,
    ];
    save(&CnnLearningCurve::new(study), figures, format, &mut written)?;
    save(
        &ConfusionHeatmaps::cnn(study),
        figures,
        format,
        &mut written,
    )?;
    Ok(written)
}

/// Section 3.3's tables into `out`, Figures 11 and 12 into `figures`.
fn write_pca_models(
    study: &PcaModels,
    out: &std::path::Path,
    figures: &std::path::Path,
    format: &[Format],
) -> Result<Vec<PathBuf>> {
    let mut written = vec![
        report::write_text(out, "pca_models.csv", &study.table().to_csv())?,
        report::write_text(
            out,
            "pca_models_mcnemar.csv",
            &study.mcnemar_table().to_csv(),
        )?,
        report::write_text(out, "pca_models_timings.csv", &study.timings().to_csv())?,
        report::write_text(out, "pca_models.md", &study.markdown())?,
    ];
    save(
        &ModelComparison::pca_models(study),
        figures,
        format,
        &mut written,
    )?;
    save(
        &ConfusionHeatmaps::pca_models(study),
        figures,
        format,
        &mut written,
    )?;
    Ok(written)
}

fn reproduce(args: &DataArgs, a: &ReproduceArgs, seed: u64) -> Result<()> {
    use fmnist::study::reproduce::{Environment, Reproduction, Step};
    let mut steps = Vec::new();
    let (data, seconds) = args.load()?;
    steps.push(Step {
        name: "load and verify the data".into(),
        seconds,
    });
    let (t1, kp, pp, cnn_params) = if a.quick {
        (
            Table1Params::quick(),
            KnnStudyParams::quick(),
            PcaModelsParams::quick(),
            CnnStudyParams::quick(),
        )
    } else {
        (
            Table1Params::default(),
            KnnStudyParams::default(),
            PcaModelsParams::default(),
            CnnStudyParams::default(),
        )
    };
    let (t1, kp, pp, cnn_params) = (
        Table1Params { seed, ..t1 },
        KnnStudyParams { seed, ..kp },
        PcaModelsParams { seed, ..pp },
        cnn_params.with_seed(seed),
    );
    let fig = FiguresArgs {
        only: Vec::new(),
        out: a.figures.clone(),
        format: a.format.clone(),
        exemplars: 8,
        sample_per_class: 600,
        components: 187,
    };
    let mut shared = Shared::new(&data, seed);
    let mut written = Vec::new();
    let mut step = |name: &str, f: &mut dyn FnMut() -> Result<()>| -> Result<()> {
        eprintln!("{name}");
        let start = Instant::now();
        f()?;
        steps.push(Step {
            name: name.into(),
            seconds: start.elapsed().as_secs_f64(),
        });
        Ok(())
    };
    step("Section 1: Figures 1-3", &mut || {
        (1..=3).try_for_each(|n| draw_figure(n, &mut shared, &fig, &mut written))
    })?;
    step("Section 2: Table 1 and Figure 4", &mut || {
        let t = shared.table1(&t1)?;
        written.extend(write_table1(t, &a.out, &a.figures, &a.format)?);
        Ok(())
    })?;
    step("Section 3.1: PCA and Figures 5-8", &mut || {
        (5..=8).try_for_each(|n| draw_figure(n, &mut shared, &fig, &mut written))
    })?;
    step("Section 3.2: kNN and Figures 9-10", &mut || {
        let study = shared.knn(&kp)?;
        written.extend(write_knn(study, &a.out, &a.figures, &a.format)?);
        Ok(())
    })?;
    step(
        "Section 3.3: models on PCA scores, Figures 11-12",
        &mut || {
            let study = shared.pca_models(&pp)?;
            written.extend(write_pca_models(study, &a.out, &a.figures, &a.format)?);
            Ok(())
        },
    )?;
    let cnn_weights = a.out.join("cnn.safetensors");
    step(
        "Beyond the study: a CNN on all training images, Figures 13-14",
        &mut || {
            let weights = (!a.quick).then_some(cnn_weights.as_path());
            let study = shared.cnn(&cnn_params, weights)?;
            written.extend(write_cnn(study, &a.out, &a.figures, &a.format)?);
            Ok(())
        },
    )?;
    let mut full = None;
    if a.protocol == Protocol::Full {
        step(
            "Beyond the study: every model on all training images",
            &mut || {
                let bar = progress_bar();
                let paper = fmnist::study::full::PaperRuns {
                    table1: shared.table1.as_ref().expect("run above"),
                    knn: shared.knn.as_ref().expect("run above"),
                    pca_models: shared.pca_models.as_ref().expect("run above"),
                };
                let rows = if a.quick { 2_000 } else { data.train.len() };
                let pca = shared.pca.as_ref().expect("fitted above");
                let f = fmnist::study::full::run(&data, pca, paper, rows, seed, &bar)?;
                bar.finish_and_clear();
                written.push(report::write_text(&a.out, "full.csv", &f.table().to_csv())?);
                written.push(report::write_text(
                    &a.out,
                    "full_timings.csv",
                    &f.timings().to_csv(),
                )?);
                full = Some(f);
                Ok(())
            },
        )?;
    }
    let run = Reproduction {
        pca: shared.pca.as_ref().expect("fitted above"),
        table1: shared.table1.as_ref().expect("run above"),
        knn: shared.knn.as_ref().expect("run above"),
        pca_models: shared.pca_models.as_ref().expect("run above"),
        full: full.as_ref(),
        cnn: shared.cnn.as_ref(),
    };
    let env = Environment {
        seed,
        protocol: format!("{:?}", a.protocol).to_lowercase(),
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        threads: rayon::current_num_threads(),
        data: format!("{} ({})", data.source.dir.display(), data.source.origin),
        peak_mib: bench::peak_rss_mib(),
    };
    let figures_rel = relative(&a.out, &a.figures);
    let captions: Vec<(String, String)> = REPORT_FIGURES
        .iter()
        .map(|(caption, stem)| (caption.to_string(), format!("{figures_rel}/{stem}.png")))
        .collect();
    written.push(report::write_text(
        &a.out,
        "verdicts.csv",
        &run.verdicts().to_csv(),
    )?);
    let mut timings = report::Table::new(["step", "seconds"]);
    for s in &steps {
        timings.push([s.name.clone(), format!("{:.2}", s.seconds)]);
    }
    written.push(report::write_text(
        &a.out,
        "reproduce_timings.csv",
        &timings.to_csv(),
    )?);
    written.push(report::write_text(
        &a.out,
        "REPORT.md",
        &run.markdown(&env, &steps, &captions),
    )?);
    print_written(&written);
    let total: f64 = steps.iter().map(|s| s.seconds).sum();
    println!(
        "done in {total:.0} s; see {}",
        a.out.join("REPORT.md").display()
    );
    Ok(())
}

/// The figures REPORT.md embeds: caption and file stem.
const REPORT_FIGURES: [(&str, &str); 15] = [
    ("Figure 1: exemplars", "fig01_exemplars"),
    (
        "Figure 2: per-pixel mean and standard deviation",
        "fig02_pixel_mean_sd",
    ),
    (
        "Figure 3: mean intensity by class",
        "fig03_class_mean_intensity",
    ),
    (
        "Figure 3 (as published): non-white counts by class",
        "fig03_class_nonwhite_counts",
    ),
    (
        "Figure 4: the SVM's accuracy by class",
        "fig04_svm_accuracy_by_class",
    ),
    ("Figure 5: scree plot", "fig05_pca_scree"),
    (
        "Figure 6: principal components as images",
        "fig06_pca_components",
    ),
    (
        "Figure 7: the training images on PC1 and PC2",
        "fig07_pca_projection",
    ),
    (
        "Figure 8: reconstructions from 187 components",
        "fig08_pca_reconstruction",
    ),
    (
        "Figure 9: kNN accuracy against k, raw pixels",
        "fig09_knn_k_raw",
    ),
    (
        "Figure 10: kNN accuracy against k, PCA scores",
        "fig10_knn_k_pca",
    ),
    ("Figure 11: models on the PCA scores", "fig11_pca_models"),
    (
        "Figure 12: their confusion matrices",
        "fig12_confusion_pca_models",
    ),
    (
        "Figure 13 (beyond the study): the CNN's learning curve",
        "fig13_cnn_learning_curve",
    ),
    (
        "Figure 14 (beyond the study): the CNN's and gradient boosting's confusion matrices",
        "fig14_confusion_cnn",
    ),
];

/// `to` relative to `from` when both are relative paths (the usual results/ and figures/);
/// otherwise `to` as given.
fn relative(from: &std::path::Path, to: &std::path::Path) -> String {
    if from.is_relative() && to.is_relative() {
        let ups = from.components().count();
        let mut s = "../".repeat(ups);
        s.push_str(&to.display().to_string());
        s
    } else {
        to.display().to_string()
    }
}
