//! Beyond the study: every model it trains, fitted on all 60,000 training images instead of
//! its subsets of about 10,000, and tested on the same 10,000 test images.
//!
//! The grids shrink to one point each: every model keeps the setting that cross-validation
//! chose on the study's protocol (sections 2, 3.2 and 3.3), so this protocol measures what six
//! times more training data buys at fixed hyperparameters, and nothing else. Feature building,
//! the near-zero-variance filter, scaling and the kernel width are refitted on the 60,000
//! images; the PCA is the one of section 3.1, already fitted on them.

use std::time::Instant;

use crate::progress::Progress;
use ndarray::Array2;

use crate::data::FashionMnist;
use crate::eval::ConfusionMatrix;
use crate::features::FeatureParams;
use crate::models::bayes::{BayesParams, Density};
use crate::models::knn::{self, KnnParams};
use crate::models::{Classifier, Fit, ModelError, Scaled};
use crate::pca::Pca;
use crate::preprocess::PixelPrep;
use crate::report::{pct, thousands, Cell, Table};
use crate::study::knn::{KnnStudy, KnnStudyParams};
use crate::study::pca_models::{PcaModels, PcaModelsParams};
use crate::study::table1::{Table1, Table1Params};
use crate::study::{require_train_rows, ModelResult, Section, Study, StudyError, TableFile};

/// One model on the full training set, beside the same model on the study's protocol.
#[derive(Debug, Clone)]
pub struct FullRow {
    /// The study's section.
    pub section: &'static str,
    /// The model, as in its section's table.
    pub name: &'static str,
    /// The inputs it saw.
    pub features: &'static str,
    /// The setting (chosen on the study's protocol).
    pub setting: String,
    /// Its test confusion matrix on the study's protocol.
    pub paper: ConfusionMatrix,
    /// Its test confusion matrix when trained on every training image.
    pub full: ConfusionMatrix,
    /// Seconds to fit on every training image and predict the test images.
    pub seconds: f64,
}

/// Settings of the full-data protocol: how many training images, the seed, and the study's
/// runs whose chosen settings are refitted.
#[derive(Debug, Clone, PartialEq)]
pub struct FullParams {
    /// Training images: the first this many (all 60,000 by default).
    pub train_rows: usize,
    /// The seed of every random step.
    pub seed: u64,
    /// Section 2 as run on the study's protocol.
    pub table1: Table1Params,
    /// Section 3.2 as run on the study's protocol.
    pub knn: KnnStudyParams,
    /// Section 3.3 as run on the study's protocol.
    pub pca_models: PcaModelsParams,
}

/// The results of the full-data protocol.
#[derive(Debug, Clone)]
pub struct FullData {
    /// The settings it ran with.
    pub params: FullParams,
    /// Training images used.
    pub train_rows: usize,
    /// Test images used.
    pub test_rows: usize,
    /// The seed of every random step.
    pub seed: u64,
    /// One row per model, in the study's order.
    pub rows: Vec<FullRow>,
}

/// The studies run on the study's protocol, whose chosen settings are refitted here.
#[derive(Debug, Clone, Copy)]
pub struct PaperRuns<'a> {
    /// Section 2.
    pub table1: &'a Table1,
    /// Section 3.2.
    pub knn: &'a KnnStudy,
    /// Section 3.3.
    pub pca_models: &'a PcaModels,
}

