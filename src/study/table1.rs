//! Section 2 of the study: five classifiers on the 84 engineered features (Table 1, Figure 4).
//!
//! Protocol: a seeded class-stratified sample of 1,001 training images per class (10,010, as the
//! study), their 84 engineered features, 10-fold stratified cross-validation over each model's
//! grid (the same folds for every model), the best grid point refitted on all 10,010 images and
//! tested on all 10,000 test images. Every scaling step is fitted on training rows only.
//!
//! Grids: SVM C = 0.25, 0.5, …, 32 with γ from kernlab's `sigest`; multinomial logistic
//! regression's weight decay; random forest of 500 trees with mtry = ⌊√84⌋ = 9 (fixed, as the
//! study); kNN k = 5, 7, …, 23 on centred and scaled features; naive Bayes with Gaussian and with
//! kernel densities, reported as two rows.

use std::fmt::Write as _;
use std::time::Instant;

use crate::progress::Progress;
use ndarray::{Array1, Array2, Axis};

use crate::data::{Class, FashionMnist, N_CLASSES};
use crate::eval::{linfa_grid_search, ConfusionMatrix, Fold, GridSearch, StratifiedKFold};
use crate::features::FeatureParams;
use crate::figures::{ClassAccuracy, ConfusionHeatmaps, Misclassified};
use crate::models::bayes::{BayesParams, Density};
use crate::models::forest::ForestParams;
use crate::models::knn::{self, KnnParams};
use crate::models::logistic::LogisticParams;
use crate::models::svm::{self, Gamma, SvmParams};
use crate::models::Scaled;
use crate::preprocess::Standardizer;
use crate::report::{pct, thousands, Cell, Table};
pub use crate::study::ModelResult;
use crate::study::{confusion_markdown, cv, finish, grid_markdown, grid_of, verdict};
use crate::study::{
    require_at_least, require_each, require_ks, require_per_class, require_rows, require_test_rows,
    FigureFile, Preset, Section, Study, StudyError, TableFile,
};

/// The study's Table 1, for comparison: model, training minutes, training accuracy, test accuracy.
pub const PAPER: [(&str, f64, f64, f64); 5] = [
    ("SVM (radial)", 19.0, 0.854, 0.856),
    ("Multinomial logistic regression", 9.3, 0.861, 0.824),
    ("Random forest", 5.5, 0.799, 0.855),
    ("k-NN", 2.6, 0.8292, 0.795),
    ("Naive Bayes", 0.2, 0.715, 0.713),
];

/// Rows of Figure 15: the most frequent (true, predicted) pairs.
pub const MISTAKE_PAIRS: usize = 8;
/// Images shown in each row of Figure 15.
pub const MISTAKES_PER_PAIR: usize = 8;

/// Settings of the section-2 study; the default is the study's protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Table1Params {
    /// Training images sampled per class (the study: 1,001).
    pub per_class: usize,
    /// Test rows: the first this many test images.
    pub test_rows: usize,
    /// Cross-validation folds.
    pub folds: usize,
    /// SVM costs, ascending.
    pub svm_costs: Vec<f64>,
    /// Logistic regression weight decays.
    pub decays: Vec<f64>,
    /// kNN's k values.
    pub ks: Vec<usize>,
    /// Trees in the random forest.
    pub trees: usize,
    /// Seed of the sample, the folds, γ's estimate and the forest.
    pub seed: u64,
}

impl Preset for Table1Params {
    /// A run of seconds that exercises every step (60 images per class, 300 test images, 20
    /// trees): for checking the pipeline, not for its numbers.
    fn quick() -> Self {
        Table1Params {
            per_class: 60,
            test_rows: 300,
            trees: 20,
            ..Table1Params::default()
        }
    }

    fn with_seed(self, seed: u64) -> Self {
        Table1Params { seed, ..self }
    }
}

impl Default for Table1Params {
    fn default() -> Self {
        Table1Params {
            per_class: 1_001,
            test_rows: 10_000,
            folds: 10,
            svm_costs: SvmParams::cost_grid(),
            decays: LogisticParams::decay_grid(),
            ks: (5..=23).step_by(2).collect(),
            trees: 500,
            seed: 42,
        }
    }
}

/// The results of the section-2 study.
#[derive(Debug, Clone)]
pub struct Table1 {
    /// The settings it ran with.
    pub params: Table1Params,
    /// One entry per row of the table, in the study's order.
    pub models: Vec<ModelResult>,
    /// The settings cross-validation chose, to refit elsewhere (the full-data protocol).
    pub chosen: Table1Chosen,
    /// Beyond the study: the SVM's most frequent mistakes on the test images.
    pub misclassified: Misclassified,
}

