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
use fmnist::figures::{self, ClassHeatmaps, Exemplars, Format, PixelMeanSd};

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
    /// Time the pipeline's steps on this machine and write a table.
    Bench(bench::BenchArgs),
}

#[derive(Debug, Args)]
struct FiguresArgs {
    /// Figures to draw, by the study's numbering (3 draws both variants of Figure 3).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3",
          value_parser = clap::value_parser!(u8).range(1..=3))]
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

fn draw_figures(args: &DataArgs, fig: &FiguresArgs, seed: u64) -> Result<()> {
    let (data, _) = args.load()?;
    let mut only = fig.only.clone();
    only.sort_unstable();
    only.dedup();
    let bar = ProgressBar::new(only.len() as u64).with_style(
        ProgressStyle::with_template("{msg:32} {bar:30} {pos}/{len} {elapsed}")
            .expect("a valid template"),
    );
    let mut written = Vec::new();
    for number in only {
        bar.set_message(format!("Figure {number}"));
        let out = &fig.out;
        let formats = &fig.format;
        match number {
            1 => {
                let f = Exemplars::new(&data.train, fig.exemplars, seed)?;
                written.extend(figures::save(&f, out, formats)?);
            }
            2 => {
                let f = PixelMeanSd::new(&PixelStats::of(data.train.images()));
                written.extend(figures::save(&f, out, formats)?);
            }
            3 => {
                let f = ClassHeatmaps::mean_intensity(&data.train);
                written.extend(figures::save(&f, out, formats)?);
                let f = ClassHeatmaps::nonwhite_counts(&data.train, fig.sample_per_class, seed)?;
                written.extend(figures::save(&f, out, formats)?);
            }
            _ => unreachable!("clap limits --only to implemented figures"),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}
