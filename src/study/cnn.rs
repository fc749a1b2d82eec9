//! Beyond the study: the convolutional network its abstract promises, trained on all 60,000
//! training images and tested on the 10,000 test images, beside the best classical model of
//! the full-data protocol (gradient boosting on the 187 PCA scores, fitted on the same images
//! at the setting section 3.3's cross-validation chose).
//!
//! Training takes minutes, so the trained weights are saved (safetensors, with the settings,
//! the learning curve and the training time in the header) and reused by the next run whose
//! settings and training images match; anything else trains afresh and replaces the file.
//! The number of epochs is fixed in advance: the test images are scored after every epoch to
//! draw the learning curve, and nothing is chosen by them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::progress::Progress;

use crate::data::{FashionMnist, N_CLASSES, PIXELS};
use crate::eval::{mcnemar_exact, ConfusionMatrix, McNemar};
use crate::figures::{CnnLearningCurve, ConfusionHeatmaps};
use crate::models::boost::BoostParams;
use crate::models::cnn::{CnnParams, TrainedCnn};
use crate::models::Classifier;
use crate::pca::Pca;
use crate::report::{pct, pct_interval, thousands, Cell, Table};
use crate::study::{
    require_rows, require_test_rows, require_train_rows, FigureFile, Preset, Section, Study,
    StudyError, TableFile,
};

/// Epochs the section trains: the default network's.
pub const EPOCHS: usize = crate::models::cnn::DEFAULT_EPOCHS;

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct CnnStudyParams {
    /// The network and its training.
    pub net: CnnParams,
    /// Training images (the first N; all 60,000 by default).
    pub train_rows: usize,
    /// Test images (the first N; all 10,000 by default).
    pub test_rows: usize,
    /// The classical model compared with: gradient boosting on PCA scores.
    pub baseline: BoostParams,
    /// PCA components the baseline sees (section 3.1's 187 by default).
    pub components: usize,
    /// Train even when matching saved weights exist.
    pub retrain: bool,
}

impl Default for CnnStudyParams {
    fn default() -> Self {
        CnnStudyParams {
            net: CnnParams::new(EPOCHS, 42),
            train_rows: 60_000,
            test_rows: 10_000,
            baseline: BoostParams {
                trees: 300,
                depth: 5,
                learning_rate: 0.1,
                min_node: 1,
                ..BoostParams::study(42)
            },
            components: 187,
            retrain: false,
        }
    }
}

impl Preset for CnnStudyParams {
    /// A run of seconds that exercises every step (a narrow network, one epoch on 2,000
    /// images, 1,000 test images, 20 boosting rounds): for checking the pipeline, not for its
    /// numbers.
    fn quick() -> Self {
        let d = Self::default();
        CnnStudyParams {
            net: CnnParams {
                conv1: 8,
                conv2: 16,
                conv3: 16,
                hidden: 32,
                epochs: 2,
                ..d.net
            },
            train_rows: 2_000,
            test_rows: 1_000,
            baseline: BoostParams {
                trees: 20,
                ..d.baseline
            },
            ..d
        }
    }

    /// Seeds the network's initialisation and batches and the baseline's row samples.
    fn with_seed(self, seed: u64) -> Self {
        CnnStudyParams {
            net: CnnParams { seed, ..self.net },
            baseline: BoostParams {
                seed,
                ..self.baseline
            },
            ..self
        }
    }
}

/// Where the network's weights came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightsOrigin {
    /// Read from a saved file whose settings matched.
    Reused {
        /// The file: the study's own weights, or the fallback when only those matched.
        path: PathBuf,
    },
    /// Trained in this run (and saved, when a path was given); `replaced` says why a saved file
    /// was not used.
    Trained {
        /// Why existing weights were not reused, if there were any.
        replaced: Option<String>,
    },
}

/// The classical model the network is compared with.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Its name.
    pub name: String,
    /// Its setting.
    pub setting: String,
    /// Its test predictions.
    pub predictions: Vec<u8>,
    /// Its test confusion matrix.
    pub confusion: ConfusionMatrix,
    /// Seconds to fit and predict.
    pub seconds: f64,
}

/// The network's results.
#[derive(Debug, Clone)]
pub struct CnnStudy {
    /// What was run.
    pub params: CnnStudyParams,
    /// The network, its learning curve and training time.
    pub trained: TrainedCnn,
    /// Where its weights came from.
    pub origin: WeightsOrigin,
    /// Test predictions.
    pub predictions: Vec<u8>,
    /// Test confusion matrix.
    pub confusion: ConfusionMatrix,
    /// Seconds to classify the test images.
    pub predict_seconds: f64,
    /// The best classical model, on the same images.
    pub baseline: Baseline,
    /// McNemar's exact test, network first, baseline second.
    pub mcnemar: McNemar,
}

