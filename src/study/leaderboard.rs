//! Beyond the study: each method at its best on all 60,000 training images, against the best
//! figures Zalando published for it (Xiao, Rasul and Vollgraf, 2017, Table 3, scikit-learn)
//! and against the study's.
//!
//! Every classical method sees image features instead of the study's inputs: histograms of
//! oriented gradients ([`crate::hog`]) with 4- and 7-pixel cells, beside the pixels themselves
//! (2,404 features). The SVM sees them all; the other methods see their first principal
//! components (100 by default), which keeps them fast and loses little.
//!
//! The test images choose nothing. Each method's setting is chosen on the training images
//! alone: a seeded random part of them is held out for validation (10,000 by default), the
//! candidate settings are fitted on another seeded part (20,000) and scored on the held-out
//! images, and the best is refitted on all training images (features and components refitted
//! too) and tested once. The CNN is the study's network of [`crate::study::cnn`], with its
//! committed weights.

use std::time::Instant;

use ndarray::{concatenate, Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::{FashionMnist, Split, PIXELS};
use crate::eval::{mcnemar_exact, ConfusionMatrix, McNemar};
use crate::figures::{Effort, EffortPoint};
use crate::hog::HogParams;
use crate::models::boost::BoostParams;
use crate::models::forest::ForestParams;
use crate::models::knn::{self, KnnParams};
use crate::models::logistic::LogisticParams;
use crate::models::nnet::NetParams;
use crate::models::svm::{Gamma, SvmParams};
use crate::models::{Classifier, Fit, ModelError};
use crate::pca::Pca;
use crate::preprocess::Standardizer;
use crate::progress::Progress;
use crate::report::{pct, pct_interval, thousands, Cell, Table};
use crate::study::cnn::{CnnStudy, CnnStudyParams};
use crate::study::full::FullData;
use crate::study::knn::KnnStudy;
use crate::study::pca_models::PcaModels;
use crate::study::table1::Table1;
use crate::study::{
    require, require_rows, require_test_rows, require_train_rows, FigureFile, Preset, Section,
    Study, StudyError, TableFile,
};

/// Zalando's best published test accuracy for each method (arXiv:1708.07747, Table 3, and
/// `benchmark/baselines.json` of zalandoresearch/fashion-mnist; the CNN: their 2-conv net).
pub const ZALANDO: [(&str, f64); 7] = [
    ("SVM (RBF)", 0.897),
    ("Gradient boosting", 0.880),
    ("Random forest", 0.873),
    ("MLP", 0.871),
    ("k-NN", 0.854),
    ("Logistic regression", 0.842),
    ("CNN", 0.916),
];

/// The study's best test accuracy for each method, where it fitted one.
const STUDY: [(&str, f64); 6] = [
    ("SVM (RBF)", 0.856),
    ("Gradient boosting", 0.739),
    ("Random forest", 0.855),
    ("MLP", 0.762),
    ("k-NN", 0.8236),
    ("Logistic regression", 0.824),
];

/// Settings of the leaderboard; the default is all training and test images.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaderboardParams {
    /// Training images: the first this many (all 60,000 by default).
    pub train_rows: usize,
    /// Test images: the first this many (all 10,000).
    pub test_rows: usize,
    /// Training images held out to score the candidate settings (seeded).
    pub validation_rows: usize,
    /// Training images the candidate settings are fitted on (seeded, apart from the held-out
    /// ones).
    pub selection_rows: usize,
    /// Principal components of the image features that every method but the SVM sees.
    pub components: usize,
    /// Seed of the held-out split and of every model.
    pub seed: u64,
}

impl Default for LeaderboardParams {
    fn default() -> Self {
        LeaderboardParams {
            train_rows: 60_000,
            test_rows: 10_000,
            validation_rows: 10_000,
            selection_rows: 20_000,
            components: 100,
            seed: 42,
        }
    }
}

impl Preset for LeaderboardParams {
    /// Every step on a few thousand images: for checking the pipeline, not for its numbers.
    fn quick() -> Self {
        LeaderboardParams {
            // The quick CNN's images, so that one network serves both sections.
            train_rows: 2_000,
            test_rows: 1_000,
            validation_rows: 600,
            selection_rows: 1_200,
            components: 30,
            ..LeaderboardParams::default()
        }
    }

    fn with_seed(self, seed: u64) -> Self {
        LeaderboardParams { seed, ..self }
    }
}