/// The settings the section-2 cross-validation chose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Table1Chosen {
    /// The SVM (its γ is estimated from whatever rows it is fitted on).
    pub svm: SvmParams,
    /// The logistic regression.
    pub logistic: LogisticParams,
    /// The forest.
    pub forest: ForestParams,
    /// kNN's k, on centred and scaled features.
    pub knn_k: usize,
}

impl Table1 {
    /// The table with `model` as one more row (from [`Table1Inputs::evaluate`]), after the
    /// study's rows.
    pub fn with_model(&self, model: ModelResult) -> Table1 {
        let mut table = self.clone();
        table.models.push(model);
        table
    }

    /// The SVM's results (the study's Figure 4).
    pub fn svm(&self) -> &ModelResult {
        &self.models[0]
    }

    /// Figure 4: the SVM's precision (the study's measure) and recall by class.
    pub fn accuracy_figure(&self) -> ClassAccuracy {
        ClassAccuracy::new(
            "fig04_svm_accuracy_by_class",
            "SVM (radial), engineered features",
            &self.svm().confusion,
        )
    }

    /// Beyond the study: the SVM's confusion matrix as counts beside each true class's shares.
    pub fn svm_confusion_figure(&self) -> ConfusionHeatmaps {
        ConfusionHeatmaps::counts_and_shares(
            "fig16_confusion_svm_shares",
            "SVM (radial), engineered features",
            &self.svm().confusion,
        )
    }

    /// Every model's test confusion matrix, beside Figure 4.
    pub fn confusion_figure(&self) -> ConfusionHeatmaps {
        ConfusionHeatmaps::new(
            "fig04_confusion_engineered_features",
            "Confusion matrices of the section-2 models (84 engineered features)",
            self.models
                .iter()
                .map(|m| (m.name.to_string(), m.confusion.clone()))
                .collect(),
        )
    }
}

impl Section for Table1 {
    type Params = Table1Params;
    const TITLE: &'static str = "Section 2: Table 1 and Figures 4, 15, 16";
    const FIGURES: &'static [u8] = &[4, 15, 16];

    fn default_params(study: &Study) -> Table1Params {
        Table1Params::for_study(study)
    }

    fn params(&self) -> &Table1Params {
        &self.params
    }

    fn check(study: &Study, p: &Table1Params) -> Result<(), StudyError> {
        require_per_class(study, p.per_class)?;
        require_test_rows(study, p.test_rows)?;
        let rows = p.per_class * N_CLASSES;
        require_rows("folds", p.folds, 2, rows, "training images")?;
        require_each("svm_costs", &p.svm_costs, "a finite number > 0", |c| {
            c.is_finite() && *c > 0.0
        })?;
        require_each("decays", &p.decays, "a finite number >= 0", |d| {
            d.is_finite() && *d >= 0.0
        })?;
        // The options first, then the grids they constrain.
        require_at_least("trees", p.trees, 1)?;
        require_ks("ks", &p.ks, rows, p.folds)
    }

    fn run(study: &mut Study, params: &Table1Params) -> Result<Self, StudyError> {
        run(study.data(), params, study.progress())
    }

    fn tables(&self) -> Vec<TableFile> {
        vec![
            TableFile::new("table1.csv", self.table().to_csv()),
            TableFile::new("table1_timings.csv", self.timings().to_csv()),
            TableFile::new(
                "table1_svm_by_class.csv",
                self.svm().confusion.class_report().to_csv(),
            ),
            TableFile::new("table1.md", self.markdown()),
        ]
    }

    fn figures(&self) -> Vec<FigureFile<'_>> {
        vec![
            FigureFile::new(
                4,
                Some("Figure 4: the SVM's precision and recall by class"),
                self.accuracy_figure(),
            ),
            FigureFile::new(4, None, self.confusion_figure()),
            FigureFile::new(
                15,
                Some("Figure 15 (beyond the study): the SVM's most frequent mistakes"),
                self.misclassified.clone(),
            ),
            FigureFile::new(
                16,
                Some("Figure 16 (beyond the study): the SVM's confusion matrix, counts and shares"),
                self.svm_confusion_figure(),
            ),
        ]
    }
}

/// The section's inputs as its models see them: the sampled training images' engineered
/// features and labels, the test images', and the cross-validation folds. Any linfa
/// classifier goes through the same protocol with [`Table1Inputs::evaluate`].
#[derive(Debug, Clone)]
pub struct Table1Inputs {
    /// Engineered features of the sampled training images (rows × 84).
    pub x: Array2<f64>,
    /// Their labels.
    pub y: Vec<u8>,
    /// Engineered features of the test rows.
    pub test_x: Array2<f64>,
    /// Their labels.
    pub test_y: Vec<u8>,
    /// The folds every model is cross-validated on.
    pub folds: Vec<Fold>,
}