/// Runs the full-data protocol with the settings of `paper` on the first `params.train_rows`
/// training images (60,000: all of them); `progress` advances once per model.
pub fn run<'a>(
    data: &FashionMnist,
    pca: &Pca,
    paper: PaperRuns<'a>,
    params: &FullParams,
    progress: &dyn Progress,
) -> Result<FullData, StudyError> {
    let train = &data.train.first(params.train_rows);
    let test = data.test.first(paper.table1.params.test_rows);
    let y = train.labels().to_vec();
    let yt = test.labels().to_vec();
    progress.stage("every model on all training images", 13);
    let mut rows = Vec::new();
    let mut push = |(section, name, setting, paper): (
        &'static str,
        &'static str,
        String,
        &ConfusionMatrix,
    ),
                    features,
                    fit_predict: &dyn Fn() -> Vec<u8>| {
        progress.message(name);
        let start = Instant::now();
        let predictions = fit_predict();
        rows.push(FullRow {
            section,
            name,
            features,
            setting,
            paper: paper.clone(),
            full: ConfusionMatrix::new(&yt, &predictions),
            seconds: start.elapsed().as_secs_f64(),
        });
        progress.advance(1);
    };
    let of = |section, m: &'a ModelResult| (section, m.name, m.chosen.clone(), &m.confusion);
    // Fit-and-predict of any model on given inputs; errors surface after the loop.
    let errors = std::cell::RefCell::new(Vec::<ModelError>::new());
    let fit = |p: &dyn FitPredict, x: &Array2<f64>, xt: &Array2<f64>| {
        p.fit_predict(x, &y, xt).unwrap_or_else(|e| {
            errors.borrow_mut().push(e);
            vec![0; xt.nrows()]
        })
    };

    // Section 2: the 84 engineered features of every training image.
    progress.message("engineered features");
    let builder = FeatureParams::default();
    let (fx, ft) = (
        builder.transform(train.images()),
        builder.transform(test.images()),
    );
    let t1 = paper.table1;
    let c = &t1.chosen;
    let features = "84 engineered features";
    let section2: [&dyn FitPredict; 6] = [
        &c.svm,
        &c.logistic,
        &c.forest,
        &Scaled(KnnParams { k: c.knn_k }),
        &BayesParams {
            density: Density::Kernel,
        },
        &BayesParams {
            density: Density::Gaussian,
        },
    ];
    for (m, p) in t1.models.iter().zip(section2) {
        push(of("2", m), features, &|| fit(p, &fx, &ft));
    }

    // Section 3.2: kNN on filtered, scaled pixels and on PCA scores.
    let knn_study = paper.knn;
    let arm = |name, a: &'a crate::study::knn::KnnArm| {
        ("3.2", name, format!("k = {}", a.k()), &a.confusion)
    };
    push(
        arm("k-NN, raw pixels", &knn_study.raw),
        "pixels, near-zero-variance filtered, scaled",
        &|| {
            let prep = PixelPrep::fit(train.images());
            let (a, b) = (prep.apply(train.images()), prep.apply(test.images()));
            knn::predict(a.view(), &y, b.view(), knn_study.raw.k())
        },
    );
    let components = knn_study.pca.columns;
    let px = pca.transform(train.images(), components)?;
    let pt = pca.transform(test.images(), components)?;
    push(
        arm("k-NN, PCA scores", &knn_study.pca),
        "PCA scores",
        &|| {
            let f32s = |m: &Array2<f64>| m.mapv(|v| v as f32);
            knn::predict(f32s(&px).view(), &y, f32s(&pt).view(), knn_study.pca.k())
        },
    );

    // Section 3.3: the three models on the PCA scores.
    let pm = paper.pca_models;
    let section3: [&dyn FitPredict; 3] = [&pm.chosen.boost, &pm.chosen.net, &pm.chosen.forest];
    for (m, p) in pm.models.iter().zip(section3) {
        push(of("3.3", m), "PCA scores", &|| fit(p, &px, &pt));
    }
    if let Some(e) = errors.into_inner().into_iter().next() {
        return Err(e.into());
    }
    Ok(FullData {
        params: params.clone(),
        train_rows: train.len(),
        test_rows: test.len(),
        seed: params.seed,
        rows,
    })
}

/// Fit on one set, predict another: what every row needs, whatever its model type.
trait FitPredict: Sync {
    fn fit_predict(
        &self,
        x: &Array2<f64>,
        y: &[u8],
        xt: &Array2<f64>,
    ) -> Result<Vec<u8>, ModelError>;
}

impl<P: Fit + Sync> FitPredict for P {
    fn fit_predict(
        &self,
        x: &Array2<f64>,
        y: &[u8],
        xt: &Array2<f64>,
    ) -> Result<Vec<u8>, ModelError> {
        Ok(self.fit(x.view(), y)?.predict(xt.view()))
    }
}