/// One method of the leaderboard.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The method, as Zalando's table names it.
    pub method: &'static str,
    /// What it sees.
    pub inputs: String,
    /// The setting chosen.
    pub setting: String,
    /// Every candidate setting with its accuracy on the held-out training images.
    pub candidates: Vec<(String, f64)>,
    /// Test predictions.
    pub predictions: Vec<u8>,
    /// The test confusion matrix.
    pub confusion: ConfusionMatrix,
    /// Seconds spent choosing the setting.
    pub select_seconds: f64,
    /// Seconds to fit the chosen setting on every training image (the CNN: its training).
    pub train_seconds: f64,
    /// Seconds to classify the test images.
    pub predict_seconds: f64,
}

impl Entry {
    /// Zalando's best published accuracy for this method.
    pub fn zalando(&self) -> Option<f64> {
        ZALANDO.iter().find(|z| z.0 == self.method).map(|z| z.1)
    }

    /// The study's best accuracy for this method, where it fitted one.
    pub fn study(&self) -> Option<f64> {
        STUDY.iter().find(|z| z.0 == self.method).map(|z| z.1)
    }
}

/// The leaderboard: each classical method, then the CNN.
#[derive(Debug, Clone)]
pub struct Leaderboard {
    /// The settings it ran with.
    pub params: LeaderboardParams,
    /// One entry per method, classical first, the CNN last.
    pub entries: Vec<Entry>,
    /// McNemar's exact test of the best classical method against the CNN, on the same test
    /// images (classical first).
    pub mcnemar: McNemar,
    /// Seconds the image features took: for choosing, and for the final fits (see
    /// [`Outcome::features_seconds`]).
    pub features_seconds: [f64; 2],
    /// Where the seconds were measured: the CPU and its logical cores.
    pub machine: String,
    /// Figure 18: every model this study trained, accuracy against training time.
    pub effort: Effort,
}

/// The image features of the classical methods: HOG with 4- and 7-pixel cells and the pixels
/// (0–1), standardised with the training rows' statistics, and their principal components.
struct ImageFeatures {
    scaler: Standardizer,
    pca: Pca,
    components: usize,
}

/// HOG with 4- and 7-pixel cells, then the pixels scaled to 0–1.
fn raw_features(images: ArrayView2<'_, u8>) -> Array2<f64> {
    let parts = [
        HogParams { cell: 4, bins: 9 }.transform(images),
        HogParams { cell: 7, bins: 9 }.transform(images),
        images.mapv(|p| f64::from(p) / 255.0),
    ];
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    concatenate(Axis(1), &views).expect("one row per image in each part")
}

impl ImageFeatures {
    fn fit(features: ArrayView2<'_, f64>, components: usize) -> Result<Self, StudyError> {
        let scaler = Standardizer::fit(features);
        let pca = Pca::fit(scaler.transform(features).view())?;
        Ok(ImageFeatures {
            scaler,
            pca,
            components,
        })
    }

    /// The principal-component scores of `features`.
    fn scores(&self, features: ArrayView2<'_, f64>) -> Result<Array2<f64>, StudyError> {
        let scaled = self.scaler.transform(features);
        Ok(self.pca.transform(scaled.view(), self.components)?)
    }
}

/// Training and test inputs of one round (choosing a setting, or the final fit).
struct Inputs {
    /// All features (the SVM's inputs).
    x: Array2<f64>,
    y: Vec<u8>,
    xt: Array2<f64>,
    /// Principal-component scores (every other method's inputs).
    z: Array2<f64>,
    zt: Array2<f64>,
}

impl Inputs {
    /// What a method sees of the training and test rows: all features, or their principal
    /// components.
    fn seen(&self, all_features: bool) -> (ArrayView2<'_, f64>, ArrayView2<'_, f64>) {
        if all_features {
            (self.x.view(), self.xt.view())
        } else {
            (self.z.view(), self.zt.view())
        }
    }

    /// Features of `train` (fitted on it) and of `test`.
    fn new(train: &Split, test: &Split, components: usize) -> Result<Self, StudyError> {
        let x = raw_features(train.images());
        let xt = raw_features(test.images());
        let features = ImageFeatures::fit(x.view(), components)?;
        Ok(Inputs {
            z: features.scores(x.view())?,
            zt: features.scores(xt.view())?,
            x,
            xt,
            y: train.labels().to_vec(),
        })
    }
}