impl Table1Inputs {
    /// The sample, features and folds that `params` describe.
    pub fn new(data: &FashionMnist, params: &Table1Params) -> Result<Self, StudyError> {
        let sample = data
            .train
            .stratified_sample(params.per_class, params.seed)?;
        let test = data.test.first(params.test_rows);
        let builder = FeatureParams::default();
        let y = sample.labels().to_vec();
        Ok(Table1Inputs {
            x: builder.transform(sample.images()),
            test_x: builder.transform(test.images()),
            folds: StratifiedKFold::new(params.folds, params.seed).split(&y),
            y,
            test_y: test.labels().to_vec(),
        })
    }

    /// Puts any linfa classifier through the section's protocol: every labelled setting of
    /// `grid` cross-validated on the section's folds, the best refitted on all training rows
    /// and tested on the test rows. The result is a row for [`Table1::with_model`]; it has no
    /// study row to compare with. `E` is the estimator's error type, which Rust cannot infer
    /// from the parameters alone: `linfa::Error` for linfa-trees, [`crate::models::ModelError`]
    /// for ours.
    pub fn evaluate<P, E>(
        &self,
        name: &'static str,
        grid: &[(String, P)],
        progress: &dyn Progress,
    ) -> Result<ModelResult, E>
    where
        P: linfa::traits::Fit<Array2<f64>, Array1<usize>, E> + Clone + Sync,
        P::Object: linfa::traits::PredictInplace<Array2<f64>, Array1<usize>>,
        E: std::error::Error + From<linfa::Error> + Send + Sync,
    {
        use linfa::traits::Predict as _;
        progress.stage(name, grid.len() as u64 + 1);
        let y: Vec<usize> = self.y.iter().map(|&l| usize::from(l)).collect();
        let start = Instant::now();
        let points = grid
            .iter()
            .map(|(_, p)| {
                let point =
                    linfa_grid_search(std::slice::from_ref(p), self.x.view(), &y, &self.folds);
                progress.advance(1);
                point.map(|g| g.points.into_iter().next().expect("one setting, one point"))
            })
            .collect::<Result<Vec<_>, E>>()?;
        let g = GridSearch::from_points(points);
        let cv_seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let (_, best) = &grid[g.best];
        let model = best.fit(&linfa::Dataset::new(self.x.clone(), Array1::from(y)))?;
        let fit_seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let predicted: Array1<usize> = model.predict(&self.test_x);
        let predict_seconds = start.elapsed().as_secs_f64();
        let n_classes = crate::models::n_classes(&self.y);
        let predictions = predicted
            .iter()
            .map(|&l| {
                u8::try_from(l)
                    .ok()
                    .filter(|&l| usize::from(l) < n_classes)
                    .ok_or_else(|| {
                        E::from(linfa::Error::Parameters(format!(
                            "{name} predicted label {l}, a class it was not trained on"
                        )))
                    })
            })
            .collect::<Result<Vec<u8>, E>>()?;
        progress.advance(1);
        Ok(ModelResult {
            name,
            paper_row: None,
            chosen: grid[g.best].0.clone(),
            grid: g
                .points
                .iter()
                .zip(grid)
                .map(|(p, (label, _))| (label.clone(), p.mean(), p.sd()))
                .collect(),
            best: g.best,
            cv_seconds,
            fit_seconds,
            predict_seconds,
            confusion: ConfusionMatrix::with_classes(n_classes, &self.test_y, &predictions),
            predictions,
        })
    }
}

