//! The `Study`: sections cached by their parameters, default parameters that can be set, every
//! section's files named once and written where the study says, on a small synthetic dataset.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fmnist::data::idx::{encode_images, encode_labels};
use fmnist::data::{LoadOptions, PIXELS};
use fmnist::models::boost::BoostParams;
use fmnist::models::cnn::CnnParams;
use fmnist::progress::Progress;
use fmnist::study::cnn::{CnnStudy, CnnStudyParams, WeightsOrigin};
use fmnist::study::exploration::{Exploration, ExplorationParams};
use fmnist::study::pca::{PcaStudy, PcaStudyParams};
use fmnist::study::table1::Table1;
use fmnist::study::{Section, StudyError};
use fmnist::Study;

/// Counts the sections a study computes (each computation announces its title once).
#[derive(Default, Clone)]
struct Computed(Arc<Mutex<Vec<String>>>);

impl Progress for Computed {
    fn section(&self, title: &str) {
        self.0.lock().unwrap().push(title.to_string());
    }
}

impl Computed {
    fn titles(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// `per_class` images of each class, for training and for testing: each class a brighter band
/// of rows, with noise, so that class means and components differ.
fn write_dataset(dir: &Path, per_class: usize) {
    let images = |n: usize, salt: usize| -> (Vec<u8>, Vec<u8>) {
        let mut pixels = Vec::with_capacity(n * PIXELS);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let class = i % 10;
            labels.push(class as u8);
            for p in 0..PIXELS {
                let row = p / 28;
                let band = if row / 3 == class { 200 } else { 20 };
                let noise = (i * 31 + p * 17 + salt) % 50;
                pixels.push((band + noise) as u8);
            }
        }
        (pixels, labels)
    };
    let (train, train_labels) = images(10 * per_class, 0);
    let (test, test_labels) = images(10 * per_class / 2, 7);
    let files = [
        encode_images(&train),
        encode_labels(&train_labels),
        encode_images(&test),
        encode_labels(&test_labels),
    ];
    for (name, raw) in common::NAMES.iter().zip(files) {
        std::fs::write(dir.join(name), raw).unwrap();
    }
}

/// A study of the dataset in `dir`, with Figure 1 and 3's samples small enough for it.
fn study(dir: &Path) -> Study {
    let options = LoadOptions {
        data_dir: Some(dir.to_path_buf()),
        verify: false,
        download: false,
        ..LoadOptions::default()
    };
    let mut study = Study::load_with(&options).unwrap();
    study.set_params::<Exploration>(ExplorationParams {
        exemplars: 2,
        sample_per_class: 3,
        seed: 42,
    });
    study
}

#[test]
fn a_section_is_computed_once_per_parameter_set() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), 12);
    let computed = Computed::default();
    let mut study = study(dir.path()).with_progress(computed.clone());

    let two = ExplorationParams {
        exemplars: 2,
        sample_per_class: 5,
        seed: 1,
    };
    let three = ExplorationParams {
        exemplars: 3,
        ..two.clone()
    };
    let a = study.run::<Exploration>(&two).unwrap();
    let again = study.run::<Exploration>(&two).unwrap();
    assert!(Arc::ptr_eq(&a, &again), "equal parameters reuse the result");
    assert_eq!(computed.titles().len(), 1);

    let b = study.run::<Exploration>(&three).unwrap();
    assert!(!Arc::ptr_eq(&a, &b), "other parameters compute anew");
    assert_eq!(b.params, three);
    assert_eq!(computed.titles().len(), 2);

    let back = study.run::<Exploration>(&two).unwrap();
    assert!(Arc::ptr_eq(&a, &back), "both results stay cached");
    assert_eq!(computed.titles(), [Exploration::TITLE, Exploration::TITLE]);
}

#[test]
fn the_pca_is_fitted_once_and_shared_by_every_pca_section() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), 12);
    let mut study = study(dir.path());
    let a = study
        .run::<PcaStudy>(&PcaStudyParams {
            components: 5,
            ..PcaStudyParams::default()
        })
        .unwrap();
    let b = study
        .run::<PcaStudy>(&PcaStudyParams {
            components: 20,
            ..PcaStudyParams::default()
        })
        .unwrap();
    assert!(!Arc::ptr_eq(&a, &b));
    assert!(Arc::ptr_eq(&a.pca, &b.pca), "one PCA for both");
    assert!(Arc::ptr_eq(&a.pca, &study.pca().unwrap()));
}

