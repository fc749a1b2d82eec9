//! `fmnist`: regenerate the study's figures and tables from the command line.
//!
//! A thin client of the library: it parses the arguments, builds a [`Study`] with the
//! parameters they ask for, runs what the command names, and prints. Every subcommand loads
//! the data the same way (see `fmnist data --help`); errors are reported once, as a chain, and
//! the exit status is non-zero.

mod cli;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::Parser;

use fmnist::data::Class;
use fmnist::features::LineSummary;
use fmnist::figures::Format;
use fmnist::models::cnn::CnnParams;
use fmnist::models::ModelError;
use fmnist::study::cnn::{CnnStudy, CnnStudyParams};
use fmnist::study::exploration::{Exploration, ExplorationParams};
use fmnist::study::features::{FeatureTables, FeatureTablesParams};
use fmnist::study::knn::{KnnStudy, KnnStudyParams};
use fmnist::study::leaderboard::{Leaderboard, LeaderboardParams};
use fmnist::study::linfa_baselines::{LinfaBaselines, LinfaBaselinesParams};
use fmnist::study::pca::{PcaStudy, PcaStudyParams};
use fmnist::study::pca_models::{PcaModels, PcaModelsParams};
use fmnist::study::table1::{Table1, Table1Params};
use fmnist::study::Section;
use fmnist::{Study, StudyError};

use cli::args::{
    CheckArgs, CnnArgs, Command, DataArgs, FeaturesArgs, FiguresArgs, KnnArgs, LeaderboardArgs,
    LinfaArgs, PcaModelsArgs, ReproduceArgs, Table1Args,
};