/// Runs the section-2 study. `progress` advances once per fold of every grid point (the SVM's
/// and kNN's grids advance once per fold, all their points at once) and once per final fit.
pub fn run(
    data: &FashionMnist,
    params: &Table1Params,
    progress: &dyn Progress,
) -> Result<Table1, StudyError> {
    let Table1Inputs {
        x,
        y,
        test_x: xt,
        test_y: yt,
        folds,
    } = Table1Inputs::new(data, params)?;
    let data4 = (x.view(), y.as_slice(), xt.view(), yt.as_slice());
    let per_grid = |points: usize| (points * folds.len()) as u64;
    progress.stage(
        "SVM (radial)",
        per_grid(1) // SVM: every cost per fold
            + per_grid(params.decays.len())
            + per_grid(1) // forest
            + per_grid(1) // kNN: every k per fold
            + per_grid(2) // naive Bayes, two densities
            + 6, // final fits
    );
    let mut models = Vec::new();

    let start = Instant::now();
    let gamma = Gamma::Sigest { seed: params.seed };
    let g = svm::cross_validate(x.view(), &y, &folds, &params.svm_costs, gamma, || {
        progress.advance(1)
    })?;
    let best = SvmParams {
        c: g.best().params,
        gamma,
    };
    let fitted_gamma = svm::sigest(
        Standardizer::fit(x.view()).transform(x.view()).view(),
        params.seed,
    );
    models.push(finish(
        "SVM (radial)",
        0,
        &best,
        format!("C = {}, γ = {fitted_gamma:.4} (sigest)", best.c),
        grid_of(&g, |c| format!("C = {c}")),
        g.best,
        start.elapsed().as_secs_f64(),
        data4,
    )?);
    progress.advance(1);

    progress.message("multinomial logistic");
    let start = Instant::now();
    let grid: Vec<LogisticParams> = params
        .decays
        .iter()
        .map(|&d| LogisticParams::new(d))
        .collect();
    let g = cv(x.view(), &y, &folds, &grid, progress)?;
    let logistic = g.best().params;
    models.push(finish(
        "Multinomial logistic regression",
        1,
        &g.best().params,
        format!("decay = {}", g.best().params.decay),
        grid_of(&g, |p| format!("decay = {}", p.decay)),
        g.best,
        start.elapsed().as_secs_f64(),
        data4,
    )?);
    progress.advance(1);

    progress.message("random forest");
    let start = Instant::now();
    let forest = ForestParams {
        trees: params.trees,
        ..ForestParams::study(x.ncols(), params.seed)
    };
    let g = cv(x.view(), &y, &folds, &[forest], progress)?;
    models.push(finish(
        "Random forest",
        2,
        &forest,
        format!(
            "{} trees, mtry = {}",
            forest.trees,
            forest.mtry_for(x.ncols())
        ),
        grid_of(&g, |p| format!("mtry = {}", p.mtry_for(x.ncols()))),
        g.best,
        start.elapsed().as_secs_f64(),
        data4,
    )?);
    progress.advance(1);

    progress.message("k-NN");
    let start = Instant::now();
    let g = knn::cross_validate(
        &y,
        &folds,
        &params.ks,
        |fold| {
            let fit_rows = x.select(Axis(0), &fold.train);
            let scaler = Standardizer::fit(fit_rows.view());
            let f32s = |m: Array2<f64>| m.mapv(|v| v as f32);
            (
                f32s(scaler.transform(fit_rows.view())),
                f32s(scaler.transform(x.select(Axis(0), &fold.test).view())),
            )
        },
        || progress.advance(1),
    );
    let k = g.best().params;
    models.push(finish(
        "k-NN",
        3,
        &Scaled(KnnParams { k }),
        format!("k = {k}, centred and scaled"),
        grid_of(&g, |k| format!("k = {k}")),
        g.best,
        start.elapsed().as_secs_f64(),
        data4,
    )?);
    progress.advance(1);

    for (name, density) in [
        ("Naive Bayes (kernel)", Density::Kernel),
        ("Naive Bayes (Gaussian)", Density::Gaussian),
    ] {
        progress.message(name);
        let start = Instant::now();
        let p = BayesParams { density };
        let g = cv(x.view(), &y, &folds, &[p], progress)?;
        models.push(finish(
            name,
            4,
            &p,
            format!("{density:?} densities").to_lowercase(),
            grid_of(&g, |_| format!("{density:?}").to_lowercase()),
            g.best,
            start.elapsed().as_secs_f64(),
            data4,
        )?);
        progress.advance(1);
    }

    let misclassified = Misclassified::new(
        "fig15_misclassified_svm",
        "SVM (radial), engineered features",
        &data.test.first(params.test_rows),
        &models[0].predictions,
        MISTAKE_PAIRS,
        MISTAKES_PER_PAIR,
    )?;
    Ok(Table1 {
        params: params.clone(),
        models,
        misclassified,
        chosen: Table1Chosen {
            svm: best,
            logistic,
            forest,
            knn_k: k,
        },
    })
}