/// A method's candidate setting: fits a classifier.
trait Candidate: Sync {
    fn fit_boxed(
        &self,
        x: ArrayView2<'_, f64>,
        y: &[u8],
    ) -> Result<Box<dyn Classifier>, ModelError>;
}

impl<P: Fit + Sync> Candidate for P
where
    P::Model: 'static,
{
    fn fit_boxed(
        &self,
        x: ArrayView2<'_, f64>,
        y: &[u8],
    ) -> Result<Box<dyn Classifier>, ModelError> {
        Ok(Box::new(self.fit(x, y)?))
    }
}

/// Scores every candidate of a method on held-out rows at once, where one fit serves them all
/// (kNN's k, boosting's rounds): training rows, their labels, held-out rows, predictions.
type ScoreAll = fn(
    &Method,
    ArrayView2<'_, f64>,
    &[u8],
    ArrayView2<'_, f64>,
) -> Result<Vec<Vec<u8>>, StudyError>;

/// A method: its candidate settings, the inputs it sees, and how its candidates are scored.
struct Method {
    name: &'static str,
    /// The seed of its models.
    seed: u64,
    /// Whether it sees all features (else the principal components).
    all_features: bool,
    candidates: Vec<(String, Box<dyn Candidate>)>,
    /// How the candidates are scored while choosing: one fit each, or a shared fit.
    score_all: ScoreAll,
}

/// One fit per candidate.
fn one_fit_each(
    m: &Method,
    x: ArrayView2<'_, f64>,
    y: &[u8],
    xv: ArrayView2<'_, f64>,
) -> Result<Vec<Vec<u8>>, StudyError> {
    m.candidates
        .iter()
        .map(|(_, c)| Ok(c.fit_boxed(x, y)?.predict(xv)))
        .collect()
}

fn accuracy(predicted: &[u8], actual: &[u8]) -> f64 {
    let right = predicted.iter().zip(actual).filter(|(p, a)| p == a).count();
    right as f64 / actual.len().max(1) as f64
}

/// kNN's candidates differ only in k: the nearest neighbours are found once, for the largest.
const KS: [usize; 8] = [1, 3, 5, 7, 9, 11, 13, 15];
/// Boosting's candidates differ only in rounds: one fit, scored after each.
const ROUNDS: [usize; 4] = [150, 300, 600, 1000];

fn knn_all_k(
    _: &Method,
    x: ArrayView2<'_, f64>,
    y: &[u8],
    xv: ArrayView2<'_, f64>,
) -> Result<Vec<Vec<u8>>, StudyError> {
    let f32s = |m: ArrayView2<'_, f64>| m.mapv(|v| v as f32);
    let nearest = knn::nearest(f32s(x).view(), f32s(xv).view(), KS[KS.len() - 1]);
    Ok(KS
        .iter()
        .map(|&k| {
            nearest
                .rows()
                .into_iter()
                .map(|row| knn::vote(row.iter().map(|&r| y[r as usize]), k))
                .collect()
        })
        .collect())
}

fn boost(rounds: usize, seed: u64) -> BoostParams {
    BoostParams {
        trees: rounds,
        depth: 5,
        learning_rate: 0.1,
        min_node: 1,
        bag_fraction: 0.5,
        seed,
    }
}

fn boost_all_rounds(
    m: &Method,
    x: ArrayView2<'_, f64>,
    y: &[u8],
    xv: ArrayView2<'_, f64>,
) -> Result<Vec<Vec<u8>>, StudyError> {
    let model = boost(ROUNDS[ROUNDS.len() - 1], m.seed).fit(x, y)?;
    Ok(model.staged_predict(xv, &ROUNDS))
}