/// Trains the network, or reuses saved weights whose settings match: those at `weights`, else
/// those at `fallback` (read, never written); new weights are saved at `weights`. Then fits the
/// baseline on the PCA scores of `pca`, and tests both. `progress` counts mini-batches while
/// training, then boosting rounds.
pub fn run(
    data: &FashionMnist,
    pca: &Pca,
    params: &CnnStudyParams,
    weights: Option<&Path>,
    fallback: Option<&Path>,
    progress: &dyn Progress,
) -> Result<CnnStudy, StudyError> {
    let train = data.train.first(params.train_rows);
    let test = data.test.first(params.test_rows);
    let (y, yt) = (train.labels().to_vec(), test.labels().to_vec());

    let matches = |t: &TrainedCnn| t.net.params() == &params.net && t.train_images == train.len();
    // The first saved network that matches; the study's own, when it does not, says why the
    // network is trained afresh.
    let (mut reused, mut own) = (None, None);
    // A fallback that is the study's own file (a notebook writing into the repository's
    // results/) is read once.
    let fallback = fallback.filter(|f| Some(*f) != weights);
    if !params.retrain {
        for path in [weights, fallback].into_iter().flatten() {
            if !path.exists() {
                continue;
            }
            let t = TrainedCnn::load(path)?;
            if matches(&t) {
                reused = Some((t, path.to_path_buf()));
                break;
            }
            if Some(path) == weights {
                own = Some(t);
            }
        }
    }
    let (trained, origin) = match reused {
        Some((t, path)) => (t, WeightsOrigin::Reused { path }),
        None => {
            let replaced = own.map(|t| {
                format!(
                    "saved weights were trained with {} on {} images",
                    t.net.params().describe(),
                    thousands(t.train_images)
                )
            });
            let steps = train.len().div_ceil(params.net.batch_size) * params.net.epochs;
            progress.stage("CNN, epoch 1", steps as u64);
            let start = Instant::now();
            let (net, history) = params.net.train(
                train.images(),
                &y,
                Some((test.images(), &yt)),
                |r| {
                    progress.message(&format!(
                        "CNN, epoch {} ({} test)",
                        r.epoch + 1,
                        r.monitor_accuracy.map_or(String::new(), pct)
                    ))
                },
                || progress.advance(1),
            )?;
            // Training alone: the test images' scoring after each epoch (for the learning
            // curve) is not part of it.
            let train_seconds = history
                .last()
                .and_then(|r| r.seconds)
                .unwrap_or_else(|| start.elapsed().as_secs_f64());
            let trained = TrainedCnn {
                net,
                train_images: train.len(),
                history,
                train_seconds,
            };
            if let Some(path) = weights {
                trained.save(path)?;
            }
            (trained, WeightsOrigin::Trained { replaced })
        }
    };
    let start = Instant::now();
    let predictions = trained.net.predict_images(test.images());
    let predict_seconds = start.elapsed().as_secs_f64();

    progress.stage(
        "gradient boosting on PCA scores",
        params.baseline.trees as u64,
    );
    let start = Instant::now();
    let px = pca.transform(train.images(), params.components)?;
    let pt = pca.transform(test.images(), params.components)?;
    let model = params
        .baseline
        .fit_with(px.view(), &y, |_| progress.advance(1))?;
    let baseline_predictions = model.predict(pt.view());
    let b = &params.baseline;
    let baseline = Baseline {
        name: format!("Gradient boosting on {} PCA scores", params.components),
        setting: format!(
            "{} rounds, depth {}, shrinkage {}, min node {}",
            b.trees, b.depth, b.learning_rate, b.min_node
        ),
        confusion: ConfusionMatrix::new(&yt, &baseline_predictions),
        predictions: baseline_predictions,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok(CnnStudy {
        params: params.clone(),
        mcnemar: mcnemar_exact(&yt, &predictions, &baseline.predictions),
        confusion: ConfusionMatrix::new(&yt, &predictions),
        trained,
        origin,
        predictions,
        predict_seconds,
        baseline,
    })
}

impl Section for CnnStudy {
    type Params = CnnStudyParams;
    const TITLE: &'static str = "Beyond the study: a CNN on all training images, Figures 13-14";
    const FIGURES: &'static [u8] = &[13, 14];

    fn default_params(study: &Study) -> CnnStudyParams {
        CnnStudyParams::for_study(study)
    }

    fn params(&self) -> &CnnStudyParams {
        &self.params
    }

    fn check(study: &Study, p: &CnnStudyParams) -> Result<(), StudyError> {
        require_train_rows(study, p.train_rows, 1)?;
        require_test_rows(study, p.test_rows)?;
        require_rows("components", p.components, 1, PIXELS, "components")?;
        p.net.validate()?;
        Ok(p.baseline.validate()?)
    }

    /// Trains the network, or reuses the weights saved at [`Study::cnn_weights`] when their
    /// settings match (saving new ones there otherwise).
    fn run(study: &mut Study, params: &CnnStudyParams) -> Result<Self, StudyError> {
        let pca = study.pca()?;
        let (weights, fallback) = (study.cnn_weights(), study.cnn_fallback());
        let progress = study.progress();
        let result = run(
            study.data(),
            &pca,
            params,
            weights.as_deref(),
            fallback,
            progress,
        )?;
        if let Some(w) = &weights {
            study.wrote_in_place(w);
            match &result.origin {
                WeightsOrigin::Reused { path } => {
                    progress.note(&format!("reused the CNN weights in {}", path.display()))
                }
                WeightsOrigin::Trained { replaced } => {
                    if let Some(why) = replaced {
                        progress.note(&format!("retrained the CNN: {why}"));
                    }
                    progress.note(&format!("saved the CNN weights to {}", w.display()));
                }
            }
        }
        Ok(result)
    }

    fn tables(&self) -> Vec<TableFile> {
        vec![
            TableFile::new("cnn.csv", self.table().to_csv()),
            TableFile::new("cnn_history.csv", self.history_table().to_csv()),
            TableFile::new("cnn_mcnemar.csv", self.mcnemar_table().to_csv()),
            TableFile::new("cnn_timings.csv", self.timings().to_csv()),
            TableFile::new("cnn.md", self.markdown()),
        ]
    }

    fn figures(&self) -> Vec<FigureFile<'_>> {
        vec![
            FigureFile::new(
                13,
                Some("Figure 13 (beyond the study): the CNN's learning curve"),
                CnnLearningCurve::new(self),
            ),
            FigureFile::new(
                14,
                Some(
                    "Figure 14 (beyond the study): the CNN's and gradient boosting's \
                     confusion matrices",
                ),
                ConfusionHeatmaps::cnn(self),
            ),
        ]
    }
}