impl Table1 {
    /// One row per model: chosen settings, CV and test accuracy with the exact 95% interval,
    /// kappa, and the study's values. No timings (see [`Table1::timings`]), so the same seed
    /// gives the same file.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "model",
            "chosen",
            "cv_accuracy",
            "cv_sd",
            "test_accuracy",
            "ci95_low",
            "ci95_high",
            "kappa",
            "study_cv_accuracy",
            "study_test_accuracy",
            "seed",
        ]);
        for m in &self.models {
            let study = m.paper_row.map(|r| PAPER[r]);
            t.push(m.result_cells().into_iter().chain([
                study.map(|(_, _, cv, _)| Cell::fixed(cv, 4)).into(),
                study.map(|(_, _, _, test)| Cell::fixed(test, 4)).into(),
                Cell::from(self.params.seed),
            ]));
        }
        t
    }

    /// Table 1 as a notebook shows it: each model's chosen setting, test accuracy with its 95%
    /// interval and kappa, beside the study's test accuracy (`table()` has every column).
    pub fn summary(&self) -> Table {
        let mut t = Table::new([
            "model",
            "setting chosen",
            "test accuracy (95% interval)",
            "kappa",
            "the study's",
        ]);
        for m in &self.models {
            let study = m.paper_row.map(|r| PAPER[r].3);
            t.push(
                m.summary_cells()
                    .into_iter()
                    .chain([study.map(|s| Cell::number(s, pct(s))).into()]),
            );
        }
        t
    }

    /// Seconds per model on this machine: cross-validation, refit, test prediction, and the
    /// study's training minutes.
    pub fn timings(&self) -> Table {
        let mut t = Table::new([
            "model",
            "cv_seconds",
            "fit_seconds",
            "predict_seconds",
            "study_training_minutes",
        ]);
        for m in &self.models {
            t.push([
                Cell::text(m.name),
                Cell::fixed(m.cv_seconds, 2),
                Cell::fixed(m.fit_seconds, 2),
                Cell::fixed(m.predict_seconds, 2),
                m.paper_row
                    .map(|r| Cell::number(PAPER[r].1, PAPER[r].1.to_string()))
                    .into(),
            ]);
        }
        t
    }

    /// The whole report as Markdown.
    pub fn markdown(&self) -> String {
        let p = &self.params;
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# Table 1: classifiers on the 84 engineered features (study section 2)\n"
        );
        let _ = writeln!(
            md,
            "Training rows: a class-stratified sample of {} images per class ({} in all, seed {}); \
             test rows: the first {} test images. {}-fold stratified cross-validation, the same \
             folds for every model; the best setting is refitted on all training rows. Scaling is \
             fitted on training rows only.\n",
            thousands(p.per_class),
            thousands(p.per_class * 10),
            p.seed,
            thousands(p.test_rows),
            p.folds
        );
        let mut t = Table::new([
            "model",
            "chosen",
            "CV accuracy",
            "test accuracy, 95% interval",
            "kappa",
            "study: CV, test",
            "verdict",
            "time (s)",
            "study (min)",
        ]);
        for m in &self.models {
            let (lo, hi) = m.confusion.accuracy_ci95();
            let acc = m.confusion.accuracy();
            let (study, verdict, minutes) = match m.paper_row.map(|r| PAPER[r]) {
                Some((_, minutes, study_cv, study_test)) => (
                    format!("{}, {}", pct(study_cv), pct(study_test)),
                    verdict(study_test, acc, (lo, hi)),
                    minutes.to_string(),
                ),
                None => (String::new(), "", String::new()),
            };
            t.push([
                m.name.to_string(),
                m.chosen.clone(),
                pct(m.cv_accuracy()),
                format!("{} ({} to {})", pct(acc), pct(lo), pct(hi)),
                format!("{:.3}", m.confusion.kappa()),
                study,
                verdict.to_string(),
                format!("{:.1}", m.cv_seconds + m.fit_seconds),
                minutes,
            ]);
        }
        md.push_str(&t.to_markdown());
        let total: f64 = self
            .models
            .iter()
            .map(|m| m.cv_seconds + m.fit_seconds + m.predict_seconds)
            .sum();
        let _ = writeln!(
            md,
            "\nTime: cross-validation plus the final fit, on this machine; the whole table took \
             {total:.0} s. The study's times are R caret's on a personal computer (36.6 minutes in all).\n"
        );
        let _ = writeln!(md, "## Cross-validated accuracy of every grid point\n");
        md.push_str(&grid_markdown(&self.models));
        let _ = writeln!(md, "\n## Accuracy by class (sensitivity, test)\n");
        let mut t = Table::new(
            std::iter::once("class".to_string())
                .chain(self.models.iter().map(|m| m.name.to_string())),
        );
        for class in Class::ALL {
            let c = usize::from(class.label());
            t.push(
                std::iter::once(class.name().to_string()).chain(
                    self.models
                        .iter()
                        .map(|m| pct(m.confusion.class_metrics(c).sensitivity)),
                ),
            );
        }
        md.push_str(&t.to_markdown());
        md.push_str(&confusion_markdown(&self.models));
        md
    }
}