/// The classical methods and their candidate settings.
fn methods(p: &LeaderboardParams) -> Vec<Method> {
    let seed = p.seed;
    let components = p.components;
    vec![
        Method {
            name: "SVM (RBF)",
            seed,
            all_features: true,
            candidates: [2.0, 5.0, 10.0]
                .into_iter()
                .map(|c| {
                    let svm = SvmParams {
                        c,
                        gamma: Gamma::Sigest { seed },
                    };
                    (format!("C = {c}, γ by sigest"), Box::new(svm) as _)
                })
                .collect(),
            score_all: one_fit_each,
        },
        Method {
            name: "Gradient boosting",
            seed,
            all_features: false,
            candidates: ROUNDS
                .into_iter()
                .map(|r| {
                    let label = format!("{r} rounds, depth 5, shrinkage 0.1");
                    (label, Box::new(boost(r, seed)) as _)
                })
                .collect(),
            score_all: boost_all_rounds,
        },
        Method {
            name: "Random forest",
            seed,
            all_features: false,
            candidates: [
                (components.isqrt() / 2).max(1),
                components.isqrt().max(1),
                (components / 4).max(1),
            ]
            .into_iter()
            .map(|mtry| {
                let forest = ForestParams {
                    trees: 500,
                    mtry: Some(mtry),
                    ..ForestParams::study(components, seed)
                };
                (format!("500 trees, mtry {mtry}"), Box::new(forest) as _)
            })
            .collect(),
            score_all: one_fit_each,
        },
        Method {
            name: "MLP",
            seed,
            all_features: false,
            candidates: [(32usize, 0.1), (32, 1.0), (64, 1.0), (64, 3.0), (128, 1.0)]
                .into_iter()
                .map(|(size, decay)| {
                    let label = format!("5 nets averaged, {size} units, decay {decay}");
                    (label, Box::new(NetParams::new(size, decay, seed)) as _)
                })
                .collect(),
            score_all: one_fit_each,
        },
        Method {
            name: "k-NN",
            seed,
            all_features: false,
            candidates: KS
                .into_iter()
                .map(|k| (format!("k = {k}"), Box::new(KnnParams { k }) as _))
                .collect(),
            score_all: knn_all_k,
        },
        Method {
            name: "Logistic regression",
            seed,
            all_features: false,
            candidates: [0.1, 1.0, 10.0]
                .into_iter()
                .map(|d| {
                    (
                        format!("decay = {d}"),
                        Box::new(LogisticParams::new(d)) as _,
                    )
                })
                .collect(),
            score_all: one_fit_each,
        },
    ]
}

/// What [`run`] measured: every entry, McNemar's test, and the time the features took.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// One entry per method, classical first, the CNN last.
    pub entries: Vec<Entry>,
    /// McNemar's exact test of the best classical method against the CNN (classical first).
    pub mcnemar: McNemar,
    /// Seconds spent computing the image features and their components: for choosing the
    /// settings, and for the final fits. Shared by every method but the CNN.
    pub features_seconds: [f64; 2],
}

