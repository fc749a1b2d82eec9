//! `fmnist bench`: times each step of the pipeline on this machine and writes a Markdown table.
//!
//! Speed and memory targets live here, not in timed tests: a test that fails when the machine
//! is busy tests the machine. Each step runs `--repeat` times; the table gives the median and
//! the range, and the process's peak resident memory after all steps.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;

use fmnist::data::FashionMnist;
use fmnist::explore::PixelStats;
use fmnist::features::FeatureParams;
use fmnist::figures::{self, ClassHeatmaps, Exemplars, PixelMeanSd};
use fmnist::models::bayes::{BayesParams, Density};
use fmnist::models::boost::BoostParams;
use fmnist::models::cnn::CnnParams;
use fmnist::models::forest::ForestParams;
use fmnist::models::knn::{self, KnnParams};
use fmnist::models::logistic::LogisticParams;
use fmnist::models::nnet::NetParams;
use fmnist::models::svm::{Gamma, SvmParams};
use fmnist::models::{Classifier, Fit, Scaled};
use fmnist::pca::Pca;
use fmnist::preprocess::PixelPrep;
use fmnist::report::{Cell, Table};
use fmnist::study::knn::KnnStudyParams;
use fmnist::study::pca_models::PcaModelsParams;
use fmnist::study::table1::Table1Params;
use ndarray::Array2;

use super::args::DataArgs;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Runs of each step.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Markdown file to write the table into (a CSV of step ids and medians goes beside it,
    /// for bench/sklearn_compare.py).
    #[arg(long, default_value = "bench/results.md")]
    out: PathBuf,
}

struct Timing {
    id: &'static str,
    step: &'static str,
    seconds: Vec<f64>,
}

impl Timing {
    fn median(&self) -> f64 {
        let mut s = self.seconds.clone();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        }
    }
}

fn time<T>(
    (id, step): (&'static str, &'static str),
    repeat: u32,
    mut f: impl FnMut() -> Result<T>,
) -> Result<(Timing, T)> {
    let mut seconds = Vec::new();
    let mut last = None;
    for _ in 0..repeat {
        let start = Instant::now();
        last = Some(f()?);
        seconds.push(start.elapsed().as_secs_f64());
    }
    let last = last.expect("repeat is at least 1");
    Ok((Timing { id, step, seconds }, last))
}