#[test]
fn set_params_changes_what_section_and_draw_figures_run() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), 12);
    let out = tempfile::tempdir().unwrap();
    let mut study = study(dir.path())
        .with_seed(9)
        .with_figures_dir(out.path().join("figs"));
    assert_eq!(study.params::<Table1>().seed, 9, "the study's seed");
    assert_eq!(study.params::<Exploration>().seed, 42, "as set");
    let mine = ExplorationParams {
        exemplars: 1,
        sample_per_class: 4,
        seed: 9,
    };
    study.set_params::<Exploration>(mine.clone());
    assert_eq!(study.exploration().unwrap().params, mine);

    let written = study.draw_figures(&[2]).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["fig02_pixel_mean_sd.png", "fig02_pixel_mean_sd.svg"]
    );
    assert!(written
        .iter()
        .all(|p| p.starts_with(out.path().join("figs"))));

    match study.draw_figures(&[19]) {
        Err(StudyError::InvalidParams { param, reason }) => {
            assert_eq!(param, "figures");
            assert!(
                reason.contains("19") && reason.contains("1 to 18"),
                "{reason}"
            );
        }
        other => panic!("expected InvalidParams, got {other:?}"),
    }
}

#[test]
fn every_section_lists_the_figures_it_declares() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), 12);
    let mut study = study(dir.path());
    let numbers = |figures: Vec<fmnist::study::FigureFile<'_>>| {
        let mut n: Vec<u8> = figures.iter().map(|f| f.number).collect();
        n.dedup();
        n
    };
    let exploration = study.exploration().unwrap();
    assert_eq!(numbers(exploration.figures()), Exploration::FIGURES);
    let pca = study.pca_study().unwrap();
    assert_eq!(numbers(pca.figures()), PcaStudy::FIGURES);
    for figure in exploration.figures().iter().chain(&pca.figures()) {
        let stem = figure.figure.name();
        assert!(
            stem.starts_with(&format!("fig{:02}_", figure.number)),
            "{stem} is figure {}",
            figure.number
        );
    }
}

#[test]
fn the_cnn_weights_live_in_the_results_folder_unless_set() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), 3);
    let study = study(dir.path()).with_quick(false).with_results_dir("out");
    assert_eq!(
        study.cnn_weights(),
        Some(PathBuf::from("out/cnn.safetensors"))
    );
    let study = study.with_cnn_weights("w.safetensors");
    assert_eq!(study.cnn_weights(), Some(PathBuf::from("w.safetensors")));
    assert_eq!(
        study.with_quick(true).cnn_weights(),
        None,
        "quick never saves"
    );
}

#[test]
fn the_cnn_reuses_matching_fallback_weights_and_never_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), 12);
    let work = tempfile::tempdir().unwrap();
    let own = work.path().join("out/results/cnn.safetensors");
    let committed = work.path().join("results/cnn.safetensors");
    let params = |epochs: usize| CnnStudyParams {
        net: CnnParams {
            conv1: 3,
            conv2: 4,
            conv3: 4,
            hidden: 8,
            ..CnnParams::new(epochs, 42)
        },
        train_rows: 120,
        test_rows: 60,
        baseline: BoostParams {
            trees: 2,
            ..CnnStudyParams::default().baseline
        },
        components: 5,
        retrain: false,
    };
    let run = |fallback: Option<&Path>, weights: &Path, epochs: usize| {
        let mut study = study(dir.path())
            .with_quick(false)
            .with_cnn_weights(weights);
        if let Some(path) = fallback {
            study = study.with_cnn_fallback(path);
        }
        study.run::<CnnStudy>(&params(epochs)).unwrap()
    };
    let read = |path: &Path| std::fs::read(path).unwrap();

    // The committed network, one epoch; the scratch folder holds another, stale one.
    let first = run(None, &committed, 1);
    assert_eq!(first.origin, WeightsOrigin::Trained { replaced: None });
    run(None, &own, 2);
    let (committed_bytes, own_bytes) = (read(&committed), read(&own));

    let reused = run(Some(&committed), &own, 1);
    assert_eq!(
        reused.origin,
        WeightsOrigin::Reused {
            path: committed.clone()
        },
        "the stale copy does not hide the committed network"
    );
    assert_eq!(reused.predictions, first.predictions);
    assert_eq!(read(&own), own_bytes, "nor is it overwritten");

    let mine = run(Some(&committed), &own, 2);
    assert_eq!(
        mine.origin,
        WeightsOrigin::Reused { path: own.clone() },
        "the study's own matching weights come first"
    );

    let fresh = run(Some(&committed), &own, 3);
    match &fresh.origin {
        WeightsOrigin::Trained {
            replaced: Some(why),
        } => assert!(why.contains("2 epochs"), "{why}"),
        other => panic!("neither file matches three epochs, yet {other:?}"),
    }
    assert_ne!(
        read(&own),
        own_bytes,
        "the new network is saved as the study's own"
    );
    assert_eq!(
        read(&committed),
        committed_bytes,
        "the fallback is never written"
    );

    let quick = study(dir.path())
        .with_cnn_fallback(&committed)
        .with_quick(true);
    assert_eq!(
        quick.cnn_fallback(),
        None,
        "quick mode never reuses weights"
    );
}