/// Runs the leaderboard on `data`, with the CNN of `cnn`; `progress` advances once per method
/// and stage.
///
/// Every method's setting is chosen first, on features of the selection and held-out rows
/// alone; only then are the features of all training and test images computed (which keeps
/// one set in memory at a time) and the chosen settings fitted and tested.
pub fn run(
    data: &FashionMnist,
    cnn: &CnnStudy,
    params: &LeaderboardParams,
    progress: &dyn Progress,
) -> Result<Outcome, StudyError> {
    let train = data.train.first(params.train_rows);
    let test = data.test.first(params.test_rows);
    // The held-out split: a seeded permutation of the training rows.
    let mut order: Vec<usize> = (0..train.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(params.seed));
    let validation = train.select(&order[..params.validation_rows]);
    let fitting = train
        .select(&order[params.validation_rows..params.validation_rows + params.selection_rows]);
    let methods = methods(params);
    progress.stage("leaderboard", (2 * methods.len() + 2) as u64);

    progress.message("image features of the selection and held-out images");
    let start = Instant::now();
    let choose = Inputs::new(&fitting, &validation, params.components)?;
    let mut features_seconds = [start.elapsed().as_secs_f64(), 0.0];
    progress.advance(1);
    let yv = validation.labels().to_vec();
    let mut chosen = Vec::with_capacity(methods.len());
    for method in &methods {
        progress.message(&format!(
            "{}: choosing among {} settings",
            method.name,
            method.candidates.len()
        ));
        let start = Instant::now();
        let (x, xv) = choose.seen(method.all_features);
        let scored = (method.score_all)(method, x, &choose.y, xv)?;
        let candidates: Vec<(String, f64)> = method
            .candidates
            .iter()
            .zip(&scored)
            .map(|((label, _), p)| (label.clone(), accuracy(p, &yv)))
            .collect();
        // The first of the best: a tie goes to the earlier setting.
        let best = (0..candidates.len()).fold(0, |b, i| {
            if candidates[i].1 > candidates[b].1 {
                i
            } else {
                b
            }
        });
        chosen.push((best, candidates, start.elapsed().as_secs_f64()));
        progress.advance(1);
    }
    drop(choose);

    progress.message("image features of every training and test image");
    let start = Instant::now();
    let all = Inputs::new(&train, &test, params.components)?;
    features_seconds[1] = start.elapsed().as_secs_f64();
    progress.advance(1);
    let yt = test.labels().to_vec();
    let mut entries = Vec::new();
    for (method, (best, candidates, select_seconds)) in methods.iter().zip(chosen) {
        let (setting, candidate) = &method.candidates[best];
        progress.message(&format!(
            "{}: {setting} on every training image",
            method.name
        ));
        let (x, xt) = all.seen(method.all_features);
        let start = Instant::now();
        let model = candidate.fit_boxed(x, &all.y)?;
        let train_seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let predictions = model.predict(xt);
        let predict_seconds = start.elapsed().as_secs_f64();
        progress.advance(1);
        entries.push(Entry {
            method: method.name,
            inputs: if method.all_features {
                format!(
                    "HOG (4- and 7-pixel cells) and pixels: {} features",
                    thousands(all.x.ncols())
                )
            } else {
                format!(
                    "those features' first {} principal components",
                    params.components
                )
            },
            setting: setting.clone(),
            confusion: ConfusionMatrix::new(&yt, &predictions),
            predictions,
            candidates,
            select_seconds,
            train_seconds,
            predict_seconds,
        });
    }
    // The CNN classifies the leaderboard's own test images, which need not be its section's.
    progress.message("CNN: classifying the test images");
    let start = Instant::now();
    let predictions = cnn.trained.net.predict_images(test.images());
    let predict_seconds = start.elapsed().as_secs_f64();
    entries.push(Entry {
        method: "CNN",
        inputs: format!(
            "the images ({} training images)",
            thousands(cnn.trained.train_images)
        ),
        setting: cnn.trained.net.params().describe(),
        candidates: Vec::new(),
        confusion: ConfusionMatrix::new(&yt, &predictions),
        predictions,
        select_seconds: 0.0,
        train_seconds: cnn.trained.train_seconds,
        predict_seconds,
    });
    let classical = &entries[..entries.len() - 1];
    let best = classical
        .iter()
        .max_by(|a, b| a.confusion.accuracy().total_cmp(&b.confusion.accuracy()))
        .expect("six classical methods");
    let cnn = &entries[entries.len() - 1];
    let mcnemar = mcnemar_exact(&yt, &best.predictions, &cnn.predictions);
    Ok(Outcome {
        entries,
        mcnemar,
        features_seconds,
    })
}

impl Section for Leaderboard {
    type Params = LeaderboardParams;
    const TITLE: &'static str = "Beyond the study: each method at its best, Figure 18";
    const FIGURES: &'static [u8] = &[18];

    fn default_params(study: &Study) -> LeaderboardParams {
        LeaderboardParams::for_study(study)
    }

    fn params(&self) -> &LeaderboardParams {
        &self.params
    }

    fn check(study: &Study, p: &LeaderboardParams) -> Result<(), StudyError> {
        require_train_rows(study, p.train_rows, 2 + KS[KS.len() - 1])?;
        require_test_rows(study, p.test_rows)?;
        require(
            (1..p.train_rows).contains(&p.validation_rows),
            "validation_rows",
            || {
                format!(
                    "must be at least 1 and fewer than the {} training images, got {}",
                    p.train_rows, p.validation_rows
                )
            },
        )?;
        let left = p.train_rows - p.validation_rows;
        require_rows(
            "selection_rows",
            p.selection_rows,
            KS[KS.len() - 1],
            left,
            "training images not held out",
        )?;
        let most = raw_feature_count().min(p.selection_rows);
        require((1..=most).contains(&p.components), "components", || {
            format!(
                "must be between 1 and {most} (the {} image features, and no more than the \
                 selection rows), got {}",
                raw_feature_count(),
                p.components
            )
        })
    }

    /// Runs (or reuses) the CNN of [`crate::study::cnn`] on the same training and test
    /// images, then the classical methods.
    fn run(study: &mut Study, params: &LeaderboardParams) -> Result<Self, StudyError> {
        let cnn_params = CnnStudyParams {
            train_rows: params.train_rows,
            test_rows: params.test_rows,
            ..study.params::<CnnStudy>()
        };
        let cnn = study.run::<CnnStudy>(&cnn_params)?;
        let outcome = run(study.data(), &cnn, params, study.progress())?;
        let machine = crate::study::reproduce::machine();
        let effort = effort(study, &outcome.entries, params, &machine);
        Ok(Leaderboard {
            params: params.clone(),
            entries: outcome.entries,
            mcnemar: outcome.mcnemar,
            features_seconds: outcome.features_seconds,
            machine,
            effort,
        })
    }