pub fn run(data_args: &DataArgs, args: &BenchArgs, seed: u64) -> Result<()> {
    let repeat = args.repeat;
    let mut rows = Vec::new();

    let (t, data) = time(("load", "load + verify all 70,000 images"), repeat, || {
        FashionMnist::load_with(&data_args.options()).context("cannot load Fashion-MNIST")
    })?;
    rows.push(t);
    let data: FashionMnist = data;
    let (t, stats) = time(
        ("pixel_stats", "pixel mean and sd, 60,000 images"),
        repeat,
        || Ok(PixelStats::of(data.train.images())),
    )?;
    rows.push(t);
    let (t, _) = time(
        ("figures_1_3", "Figures 1-3, PNG + SVG (render only)"),
        repeat,
        || {
            let f1 = Exemplars::new(&data.train, 8, seed)?;
            let f2 = PixelMeanSd::new(&stats);
            let f3a = ClassHeatmaps::mean_intensity(&data.train);
            let f3b = ClassHeatmaps::nonwhite_counts(&data.train, 600, seed)?;
            figures::to_png(&f1)?;
            figures::to_svg(&f1)?;
            figures::to_png(&f2)?;
            figures::to_svg(&f2)?;
            figures::to_png(&f3a)?;
            figures::to_svg(&f3a)?;
            figures::to_png(&f3b)?;
            figures::to_svg(&f3b)?;
            Ok(())
        },
    )?;
    rows.push(t);

    let (t, pca) = time(
        ("pca_fit", "PCA fit, all 784 components, 60,000 images"),
        repeat,
        || Ok(Pca::fit(data.train.images())?),
    )?;
    rows.push(t);
    let params = KnnStudyParams::default();
    let (train, test) = (
        data.train.first(params.train_rows),
        data.test.first(params.test_rows),
    );
    let y: Vec<u8> = train.labels().to_vec();
    let (t, _) = time(
        (
            "knn_raw_test",
            "kNN raw pixels: filter + scale + predict 10,000 test (k = 5)",
        ),
        repeat,
        || {
            let prep = PixelPrep::fit(train.images());
            let (a, b) = (prep.apply(train.images()), prep.apply(test.images()));
            Ok(knn::predict(a.view(), &y, b.view(), 5))
        },
    )?;
    rows.push(t);
    let k = pca.components_for(0.95);
    let (t, _) = time(
        (
            "knn_pca_test",
            "kNN PCA scores: project + predict 10,000 test (k = 7)",
        ),
        repeat,
        || {
            let a = pca.transform(train.images(), k)?.mapv(|v| v as f32);
            let b = pca.transform(test.images(), k)?.mapv(|v| v as f32);
            Ok(knn::predict(a.view(), &y, b.view(), 7))
        },
    )?;
    rows.push(t);
    let (t, _) = time(
        (
            "knn_study",
            "kNN study: both CV grids (5-fold x 3, 6 k) + both tests",
        ),
        repeat.min(3),
        || {
            Ok(fmnist::study::knn::run(
                &data,
                &pca,
                &params,
                &fmnist::progress::NoProgress,
            )?)
        },
    )?;
    rows.push(t);

    // Section 2: one fit + predict of each model at the study's chosen settings.
    let sample = data.train.stratified_sample(1_001, seed)?;
    let builder = FeatureParams::default();
    let (t, (fx, ft)) = time(
        ("features", "84 engineered features, 10,010 + 10,000 images"),
        repeat,
        || {
            Ok((
                builder.transform(sample.images()),
                builder.transform(data.test.images()),
            ))
        },
    )?;
    rows.push(t);
    let fy = sample.labels().to_vec();
    let svm = SvmParams {
        c: 8.0,
        gamma: Gamma::Sigest { seed },
    };
    rows.push(fit_predict(
        ("svm", "SVM (radial) C = 8: fit + predict"),
        repeat,
        &svm,
        &fx,
        &fy,
        &ft,
    )?);
    rows.push(fit_predict(
        ("logistic", "multinomial logistic, decay 1: fit + predict"),
        repeat,
        &LogisticParams::new(1.0),
        &fx,
        &fy,
        &ft,
    )?);
    rows.push(fit_predict(
        ("forest", "random forest 500 trees, mtry 9: fit + predict"),
        repeat,
        &ForestParams::study(84, seed),
        &fx,
        &fy,
        &ft,
    )?);
    rows.push(fit_predict(
        (
            "knn_features",
            "kNN k = 7 on scaled features: fit + predict",
        ),
        repeat,
        &Scaled(KnnParams { k: 7 }),
        &fx,
        &fy,
        &ft,
    )?);
    rows.push(fit_predict(
        ("nb_gaussian", "naive Bayes, Gaussian: fit + predict"),
        repeat,
        &BayesParams {
            density: Density::Gaussian,
        },
        &fx,
        &fy,
        &ft,
    )?);
    rows.push(fit_predict(
        ("nb_kernel", "naive Bayes, kernel: fit + predict"),
        repeat,
        &BayesParams {
            density: Density::Kernel,
        },
        &fx,
        &fy,
        &ft,
    )?);
    let (t, _) = time(
        (
            "table1",
            "Table 1: every grid, 10-fold CV, refits and tests",
        ),
        1,
        || {
            Ok(fmnist::study::table1::run(
                &data,
                &Table1Params::default(),
                &fmnist::progress::NoProgress,
            )?)
        },
    )?;
    rows.push(t);

    // Section 3.3: one fit + predict of each model at the settings the default run chooses,
    // on the PCA scores of the first 10,000 training images, then the whole default study.
    let (px, pt) = (
        pca.transform(train.images(), k)?,
        pca.transform(test.images(), k)?,
    );
    rows.push(fit_predict(
        (
            "gbm_pca",
            "gradient boosting 300 x 0.1, depth 5, PCA scores: fit + predict",
        ),
        repeat,
        &BoostParams {
            trees: 300,
            learning_rate: 0.1,
            ..BoostParams::study(seed)
        },
        &px,
        &y,
        &pt,
    )?);
    rows.push(fit_predict(
        (
            "net_pca",
            "five averaged 12-unit networks, decay 1, PCA scores: fit + predict",
        ),
        repeat,
        &NetParams::new(12, 1.0, seed),
        &px,
        &y,
        &pt,
    )?);
    rows.push(fit_predict(
        (
            "forest_pca",
            "random forest 500 trees, mtry 6, PCA scores: fit + predict",
        ),
        repeat,
        &ForestParams {
            trees: 500,
            mtry: Some(6),
            seed,
        },
        &px,
        &y,
        &pt,
    )?);
    let (t, _) = time(
        (
            "pca_models",
            "section 3.3: default grids, 10-fold CV, refits and tests",
        ),
        1,
        || {
            Ok(fmnist::study::pca_models::run(
                &data,
                &pca,
                &PcaModelsParams::default(),
                &fmnist::progress::NoProgress,
            )?)
        },
    )?;
    rows.push(t);

    // Beyond the study: one epoch of the CNN on all 60,000 images (its full training is
    // `fmnist cnn --retrain`, timed in results/cnn_timings.csv), then classifying the test set.
    let labels = data.train.labels().to_vec();
    let (t, net) = time(
        (
            "cnn_epoch",
            "CNN: one epoch over all 60,000 training images",
        ),
        1,
        || {
            Ok(CnnParams::new(1, seed)
                .train(data.train.images(), &labels, None, |_| {}, || {})?
                .0)
        },
    )?;
    rows.push(t);
    let (t, _) = time(
        ("cnn_predict", "CNN: classify the 10,000 test images"),
        repeat,
        || Ok(net.predict_images(data.test.images())),
    )?;
    rows.push(t);

    let peak = fmnist::study::reproduce::peak_rss_mib();
    let mut table = String::new();
    writeln!(
        table,
        "# fmnist bench\n\n`fmnist bench --repeat {repeat} --seed {seed}` on {} cores (rayon threads: {}); data from {} ({}).\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        rayon::current_num_threads(),
        data.source.dir.display(),
        data.source.origin,
    )?;
    writeln!(table, "| step | median (s) | min (s) | max (s) |")?;
    writeln!(table, "| --- | ---: | ---: | ---: |")?;
    for row in &rows {
        let min = row.seconds.iter().copied().fold(f64::INFINITY, f64::min);
        let max = row.seconds.iter().copied().fold(0.0, f64::max);
        writeln!(
            table,
            "| {} | {:.3} | {:.3} | {:.3} |",
            row.step,
            row.median(),
            min,
            max
        )?;
    }
    match peak {
        Some(mib) => writeln!(
            table,
            "\nPeak resident memory of the whole run: {mib:.0} MiB."
        )?,
        None => writeln!(
            table,
            "\nPeak resident memory: not available on this platform."
        )?,
    }
    print!("{table}");
    let mut csv = Table::new(["step", "median_seconds"]);
    for row in &rows {
        csv.push([Cell::text(row.id.to_string()), Cell::fixed(row.median(), 4)]);
    }
    let csv_path = args.out.with_extension("csv");
    fmnist::fs::write_atomically(&args.out, table.as_bytes())?;
    fmnist::fs::write_atomically(&csv_path, csv.to_csv().as_bytes())?;
    eprintln!("wrote {} and {}", args.out.display(), csv_path.display());
    Ok(())
}

fn fit_predict<P: Fit>(
    step: (&'static str, &'static str),
    repeat: u32,
    params: &P,
    x: &Array2<f64>,
    y: &[u8],
    test: &Array2<f64>,
) -> Result<Timing> {
    let (t, _) = time(step, repeat, || {
        Ok(params.fit(x.view(), y)?.predict(test.view()))
    })?;
    Ok(t)
}