fn main() -> ExitCode {
    let cli = cli::args::Cli::parse();
    cli::signals::install();
    match run(&cli.command, &cli.data, cli.seed) {
        Ok(()) => ExitCode::SUCCESS,
        // An error met while a signal is being handled is its consequence: the handler
        // reports the signal and ends the process.
        Err(_) if fmnist::outputs::abandoned() => loop {
            std::thread::park();
        },
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: &Command, data: &DataArgs, seed: u64) -> Result<()> {
    dispatch(command, data, seed).map_err(|e| name_the_option(e, command))
}

/// A setting the library refuses is named by the option that set it (`--test-rows`, not
/// `test_rows`), when the command has one.
fn name_the_option(err: anyhow::Error, command: &Command) -> anyhow::Error {
    let (param, reason) = match err.downcast_ref::<StudyError>() {
        Some(StudyError::InvalidParams { param, reason }) => (*param, reason.clone()),
        Some(StudyError::Model(ModelError::InvalidParams { param, reason })) => {
            (*param, reason.clone())
        }
        _ => return err,
    };
    let long = match param {
        "boost.trees" => "boost-rounds".to_string(),
        "figures" => "only".to_string(),
        p => p.replace('_', "-"),
    };
    let cli = <cli::args::Cli as clap::CommandFactory>::command();
    let is_option = cli.find_subcommand(command.name()).is_some_and(|c| {
        c.get_arguments()
            .any(|a| a.get_long() == Some(long.as_str()))
    });
    if is_option {
        anyhow::anyhow!("invalid --{long}: {reason}")
    } else {
        err
    }
}

fn dispatch(command: &Command, data: &DataArgs, seed: u64) -> Result<()> {
    match command {
        Command::Data => describe_data(data, seed),
        Command::Check(args) => check(args),
        Command::Figures(args) => figures(data.study(seed)?, args),
        Command::Features(args) => features(data.study(seed)?, args),
        Command::Table1(args) => table1(data.study(seed)?, args),
        Command::Knn(args) => knn(data.study(seed)?, args),
        Command::PcaModels(args) => pca_models(data.study(seed)?, args),
        Command::Cnn(args) => cnn(data.study(seed)?, args),
        Command::Linfa(args) => linfa(data.study(seed)?, args),
        Command::Leaderboard(args) => leaderboard(data.study(seed)?, args),
        Command::Reproduce(args) => reproduce(data.study(seed)?, args),
        Command::Bench(args) => cli::bench::run(data, args, seed),
    }
}

fn describe_data(args: &DataArgs, seed: u64) -> Result<()> {
    let start = Instant::now();
    let study = args.study(seed)?;
    let seconds = start.elapsed().as_secs_f64();
    let data = study.data();
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

/// The study writing tables into `out` and figures into `figures` in `formats`, as one run
/// of this command ([`Study::begin_run`]): staged, and committed by [`finish`].
fn with_outputs(study: Study, out: &Path, figures: &Path, formats: &[Format]) -> Result<Study> {
    let mut study = study
        .with_results_dir(out)
        .with_figures_dir(figures)
        .with_formats(formats);
    study.begin_run(&command_line())?;
    Ok(study)
}

/// The command as typed after `fmnist`, for the manifest.
fn command_line() -> String {
    std::env::args().skip(1).collect::<Vec<_>>().join(" ")
}

/// Commits the study's run (its files move into place together) and prints what it wrote.
fn finish(mut study: Study) -> Result<()> {
    print_written(&study.commit_run()?);
    Ok(())
}

fn check(args: &CheckArgs) -> Result<()> {
    let report = fmnist::outputs::check(&args.out)?;
    print!("{report}");
    if report.is_intact() {
        println!("{}: intact", args.out.display());
        Ok(())
    } else {
        anyhow::bail!(
            "{} does not hold exactly the files its manifest records (see above)",
            args.out.display()
        )
    }
}

fn figures(study: Study, args: &FiguresArgs) -> Result<()> {
    let mut study = study.with_figures_dir(&args.out).with_formats(&args.format);
    // The manifest of a figures-only run lives beside the figures; the CNN's weights are
    // still read from the results folder.
    if let Some(weights) = study.cnn_weights() {
        study = study.with_cnn_weights(weights);
    }
    study = study.with_results_dir(&args.out);
    study.begin_run(&command_line())?;
    study.set_params::<Exploration>(ExplorationParams {
        exemplars: args.exemplars,
        sample_per_class: args.sample_per_class,
        ..study.params::<Exploration>()
    });
    study.set_params::<PcaStudy>(PcaStudyParams {
        components: args.components,
        ..study.params::<PcaStudy>()
    });
    study.draw_figures(&args.only)?;
    finish(study)
}

fn features(study: Study, args: &FeaturesArgs) -> Result<()> {
    let mut study = study.with_results_dir(&args.out);
    study.begin_run(&command_line())?;
    let params = FeatureTablesParams {
        per_class: args.per_class,
        line_summary: if args.code_summaries {
            LineSummary::AllInked
        } else {
            LineSummary::AllWhite
        },
        ..study.params::<FeatureTables>()
    };
    let tables = study.run::<FeatureTables>(&params)?;
    study.write(&*tables)?;
    finish(study)
}

/// Runs section `S` with `params`, writes its tables and figures, and prints its main table
/// (as `table` renders it) and the files written.
fn run_and_write<S: Section>(
    mut study: Study,
    params: S::Params,
    table: impl Fn(&S) -> String,
) -> Result<()> {
    let section = study.run::<S>(&params)?;
    study.write(&*section)?;
    print!("{}", table(&section));
    finish(study)
}

fn table1(study: Study, a: &Table1Args) -> Result<()> {
    let study = with_outputs(study, &a.out, &a.figures, &a.format)?;
    let params = Table1Params {
        per_class: a.per_class,
        test_rows: a.test_rows,
        trees: a.trees,
        ..study.params::<Table1>()
    };
    run_and_write::<Table1>(study, params, |t| t.table().to_markdown())
}

fn knn(study: Study, a: &KnnArgs) -> Result<()> {
    let study = with_outputs(study, &a.out, &a.figures, &a.format)?;
    let params = KnnStudyParams {
        train_rows: a.train_rows,
        test_rows: a.test_rows,
        ..study.params::<KnnStudy>()
    };
    run_and_write::<KnnStudy>(study, params, |s| {
        format!(
            "{}\nPCA beats raw pixels? {}\n",
            s.table().to_markdown(),
            s.verdict()
        )
    })
}

fn pca_models(study: Study, a: &PcaModelsArgs) -> Result<()> {
    let study = with_outputs(study, &a.out, &a.figures, &a.format)?;
    let base = if a.study_grids {
        PcaModelsParams {
            seed: study.seed(),
            ..PcaModelsParams::study_grids()
        }
    } else {
        study.params::<PcaModels>()
    };
    let mut params = PcaModelsParams {
        train_rows: a.train_rows,
        test_rows: a.test_rows,
        folds: a.folds,
        forest_trees: a.forest_trees,
        ..base
    };
    if let Some(rounds) = &a.boost_rounds {
        params.boost.trees = rounds.clone();
    }
    run_and_write::<PcaModels>(study, params, |s| s.table().to_markdown())
}

fn cnn(study: Study, a: &CnnArgs) -> Result<()> {
    let mut study = with_outputs(study.with_quick(a.quick), &a.out, &a.figures, &a.format)?;
    if let Some(weights) = &a.weights {
        study = study.with_cnn_weights(weights);
    }
    let base = study.params::<CnnStudy>();
    let params = if a.quick {
        CnnStudyParams {
            retrain: a.retrain,
            ..base
        }
    } else {
        CnnStudyParams {
            net: CnnParams {
                epochs: a.epochs,
                ..base.net
            },
            train_rows: a.train_rows,
            test_rows: a.test_rows,
            retrain: a.retrain,
            ..base
        }
    };
    run_and_write::<CnnStudy>(study, params, |s| s.table().to_markdown())
}

fn linfa(study: Study, a: &LinfaArgs) -> Result<()> {
    let mut study = study.with_results_dir(&a.out).with_quick(a.quick);
    study.begin_run(&command_line())?;
    let params = if a.quick {
        study.params::<LinfaBaselines>()
    } else {
        LinfaBaselinesParams {
            per_class: a.per_class,
            test_rows: a.test_rows,
            pca_rows: a.pca_rows,
            ..study.params::<LinfaBaselines>()
        }
    };
    run_and_write::<LinfaBaselines>(study, params, |s| s.table().to_markdown())
}

fn leaderboard(study: Study, a: &LeaderboardArgs) -> Result<()> {
    let mut study = with_outputs(study.with_quick(a.quick), &a.out, &a.figures, &a.format)?;
    if let Some(weights) = &a.weights {
        study = study.with_cnn_weights(weights);
    }
    let base = study.params::<Leaderboard>();
    let params = if a.quick {
        base
    } else {
        LeaderboardParams {
            train_rows: a.train_rows,
            test_rows: a.test_rows,
            validation_rows: a.validation_rows,
            selection_rows: a.selection_rows,
            components: a.components,
            ..base
        }
    };
    run_and_write::<Leaderboard>(study, params, |s| s.summary().to_markdown())
}

fn reproduce(study: Study, a: &ReproduceArgs) -> Result<()> {
    let mut study = with_outputs(study.with_quick(a.quick), &a.out, &a.figures, &a.format)?;
    let done = study.reproduce(a.protocol.into())?;
    finish(study)?;
    println!(
        "done in {:.0} s; see {}",
        done.seconds(),
        done.report.display()
    );
    Ok(())
}

fn print_written(written: &[PathBuf]) {
    for path in written {
        println!("wrote {}", path.display());
    }
}