#[test]
fn write_puts_tables_and_figures_where_the_study_says() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), 12);
    let out = tempfile::tempdir().unwrap();
    let mut study = study(dir.path())
        .with_results_dir(out.path().join("r"))
        .with_figures_dir(out.path().join("f"))
        .with_formats(&[fmnist::figures::Format::Svg]);
    let params = fmnist::study::features::FeatureTablesParams {
        per_class: 3,
        ..study.params::<fmnist::study::features::FeatureTables>()
    };
    let tables = study
        .run::<fmnist::study::features::FeatureTables>(&params)
        .unwrap();
    let written = study.write(&*tables).unwrap();
    assert_eq!(
        written,
        [
            out.path().join("r/features_train.csv"),
            out.path().join("r/features_test.csv")
        ]
    );
    let train = std::fs::read_to_string(&written[0]).unwrap();
    assert_eq!(
        train.lines().count(),
        1 + 30,
        "header and 3 images per class"
    );

    let exploration = study.exploration().unwrap();
    let figures = study.write(&*exploration).unwrap();
    assert_eq!(figures.len(), 4, "four figures, SVG only");
    assert!(figures
        .iter()
        .all(|p| p.starts_with(out.path().join("f")) && p.extension().unwrap() == "svg"));
    assert!(figures
        .iter()
        .all(|p| std::fs::metadata(p).unwrap().len() > 0));
}

#[test]
fn parameters_out_of_range_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), 12);
    let computed = Computed::default();
    let mut study = study(dir.path()).with_progress(computed.clone());
    let params = ExplorationParams {
        exemplars: 0,
        ..study.params::<Exploration>()
    };
    match study.run::<Exploration>(&params) {
        Err(StudyError::InvalidParams { param, reason }) => {
            assert_eq!(param, "exemplars");
            assert_eq!(reason, "must be at least 1, got 0");
        }
        other => panic!("expected InvalidParams, got {other:?}"),
    }
    let knn = fmnist::study::knn::KnnStudyParams {
        train_rows: 100,
        test_rows: 50,
        ks: vec![1, 200],
        ..study.params::<fmnist::study::knn::KnnStudy>()
    };
    let err = study.run::<fmnist::study::knn::KnnStudy>(&knn).unwrap_err();
    assert!(
        matches!(err, StudyError::InvalidParams { param: "ks", .. }),
        "{err}"
    );
    assert!(computed.titles().is_empty(), "nothing ran");
}

#[test]
fn a_linfa_estimator_goes_through_table_1s_protocol_into_a_row() {
    use fmnist::study::table1::{Table1Inputs, Table1Params};
    use fmnist::study::Preset;
    use linfa_trees::DecisionTree;

    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), 60);
    let mut study = study(dir.path());
    let params = Table1Params {
        folds: 3,
        svm_costs: vec![1.0],
        decays: vec![0.1],
        ks: vec![5],
        ..Table1Params::quick()
    };
    let table1 = study.run::<Table1>(&params).unwrap();
    let inputs = Table1Inputs::new(study.data(), &params).unwrap();
    assert_eq!(inputs.folds.len(), 3);
    let grid: Vec<_> = [1, 8]
        .into_iter()
        .map(|d| {
            (
                format!("max depth {d}"),
                DecisionTree::params().max_depth(Some(d)),
            )
        })
        .collect();
    let tree = inputs
        .evaluate::<_, linfa::Error>("Decision tree (linfa-trees)", &grid, study.progress())
        .unwrap();
    assert_eq!(tree.grid.len(), 2);
    assert_eq!(
        tree.chosen, "max depth 8",
        "a depth-1 tree cannot tell ten bands apart"
    );
    assert!(
        tree.confusion.accuracy() > 0.9,
        "{}",
        tree.confusion.accuracy()
    );
    assert_eq!(tree.paper_row, None);

    let csv = table1.with_model(tree).table().to_csv();
    let last = csv.lines().last().unwrap();
    assert_eq!(csv.lines().count(), 1 + 6 + 1, "{csv}");
    assert!(
        last.starts_with("Decision tree (linfa-trees),max depth 8,"),
        "{last}"
    );
    assert!(
        last.ends_with(",,,42"),
        "no study numbers for a model the study did not fit: {last}"
    );
    assert_eq!(
        table1.table().to_csv(),
        csv.lines()
            .take(7)
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
        "the study's rows are unchanged"
    );
}