impl Section for FullData {
    type Params = FullParams;
    const TITLE: &'static str = "Beyond the study: every model on all training images";
    const FIGURES: &'static [u8] = &[];

    fn default_params(study: &Study) -> FullParams {
        FullParams {
            train_rows: if study.is_quick() {
                2_000
            } else {
                study.data().train.len()
            },
            seed: study.seed(),
            table1: study.params::<Table1>(),
            knn: study.params::<KnnStudy>(),
            pca_models: study.params::<PcaModels>(),
        }
    }

    fn params(&self) -> &FullParams {
        &self.params
    }

    fn check(study: &Study, p: &FullParams) -> Result<(), StudyError> {
        require_train_rows(study, p.train_rows, 1)
    }

    /// Runs (or reuses) the three sections whose chosen settings it refits, then refits them.
    fn run(study: &mut Study, params: &FullParams) -> Result<Self, StudyError> {
        let table1 = study.run::<Table1>(&params.table1)?;
        let knn = study.run::<KnnStudy>(&params.knn)?;
        let pca_models = study.run::<PcaModels>(&params.pca_models)?;
        let pca = study.pca()?;
        let paper = PaperRuns {
            table1: &table1,
            knn: &knn,
            pca_models: &pca_models,
        };
        run(study.data(), &pca, paper, params, study.progress())
    }

    fn tables(&self) -> Vec<TableFile> {
        vec![
            TableFile::new("full.csv", self.table().to_csv()),
            TableFile::new("full_timings.csv", self.timings().to_csv()),
        ]
    }
}

impl FullData {
    /// One row per model: both protocols' test accuracy with exact 95% intervals and kappa.
    /// No timings, so the same seed gives the same file.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "section",
            "model",
            "features",
            "setting",
            "paper_accuracy",
            "paper_ci95_low",
            "paper_ci95_high",
            "full_accuracy",
            "full_ci95_low",
            "full_ci95_high",
            "full_kappa",
            "train_rows",
            "seed",
        ]);
        for r in &self.rows {
            let (pl, ph) = r.paper.accuracy_ci95();
            let (fl, fh) = r.full.accuracy_ci95();
            t.push([
                Cell::text(r.section),
                Cell::text(r.name),
                Cell::text(r.features),
                Cell::text(&r.setting),
                Cell::fixed(r.paper.accuracy(), 4),
                Cell::fixed(pl, 4),
                Cell::fixed(ph, 4),
                Cell::fixed(r.full.accuracy(), 4),
                Cell::fixed(fl, 4),
                Cell::fixed(fh, 4),
                Cell::fixed(r.full.kappa(), 4),
                Cell::from(self.train_rows),
                Cell::from(self.seed),
            ]);
        }
        t
    }

    /// Seconds per model to fit on every training image and predict.
    pub fn timings(&self) -> Table {
        let mut t = Table::new(["model", "fit_predict_seconds"]);
        for r in &self.rows {
            t.push([Cell::text(r.name), Cell::fixed(r.seconds, 2)]);
        }
        t
    }

    /// The side-by-side table as Markdown.
    pub fn markdown(&self) -> String {
        let mut t = Table::new([
            "section",
            "model",
            "setting",
            "study's protocol (~10,000 images)",
            &format!("all {} training images", thousands(self.train_rows)),
            "gain",
            "kappa",
            "time (s)",
        ]);
        for r in &self.rows {
            let (pl, ph) = r.paper.accuracy_ci95();
            let (fl, fh) = r.full.accuracy_ci95();
            t.push([
                r.section.to_string(),
                r.name.to_string(),
                r.setting.clone(),
                format!("{} ({}–{})", pct(r.paper.accuracy()), pct(pl), pct(ph)),
                format!("{} ({}–{})", pct(r.full.accuracy()), pct(fl), pct(fh)),
                format!(
                    "{:+.1} points",
                    100.0 * (r.full.accuracy() - r.paper.accuracy())
                ),
                format!("{:.3}", r.full.kappa()),
                format!("{:.1}", r.seconds),
            ]);
        }
        t.to_markdown()
    }
}