    fn tables(&self) -> Vec<TableFile> {
        vec![
            TableFile::new("leaderboard.csv", self.table().to_csv()),
            TableFile::new("leaderboard.md", self.markdown()),
        ]
    }

    fn figures(&self) -> Vec<FigureFile<'_>> {
        vec![FigureFile::new(
            18,
            Some("Figure 18 (beyond the study): accuracy against training time"),
            self.effort.clone(),
        )]
    }
}

/// Features per image: HOG with 4-pixel cells, with 7-pixel cells, and the pixels.
fn raw_feature_count() -> usize {
    HogParams { cell: 4, bins: 9 }.len() + HogParams { cell: 7, bins: 9 }.len() + PIXELS
}

/// Figure 18 from the leaderboard and every section this study has run (nothing is run for
/// it): the study's protocol, the full-data protocol, the leaderboard.
fn effort(study: &Study, entries: &[Entry], params: &LeaderboardParams, machine: &str) -> Effort {
    const STUDY: &str = "study's protocol (~10,000 images)";
    const FULL: &str = "all 60,000, the study's settings";
    const BOARD: &str = "leaderboard (all 60,000)";
    let point = |label: &str, group, accuracy: f64, seconds: f64, labelled| EffortPoint {
        label: label.to_string(),
        group,
        accuracy,
        seconds,
        labelled,
    };
    let mut points = Vec::new();
    if let Some(t1) = study.cached::<Table1>() {
        for m in &t1.models {
            let seconds = m.cv_seconds + m.fit_seconds;
            points.push(point(m.name, STUDY, m.confusion.accuracy(), seconds, false));
        }
    }
    if let Some(knn) = study.cached::<KnnStudy>() {
        for arm in [&knn.raw, &knn.pca] {
            let seconds = arm.cv_seconds;
            points.push(point(
                arm.name,
                STUDY,
                arm.confusion.accuracy(),
                seconds,
                false,
            ));
        }
    }
    if let Some(pm) = study.cached::<PcaModels>() {
        for m in &pm.models {
            let seconds = m.cv_seconds + m.fit_seconds;
            points.push(point(m.name, STUDY, m.confusion.accuracy(), seconds, false));
        }
    }
    if let Some(full) = study.cached::<FullData>() {
        for r in &full.rows {
            points.push(point(r.name, FULL, r.full.accuracy(), r.seconds, false));
        }
    }
    for e in entries {
        let seconds = e.select_seconds + e.train_seconds;
        points.push(point(
            e.method,
            BOARD,
            e.confusion.accuracy(),
            seconds,
            true,
        ));
    }
    Effort::new(
        points,
        &ZALANDO,
        &format!(
            "every model this run trained, tested on the same {} test images; settings chosen \
             on the training images only",
            thousands(params.test_rows)
        ),
        machine,
    )
}

/// A published accuracy as Zalando gives it, to one decimal (89.7%, not 89.70%).
fn published(accuracy: f64) -> String {
    format!("{:.1}%", 100.0 * accuracy)
}