impl CnnStudy {
    /// The network's name in tables and figures.
    pub fn name(&self) -> String {
        let p = self.trained.net.params();
        format!("CNN ({} filters, {})", p.filters_text(), p.epochs_text())
    }

    /// Both models as a notebook shows them: test accuracy with its 95% interval, kappa, and
    /// the images each was trained on (`table()` has every column).
    pub fn summary(&self) -> Table {
        let mut t = Table::new([
            "model",
            "setting",
            "test accuracy (95% interval)",
            "kappa",
            "trained on",
        ]);
        let rows = [
            (
                self.name(),
                self.trained.net.params().describe(),
                &self.confusion,
            ),
            (
                self.baseline.name.clone(),
                self.baseline.setting.clone(),
                &self.baseline.confusion,
            ),
        ];
        for (name, setting, cm) in rows {
            t.push([
                Cell::text(name),
                Cell::text(setting),
                Cell::number(
                    cm.accuracy(),
                    pct_interval(cm.accuracy(), cm.accuracy_ci95()),
                ),
                Cell::fixed(cm.kappa(), 3),
                Cell::text(format!("{} images", thousands(self.trained.train_images))),
            ]);
        }
        t
    }

    /// Both models: test accuracy with its exact 95% interval and kappa.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "model",
            "setting",
            "train_images",
            "test_accuracy",
            "ci95_low",
            "ci95_high",
            "kappa",
            "seed",
        ]);
        let rows = [
            (
                self.name(),
                self.trained.net.params().describe(),
                &self.confusion,
            ),
            (
                self.baseline.name.clone(),
                self.baseline.setting.clone(),
                &self.baseline.confusion,
            ),
        ];
        for (name, setting, cm) in rows {
            let (lo, hi) = cm.accuracy_ci95();
            t.push([
                Cell::text(name),
                Cell::text(setting),
                Cell::from(self.trained.train_images),
                Cell::fixed(cm.accuracy(), 4),
                Cell::fixed(lo, 4),
                Cell::fixed(hi, 4),
                Cell::fixed(cm.kappa(), 4),
                Cell::from(self.params.net.seed),
            ]);
        }
        t
    }

    /// The learning curve: per epoch, the mean training loss, the accuracy on the training
    /// mini-batches (dropout on) and on the test images, and the seconds of training so far
    /// (the test images' scoring left out; empty for weights saved before it was recorded).
    pub fn history_table(&self) -> Table {
        let mut t = Table::new([
            "epoch",
            "train_loss",
            "train_accuracy",
            "test_accuracy",
            "train_seconds",
        ]);
        for r in &self.trained.history {
            t.push([
                Cell::from(r.epoch),
                Cell::fixed(r.loss, 4),
                Cell::fixed(r.train_accuracy, 4),
                r.monitor_accuracy.map(|a| Cell::fixed(a, 4)).into(),
                r.seconds.map(|s| Cell::fixed(s, 1)).into(),
            ]);
        }
        t
    }

    /// McNemar's exact test of the network against the baseline.
    pub fn mcnemar_table(&self) -> Table {
        let mut t = Table::new([
            "first",
            "second",
            "right_only_first",
            "right_only_second",
            "p_value",
        ]);
        t.push(crate::study::mcnemar_row(
            &self.name(),
            &self.baseline.name,
            &self.mcnemar,
        ));
        t
    }

    /// Seconds on this machine (the training time is the one saved with the weights).
    pub fn timings(&self) -> Table {
        let mut t = Table::new(["step", "seconds", "note"]);
        let note = match &self.origin {
            WeightsOrigin::Reused { .. } => "saved weights reused; training time from their file",
            WeightsOrigin::Trained { .. } => {
                "trained in this run; scoring the test images after each epoch not included"
            }
        };
        t.push([
            Cell::text("train the CNN"),
            Cell::fixed(self.trained.train_seconds, 1),
            Cell::text(note),
        ]);
        t.push([
            Cell::text("classify the test images"),
            Cell::fixed(self.predict_seconds, 2),
            Cell::missing(),
        ]);
        t.push([
            Cell::text("fit and test the baseline"),
            Cell::fixed(self.baseline.seconds, 1),
            Cell::missing(),
        ]);
        t
    }

    /// The network, both models' test accuracy and the McNemar test, as Markdown (REPORT.md
    /// embeds it).
    pub fn summary_markdown(&self) -> String {
        let p = self.trained.net.params();
        let mut md = String::new();
        let _ = writeln!(
            md,
            "The study's abstract names convolutional networks; its body never trains one. \
             Network: {}. Trained on the first {} training images, tested on the first {} test \
             images. Training took {:.0} s{} (not counting the scoring of the test images after \
             each epoch, for the learning curve).\n",
            p.describe(),
            thousands(self.trained.train_images),
            thousands(self.confusion.total() as usize),
            self.trained.train_seconds,
            match &self.origin {
                WeightsOrigin::Reused { .. } =>
                    " (when the saved weights were trained; reused here)",
                WeightsOrigin::Trained { .. } => "",
            }
        );
        let mut t = Table::new([
            "model",
            "training images",
            "test accuracy, 95% interval",
            "kappa",
        ]);
        for (name, cm) in [
            (self.name(), &self.confusion),
            (self.baseline.name.clone(), &self.baseline.confusion),
        ] {
            let (lo, hi) = cm.accuracy_ci95();
            t.push([
                name,
                thousands(self.trained.train_images),
                format!("{} ({} to {})", pct(cm.accuracy()), pct(lo), pct(hi)),
                format!("{:.3}", cm.kappa()),
            ]);
        }
        md.push_str(&t.to_markdown());
        let m = &self.mcnemar;
        let _ = writeln!(
            md,
            "\nMcNemar's exact test: the network alone is right on {} test images, the baseline \
             ({}) alone on {}; p = {:.3e}.",
            m.only_first, self.baseline.setting, m.only_second, m.p_value
        );
        md
    }

    /// The whole report as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = format!(
            "# Beyond the study: a convolutional network (Figures 13 and 14)\n\n{}\n",
            self.summary_markdown()
        );
        let _ = writeln!(
            md,
            "## Learning curve\n\nThe epochs were fixed in advance; the test accuracy after \
             each epoch is shown, never used to choose anything.\n\n{}",
            self.history_table().to_markdown()
        );
        let _ = writeln!(
            md,
            "\n## Confusion matrix, {} (rows: actual, columns: predicted)\n\n{}",
            self.name(),
            crate::study::knn::confusion_table(&self.confusion).to_markdown()
        );
        let mut per_class = Table::new(["class", "CNN sensitivity", "baseline sensitivity"]);
        for c in 0..N_CLASSES {
            per_class.push([
                crate::data::CLASS_NAMES[c].to_string(),
                pct(self.confusion.class_metrics(c).sensitivity),
                pct(self.baseline.confusion.class_metrics(c).sensitivity),
            ]);
        }
        let _ = writeln!(md, "\n## Per class\n\n{}", per_class.to_markdown());
        md
    }
}