impl Leaderboard {
    /// One row per method: test accuracy with its exact 95% interval, kappa, seconds.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "method",
            "inputs",
            "setting",
            "test_accuracy",
            "ci95_low",
            "ci95_high",
            "kappa",
            "train_seconds",
            "predict_seconds",
            "seed",
        ]);
        for e in &self.entries {
            let cm = &e.confusion;
            let (lo, hi) = cm.accuracy_ci95();
            t.push([
                Cell::text(e.method),
                Cell::text(&e.inputs),
                Cell::text(&e.setting),
                Cell::fixed(cm.accuracy(), 4),
                Cell::fixed(lo, 4),
                Cell::fixed(hi, 4),
                Cell::fixed(cm.kappa(), 4),
                Cell::fixed(e.select_seconds + e.train_seconds, 2),
                Cell::fixed(e.predict_seconds, 2),
                Cell::from(self.params.seed),
            ]);
        }
        t
    }

    /// The leaderboard as a notebook shows it: ours beside Zalando's and the study's, with the
    /// seconds each method took to choose its setting and fit.
    pub fn summary(&self) -> Table {
        let mut t = Table::new([
            "method",
            "setting chosen",
            "test accuracy (95% interval)",
            "Zalando's best",
            "the study's",
            "seconds to choose + fit",
        ]);
        let optional = |v: Option<f64>| v.map(|v| Cell::number(v, pct(v))).into();
        for e in &self.entries {
            let cm = &e.confusion;
            t.push([
                Cell::text(e.method),
                Cell::text(&e.setting),
                Cell::number(
                    cm.accuracy(),
                    pct_interval(cm.accuracy(), cm.accuracy_ci95()),
                ),
                e.zalando().map(|v| Cell::number(v, published(v))).into(),
                optional(e.study()),
                Cell::number(
                    e.select_seconds + e.train_seconds,
                    format!("{:.0} + {:.0}", e.select_seconds, e.train_seconds),
                ),
            ]);
        }
        t
    }

    /// The entry with the best test accuracy among the classical methods.
    pub fn best_classical(&self) -> &Entry {
        self.entries[..self.entries.len() - 1]
            .iter()
            .max_by(|a, b| a.confusion.accuracy().total_cmp(&b.confusion.accuracy()))
            .expect("six classical methods")
    }

    /// The report as Markdown: the table, how each setting was chosen, and McNemar's test.
    pub fn markdown(&self) -> String {
        use std::fmt::Write as _;
        let p = &self.params;
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# Beyond the study: each method at its best on all {} training images\n",
            thousands(p.train_rows)
        );
        let _ = writeln!(
            md,
            "Every classical method sees image features: histograms of oriented gradients with \
             4- and 7-pixel cells and the pixels ({} features); all but the SVM see their first \
             {} principal components. Each setting was chosen on the training images alone: \
             {} of them (seeded, seed {}) were held out, the candidates fitted on {} others and \
             scored on the held-out ones, and the best refitted on all {} and tested once on \
             {} test images. The image features and their components took {:.0} s to compute \
             for choosing and {:.0} s for the final fits, shared by the classical methods and \
             left out of their seconds below. The CNN is the network of `fmnist cnn` (its saved \
             weights are reused while its settings and training images match); its seconds are \
             its training's. Seconds measured on {}.\n",
            thousands(raw_feature_count()),
            p.components,
            thousands(p.validation_rows),
            p.seed,
            thousands(p.selection_rows),
            thousands(p.train_rows),
            thousands(p.test_rows),
            self.features_seconds[0],
            self.features_seconds[1],
            self.machine,
        );
        let mut t = Table::new([
            "method",
            "inputs",
            "setting chosen",
            "test accuracy (95% interval)",
            "kappa",
            "Zalando's best",
            "the study's",
            "seconds: choose + fit, predict",
        ]);
        for e in &self.entries {
            let cm = &e.confusion;
            t.push([
                e.method.to_string(),
                e.inputs.clone(),
                e.setting.clone(),
                pct_interval(cm.accuracy(), cm.accuracy_ci95()),
                format!("{:.3}", cm.kappa()),
                e.zalando().map_or(String::new(), published),
                e.study().map_or(String::new(), pct),
                format!(
                    "{:.0} + {:.0}, {:.1}",
                    e.select_seconds, e.train_seconds, e.predict_seconds
                ),
            ]);
        }
        md.push_str(&t.to_markdown());
        let best = self.best_classical();
        let m = &self.mcnemar;
        let _ = writeln!(
            md,
            "\nThe best classical method, {} ({}), against the CNN ({}) on the same test images: \
             {} right only with the classical method, {} only with the CNN; McNemar's exact \
             test p = {:.1e}.\n",
            best.method,
            pct(best.confusion.accuracy()),
            pct(self.entries[self.entries.len() - 1].confusion.accuracy()),
            m.only_first,
            m.only_second,
            m.p_value
        );
        let _ = writeln!(
            md,
            "## Every candidate setting, on the held-out training images\n"
        );
        let mut c = Table::new(["method", "setting", "held-out accuracy", "chosen"]);
        for e in &self.entries {
            for (label, accuracy) in &e.candidates {
                c.push([
                    e.method.to_string(),
                    label.clone(),
                    pct(*accuracy),
                    if *label == e.setting { "yes" } else { "" }.to_string(),
                ]);
            }
        }
        md.push_str(&c.to_markdown());
        md
    }
}
