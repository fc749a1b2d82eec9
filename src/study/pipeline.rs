//! The [`Study`]: the data, the seed, quick mode and the output folders, and every section run
//! on first use and cached by its parameters.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::data::{FashionMnist, LoadOptions};
use crate::figures::{AnyFigure, Format, Inline};
use crate::fs::WriteError;
use crate::outputs::{Run, RunRecord};
use crate::progress::{NoProgress, Progress};
use crate::study::exploration::Exploration;
use crate::study::StudyError;
#[cfg(feature = "linalg")]
use crate::{
    outputs::Manifest,
    pca::Pca,
    study::{
        cnn::CnnStudy,
        full::FullData,
        knn::KnnStudy,
        leaderboard::Leaderboard,
        pca::PcaStudy,
        pca_models::PcaModels,
        reproduce::{Environment, Reproduction, Step},
        table1::Table1,
    },
};

/// One section of the study: its parameters, how it runs, and what it writes.
///
/// Implemented by each section's result type ([`Exploration`],
/// [`FeatureTables`](crate::study::features::FeatureTables), `Table1`, …); [`Study::run`]
/// runs any of them, and [`Study::write`] writes what it lists. The file names, figure
/// numbers and captions below are the only place they are written down.
pub trait Section: Sized + Send + Sync + 'static {
    /// What the section runs with; two runs with equal parameters give equal results.
    type Params: Clone + PartialEq + fmt::Debug + Send + Sync + 'static;

    /// The section's title, as `reproduce` reports its step.
    const TITLE: &'static str;

    /// The figures this section draws, by the study's numbering (13 to [`LAST_FIGURE`] go past
    /// it).
    const FIGURES: &'static [u8];

    /// The study's protocol for this section (its quick variant in quick mode), seeded with
    /// the study's seed.
    fn default_params(study: &Study) -> Self::Params;

    /// The parameters this result was computed with.
    fn params(&self) -> &Self::Params;

    /// Whether `params` make sense for `study`'s data, checked before any work starts: each
    /// setting out of range is a [`StudyError::InvalidParams`] that names it.
    fn check(_study: &Study, _params: &Self::Params) -> Result<(), StudyError> {
        Ok(())
    }

    /// Runs the section; what it needs of other sections comes from `study` (and its cache).
    fn run(study: &mut Study, params: &Self::Params) -> Result<Self, StudyError>;

    /// The tables it writes into the results folder.
    fn tables(&self) -> Vec<TableFile> {
        Vec::new()
    }

    /// The figures it writes into the figures folder, in the study's order.
    fn figures(&self) -> Vec<FigureFile<'_>> {
        Vec::new()
    }
}

/// A table a section writes: its file name in the results folder and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFile {
    /// The file name, e.g. `table1.csv`.
    pub name: &'static str,
    /// The whole file.
    pub text: String,
}

impl TableFile {
    /// The table `name` with content `text`.
    pub fn new(name: &'static str, text: String) -> Self {
        TableFile { name, text }
    }
}

/// A figure a section draws.
pub struct FigureFile<'a> {
    /// The figure's number: the study's, or 13 to [`LAST_FIGURE`], past it.
    pub number: u8,
    /// Its caption in REPORT.md, if the report shows it.
    pub caption: Option<&'static str>,
    /// The figure.
    pub figure: Box<dyn AnyFigure + 'a>,
}

impl<'a> FigureFile<'a> {
    /// Figure `number`, shown in REPORT.md under `caption` when there is one.
    pub fn new(number: u8, caption: Option<&'static str>, figure: impl AnyFigure + 'a) -> Self {
        FigureFile {
            number,
            caption,
            figure: Box::new(figure),
        }
    }
}

impl fmt::Debug for FigureFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FigureFile")
            .field("number", &self.number)
            .field("caption", &self.caption)
            .field("figure", &self.figure.name())
            .finish()
    }
}

/// Where [`Study::for_notebook`] puts a notebook's outputs, when set: `DIR/figures` and
/// `DIR/results` (`..` is the repository's own folders).
pub const NOTEBOOK_OUT_ENV: &str = "FMNIST_NOTEBOOK_OUT";

/// The highest figure number: the study's are 1 to 12; 13 to 18 go past it (the CNN's
/// learning curve and confusion matrix, the SVM's mistakes and its confusion shares,
/// reconstructions from several numbers of components, accuracy against training time).
pub const LAST_FIGURE: u8 = 18;

/// Which protocol [`Study::reproduce`] runs.
#[cfg(feature = "linalg")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// The study's: its training subsets, its cross-validation grids.
    #[default]
    Paper,
    /// The study's, then every model refitted on all 60,000 training images, then each
    /// method at its best on them (the leaderboard).
    Full,
}

#[cfg(feature = "linalg")]
impl Protocol {
    /// `paper` or `full`, as REPORT.md and the command line name it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Paper => "paper",
            Protocol::Full => "full",
        }
    }
}

/// What [`Study::reproduce`] did.
#[cfg(feature = "linalg")]
#[derive(Debug, Clone)]
pub struct Reproduced {
    /// Every file written, in order.
    pub written: Vec<PathBuf>,
    /// Each step with its wall time.
    pub steps: Vec<Step>,
    /// Where REPORT.md is.
    pub report: PathBuf,
}

#[cfg(feature = "linalg")]
impl Reproduced {
    /// Seconds of all steps together.
    pub fn seconds(&self) -> f64 {
        self.steps.iter().map(|s| s.seconds).sum()
    }
}

type Cached = Arc<dyn Any + Send + Sync>;

/// The study on one copy of the data: seed, quick mode, output folders, and every section's
/// result computed on first use and cached by its parameters (a second call with equal
/// parameters returns the same result; with other parameters it computes anew and keeps both).
///
/// The command line builds one per command; a notebook builds one in its setup cell.
pub struct Study {
    data: FashionMnist,
    load_seconds: Option<f64>,
    seed: u64,
    quick: bool,
    results_dir: PathBuf,
    figures_dir: PathBuf,
    formats: Vec<Format>,
    #[cfg(feature = "linalg")]
    cnn_weights: Option<PathBuf>,
    #[cfg(feature = "linalg")]
    cnn_fallback: Option<PathBuf>,
    progress: Box<dyn Progress>,
    #[cfg(feature = "linalg")]
    pca: Option<Arc<Pca>>,
    cache: HashMap<TypeId, Vec<Cached>>,
    /// Default parameters set with [`Study::set_params`], by section type.
    defaults: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    /// The run its writes belong to, between [`Study::begin_run`] and [`Study::commit_run`].
    run: Option<Run>,
}

impl fmt::Debug for Study {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Study")
            .field("data", &self.data.source.dir)
            .field("seed", &self.seed)
            .field("quick", &self.quick)
            .field("results_dir", &self.results_dir)
            .field("figures_dir", &self.figures_dir)
            .field("formats", &self.formats)
            .field("cached", &self.cache.values().map(Vec::len).sum::<usize>())
            .finish_non_exhaustive()
    }
}

impl Study {
    /// A study of `data`: seed 42, quick mode when `FMNIST_QUICK` asks for it
    /// ([`crate::study::quick`]), tables into `results/`, figures into `figures/` (PNG and SVG),
    /// no progress reports.
    pub fn new(data: FashionMnist) -> Study {
        Study {
            data,
            load_seconds: None,
            seed: 42,
            quick: crate::study::quick(),
            results_dir: PathBuf::from("results"),
            figures_dir: PathBuf::from("figures"),
            formats: Format::ALL.to_vec(),
            #[cfg(feature = "linalg")]
            cnn_weights: None,
            #[cfg(feature = "linalg")]
            cnn_fallback: None,
            progress: Box::new(NoProgress),
            #[cfg(feature = "linalg")]
            pca: None,
            cache: HashMap::new(),
            defaults: HashMap::new(),
            run: None,
        }
    }

    /// Finds, reads and verifies the data as [`FashionMnist::load`] does (`FMNIST_DATA` if
    /// set, else the usual places), and studies it.
    pub fn load() -> Result<Study, StudyError> {
        Study::load_with(&LoadOptions::from_env())
    }

    /// Loads the data with `options` ([`FashionMnist::load_with`]) and studies it; the load
    /// time is the first step `reproduce` reports.
    pub fn load_with(options: &LoadOptions) -> Result<Study, StudyError> {
        let start = Instant::now();
        let data = FashionMnist::load_with(options).map_err(StudyError::Load)?;
        let mut study = Study::new(data);
        study.load_seconds = Some(start.elapsed().as_secs_f64());
        Ok(study)
    }

    /// The study a notebook's setup cell builds: the data found from the notebook's folder
    /// ([`Study::load`]), seed 42, quick mode when `FMNIST_QUICK` asks, a line of progress
    /// under each long cell ([`PrintProgress`](crate::progress::PrintProgress)), and every
    /// output in a scratch folder beside the notebook, `out/` (figures in `out/figures`,
    /// tables and the CNN's weights in `out/results`), so that running a notebook never
    /// changes the repository's `figures/` and `results/`.
    ///
    /// `FMNIST_NOTEBOOK_OUT=DIR` puts the outputs in `DIR/figures` and `DIR/results` instead:
    /// `FMNIST_NOTEBOOK_OUT=..` writes the repository's own, under the names `fmnist reproduce`
    /// gives them. With the `linalg` feature, the CNN's committed weights
    /// (`results/cnn.safetensors` in the nearest folder above that has them) are the fallback
    /// (`Study::with_cnn_fallback`): reused when the scratch folder holds no network of the
    /// same settings, never written, so that a network trained in the notebook is saved in the
    /// scratch folder and not over them.
    pub fn for_notebook() -> Result<Study, StudyError> {
        let out = std::env::var_os(NOTEBOOK_OUT_ENV)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from("out"), PathBuf::from);
        let study = Study::load()?
            .with_results_dir(out.join("results"))
            .with_figures_dir(out.join("figures"))
            .with_progress(crate::progress::PrintProgress::default());
        #[cfg(feature = "linalg")]
        let study = match committed_cnn_weights() {
            Some(committed) => study.with_cnn_fallback(committed),
            None => study,
        };
        Ok(study)
    }

    /// What a notebook's setup cell calls: [`Study::for_notebook`], or, when that fails (no
    /// data found, a corrupt file), a loud stop. The error is printed with what to do, and the
    /// kernel's worker process ends, which evcxr reports as the cell's error: Run All stops
    /// at the setup cell, where an error returned with `?` would only print a line and let
    /// every later cell fail on its own (`cannot find value study`).
    pub fn for_notebook_or_stop() -> Study {
        Study::for_notebook().unwrap_or_else(|err| {
            let mut chain = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                chain.push_str(": ");
                chain.push_str(&cause.to_string());
                source = cause.source();
            }
            eprintln!(
                "THE SETUP FAILED, so the cells below cannot run (they need `study`):\n\n  \
                 {chain}\n\nFix the cause and run this cell again (see `fmnist data` and the \
                 README's \"The data\")."
            );
            std::process::exit(1)
        })
    }

    /// One line on what the study reads and where it writes, for a notebook's setup cell.
    pub fn summary(&self) -> String {
        format!(
            "{} training and {} test images from {}; figures into {}, tables into {}; seed {}{}",
            crate::report::thousands(self.data.train.len()),
            crate::report::thousands(self.data.test.len()),
            self.data.source.dir.display(),
            self.figures_dir.display(),
            self.results_dir.display(),
            self.seed,
            if self.quick {
                " (quick mode: a few hundred images per section)"
            } else {
                ""
            }
        )
    }

    /// The same study with every random step seeded by `seed`.
    pub fn with_seed(mut self, seed: u64) -> Study {
        self.seed = seed;
        self
    }

    /// The same study in quick mode (every section on a few hundred images, tiny grids: for
    /// checking the pipeline, not for its numbers) or not.
    pub fn with_quick(mut self, quick: bool) -> Study {
        self.quick = quick;
        self
    }

    /// Tables (and the CNN's weights) go into `dir`.
    pub fn with_results_dir(mut self, dir: impl Into<PathBuf>) -> Study {
        self.results_dir = dir.into();
        self
    }

    /// Figures go into `dir`.
    pub fn with_figures_dir(mut self, dir: impl Into<PathBuf>) -> Study {
        self.figures_dir = dir.into();
        self
    }

    /// Figures are written in `formats`.
    pub fn with_formats(mut self, formats: &[Format]) -> Study {
        self.formats = formats.to_vec();
        self
    }

    /// The CNN's weights are read from and saved to `path` instead of `cnn.safetensors` in the
    /// results folder.
    #[cfg(feature = "linalg")]
    pub fn with_cnn_weights(mut self, path: impl Into<PathBuf>) -> Study {
        self.cnn_weights = Some(path.into());
        self
    }

    /// The CNN's weights are also looked for at `path` when those at
    /// [`cnn_weights`](Study::cnn_weights) are missing or were trained with other settings:
    /// read when they match, never written (a network trained afresh is saved at
    /// `cnn_weights`). A notebook's study falls back on the committed weights this way, so a
    /// stale scratch copy neither hides them nor is overwritten by them.
    #[cfg(feature = "linalg")]
    pub fn with_cnn_fallback(mut self, path: impl Into<PathBuf>) -> Study {
        self.cnn_fallback = Some(path.into());
        self
    }

    /// Long sections report to `progress`.
    pub fn with_progress(mut self, progress: impl Progress + 'static) -> Study {
        self.progress = Box::new(progress);
        self
    }

    /// The data.
    pub fn data(&self) -> &FashionMnist {
        &self.data
    }

    /// The seed of every random step.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether sections run their quick variants.
    pub fn is_quick(&self) -> bool {
        self.quick
    }

    /// Where tables go.
    pub fn results_dir(&self) -> &Path {
        &self.results_dir
    }

    /// Where figures go.
    pub fn figures_dir(&self) -> &Path {
        &self.figures_dir
    }

    /// Where the CNN's weights are kept: `cnn.safetensors` in the results folder unless set;
    /// none in quick mode, whose small network is never saved.
    #[cfg(feature = "linalg")]
    pub fn cnn_weights(&self) -> Option<PathBuf> {
        if self.quick {
            return None;
        }
        Some(
            self.cnn_weights
                .clone()
                .unwrap_or_else(|| self.results_dir.join("cnn.safetensors")),
        )
    }

    /// Where the CNN's weights are looked for when those at [`cnn_weights`](Study::cnn_weights)
    /// do not match ([`Study::with_cnn_fallback`]); none in quick mode.
    #[cfg(feature = "linalg")]
    pub fn cnn_fallback(&self) -> Option<&Path> {
        self.cnn_fallback.as_deref().filter(|_| !self.quick)
    }

    /// Where progress goes.
    pub fn progress(&self) -> &dyn Progress {
        &*self.progress
    }

    /// Section `S`'s default parameters in this study: those given to [`Study::set_params`],
    /// else [`Section::default_params`]. The starting point for a run with one thing changed,
    /// `Table1Params { ks, ..study.params::<Table1>() }`.
    pub fn params<S: Section>(&self) -> S::Params {
        self.defaults
            .get(&TypeId::of::<S>())
            .and_then(|p| p.downcast_ref::<S::Params>())
            .cloned()
            .unwrap_or_else(|| S::default_params(self))
    }

    /// Makes `params` section `S`'s default in this study: what [`Study::section`],
    /// [`Study::draw_figures`][draw] and [`Study::reproduce`][reproduce] run it with.
    ///
    #[cfg_attr(feature = "linalg", doc = "[draw]: Study::draw_figures")]
    #[cfg_attr(feature = "linalg", doc = "[reproduce]: Study::reproduce")]
    #[cfg_attr(not(feature = "linalg"), doc = "[draw]: crate#cargo-features")]
    #[cfg_attr(not(feature = "linalg"), doc = "[reproduce]: crate#cargo-features")]
    pub fn set_params<S: Section>(&mut self, params: S::Params) {
        self.defaults.insert(TypeId::of::<S>(), Box::new(params));
    }

    /// The PCA of all training images (section 3.1), fitted once.
    #[cfg(feature = "linalg")]
    pub fn pca(&mut self) -> Result<Arc<Pca>, StudyError> {
        if let Some(pca) = &self.pca {
            return Ok(Arc::clone(pca));
        }
        self.progress.message("PCA of the training images");
        let pca = Arc::new(Pca::fit(self.data.train.images())?);
        self.pca = Some(Arc::clone(&pca));
        Ok(pca)
    }

    /// Begins a run of `command` (as typed after `fmnist`): from here until
    /// [`Study::commit_run`], every table and figure is written into a staging folder inside
    /// the results and figures folders, both locked against other runs, and nothing that was
    /// there changes (see [`crate::outputs`]). The folders are locked when the first section
    /// has checked its settings, so a run refused for a bad setting touches nothing; a run
    /// dropped uncommitted (an error) leaves no trace.
    pub fn begin_run(&mut self, command: &str) -> Result<(), StudyError> {
        let source = &self.data.source;
        let record = RunRecord {
            command: String::new(),
            started: String::new(),
            seed: self.seed,
            quick: self.quick,
            settings: Vec::new(),
            data: format!(
                "{} ({}, {})",
                source.dir.display(),
                source.origin,
                if source.verified {
                    "verified"
                } else {
                    "not verified"
                }
            ),
            data_sha256: source
                .files
                .iter()
                .zip(&source.sha256)
                .map(|(path, digest)| {
                    let name = path.file_name().unwrap_or_default().to_string_lossy();
                    (name.into_owned(), digest.to_string())
                })
                .collect(),
            versions: crate::outputs::crate_versions()
                .into_iter()
                .map(|(name, version)| (name.to_string(), version.to_string()))
                .collect(),
            threads: rayon::current_num_threads(),
        };
        self.run = Some(Run::prepare(
            command,
            &self.results_dir,
            &[&self.figures_dir],
            record,
        ));
        Ok(())
    }

    /// Moves the run's files into place together and records them in the results folder's
    /// manifest; returns every file written, manifest last. Without a run, nothing to do.
    pub fn commit_run(&mut self) -> Result<Vec<PathBuf>, StudyError> {
        match self.run.take() {
            Some(run) => Ok(run.commit()?),
            None => Ok(Vec::new()),
        }
    }

    /// Where a file meant for `dir` is written now: its staging folder during a run.
    fn out_dir(&self, dir: &Path) -> PathBuf {
        self.run
            .as_ref()
            .map_or_else(|| dir.to_path_buf(), |run| run.staging_for(dir))
    }

    /// Records that `path` (a final path) was written, during a run.
    fn wrote(&self, path: &Path) {
        if let Some(run) = &self.run {
            run.staged(path);
        }
    }

    /// Records that this study wrote `path` in place, not through the staging folder (the
    /// CNN's weights, saved as soon as they are trained).
    pub(crate) fn wrote_in_place(&self, path: &Path) {
        if let Some(run) = &self.run {
            run.wrote_in_place(path);
        }
    }

    /// `err` naming the final path of a staged file, not its staging folder.
    fn unstaged(&self, err: WriteError) -> WriteError {
        match &self.run {
            Some(run) => WriteError {
                path: run.final_path(&err.path),
                source: err.source,
            },
            None => err,
        }
    }

    /// Writes `text` as `name` in the results folder (staged during a run); returns its
    /// final path.
    fn write_result(&self, name: &str, text: &str) -> Result<PathBuf, StudyError> {
        crate::fs::write_text(&self.out_dir(&self.results_dir), name, text)
            .map_err(|e| self.unstaged(e))?;
        let path = self.results_dir.join(name);
        self.wrote(&path);
        Ok(path)
    }

    /// Section `S` as computed with `params`, if it has been (nothing is run).
    fn lookup<S: Section>(&self, params: &S::Params) -> Option<Arc<S>> {
        let cached = self.cache.get(&TypeId::of::<S>())?;
        cached.iter().find_map(|c| {
            Arc::clone(c)
                .downcast::<S>()
                .ok()
                .filter(|s| s.params() == params)
        })
    }

    /// Section `S` with its default parameters ([`Study::params`]) if this study has already
    /// computed it; `None` otherwise, and nothing is run.
    pub fn cached<S: Section>(&self) -> Option<Arc<S>> {
        self.lookup::<S>(&self.params::<S>())
    }

    /// Section `S` with `params`: the cached result when one was computed with equal
    /// parameters, otherwise computed now (and cached beside the others).
    pub fn run<S: Section>(&mut self, params: &S::Params) -> Result<Arc<S>, StudyError> {
        let key = TypeId::of::<S>();
        if let Some(hit) = self.lookup::<S>(params) {
            return Ok(hit);
        }
        S::check(self, params)?;
        if let Some(run) = &mut self.run {
            run.start()?;
            run.note_settings(S::TITLE, &format!("{params:?}"));
        }
        self.progress.section(S::TITLE);
        let result = Arc::new(S::run(self, params)?);
        self.progress.finish();
        self.cache
            .entry(key)
            .or_default()
            .push(Arc::clone(&result) as Cached);
        Ok(result)
    }

    /// Section `S` with its default parameters ([`Study::params`]).
    pub fn section<S: Section>(&mut self) -> Result<Arc<S>, StudyError> {
        let params = self.params::<S>();
        self.run::<S>(&params)
    }

    /// Section 1: the data and Figures 1–3.
    pub fn exploration(&mut self) -> Result<Arc<Exploration>, StudyError> {
        self.section()
    }
}

/// The sections built on linear algebra: all after the first.
#[cfg(feature = "linalg")]
impl Study {
    /// Section 2: Table 1, Figure 4, and Figures 15 and 16 past the study.
    pub fn table1(&mut self) -> Result<Arc<Table1>, StudyError> {
        self.section()
    }

    /// Section 3.1: the PCA, Figures 5–8, and Figure 17 past the study.
    pub fn pca_study(&mut self) -> Result<Arc<PcaStudy>, StudyError> {
        self.section()
    }

    /// Section 3.2: kNN on raw pixels against PCA scores, Figures 9 and 10.
    pub fn knn(&mut self) -> Result<Arc<KnnStudy>, StudyError> {
        self.section()
    }

    /// Section 3.3: three models on the PCA scores, Figures 11 and 12.
    pub fn pca_models(&mut self) -> Result<Arc<PcaModels>, StudyError> {
        self.section()
    }

    /// Beyond the study: the CNN, Figures 13 and 14.
    pub fn cnn(&mut self) -> Result<Arc<CnnStudy>, StudyError> {
        self.section()
    }

    /// Beyond the study: every model on all training images.
    pub fn full_data(&mut self) -> Result<Arc<FullData>, StudyError> {
        self.section()
    }

    /// Beyond the study: each method at its best on all training images, Figure 18.
    pub fn leaderboard(&mut self) -> Result<Arc<Leaderboard>, StudyError> {
        self.section()
    }
}

impl Study {
    /// Writes `section`'s tables into the results folder and its figures into the figures
    /// folder; returns the paths written.
    pub fn write<S: Section>(&self, section: &S) -> Result<Vec<PathBuf>, StudyError> {
        self.write_listing(section, &mut Vec::new())
    }

    /// [`Study::write`], also adding the REPORT.md caption and file stem of each figure that has
    /// one to `captions`: each figure is built once, for both.
    fn write_listing<S: Section>(
        &self,
        section: &S,
        captions: &mut Vec<(&'static str, String)>,
    ) -> Result<Vec<PathBuf>, StudyError> {
        let mut written = Vec::new();
        for table in section.tables() {
            written.push(self.write_result(table.name, &table.text)?);
        }
        for figure in section.figures() {
            written.extend(self.save_figure(&*figure.figure)?);
            if let Some(caption) = figure.caption {
                captions.push((caption, figure.figure.name()));
            }
        }
        Ok(written)
    }

    /// Saves `figure` into the figures folder in the study's formats (staged during a run);
    /// returns the final paths.
    pub fn save_figure(&self, figure: &dyn AnyFigure) -> Result<Vec<PathBuf>, StudyError> {
        let saved = figure
            .save_in(&self.out_dir(&self.figures_dir), &self.formats)
            .map_err(|e| match e {
                crate::figures::FigureError::Write(w) => {
                    crate::figures::FigureError::Write(self.unstaged(w))
                }
                other => other,
            })?;
        Ok(saved
            .iter()
            .map(|p| {
                let path = self.figures_dir.join(p.file_name().unwrap_or_default());
                self.wrote(&path);
                path
            })
            .collect())
    }

    /// Saves `figure` as [`Study::save_figure`] does and returns it for inline display: the
    /// call a notebook's figure cell ends with.
    pub fn save_and_show(&self, figure: &dyn AnyFigure) -> Result<Inline, StudyError> {
        self.save_figure(figure)?;
        Ok(figure.inline()?)
    }
}

/// Many sections at once (any figure, the whole study): with the `linalg` feature, which all
/// sections after the first need.
#[cfg(feature = "linalg")]
impl Study {
    /// Runs the sections that draw the study's figures `numbers` (with their default
    /// parameters, reusing what is cached) and saves those figures; returns the paths written.
    pub fn draw_figures(&mut self, numbers: &[u8]) -> Result<Vec<PathBuf>, StudyError> {
        if let Some(&bad) = numbers.iter().find(|&&n| !(1..=LAST_FIGURE).contains(&n)) {
            return Err(StudyError::InvalidParams {
                param: "figures",
                reason: format!("there is no figure {bad} (the figures are 1 to {LAST_FIGURE})"),
            });
        }
        let mut written = Vec::new();
        written.extend(self.draw::<Exploration>(numbers)?);
        written.extend(self.draw::<Table1>(numbers)?);
        written.extend(self.draw::<PcaStudy>(numbers)?);
        written.extend(self.draw::<KnnStudy>(numbers)?);
        written.extend(self.draw::<PcaModels>(numbers)?);
        written.extend(self.draw::<CnnStudy>(numbers)?);
        written.extend(self.draw::<Leaderboard>(numbers)?);
        Ok(written)
    }

    fn draw<S: Section>(&mut self, numbers: &[u8]) -> Result<Vec<PathBuf>, StudyError> {
        if !S::FIGURES.iter().any(|n| numbers.contains(n)) {
            return Ok(Vec::new());
        }
        let section = self.section::<S>()?;
        let mut written = Vec::new();
        for figure in section.figures() {
            if numbers.contains(&figure.number) {
                written.extend(self.save_figure(&*figure.figure)?);
            }
        }
        Ok(written)
    }

    /// The whole study in order: every section with its default parameters (reusing what is
    /// cached), every table and figure written, then `verdicts.csv`, `reproduce_timings.csv`
    /// and `REPORT.md` from what the sections returned.
    pub fn reproduce(&mut self, protocol: Protocol) -> Result<Reproduced, StudyError> {
        let mut run = Reproducing::default();
        if let Some(seconds) = self.load_seconds {
            run.steps.push(Step {
                name: "load and verify the data".into(),
                seconds,
            });
        }
        self.step::<Exploration>(&mut run)?;
        let table1 = self.step::<Table1>(&mut run)?;
        self.step::<PcaStudy>(&mut run)?;
        let knn = self.step::<KnnStudy>(&mut run)?;
        let pca_models = self.step::<PcaModels>(&mut run)?;
        let cnn = self.step::<CnnStudy>(&mut run)?;
        let (full, leaderboard) = match protocol {
            Protocol::Paper => (None, None),
            Protocol::Full => (
                Some(self.step::<FullData>(&mut run)?),
                Some(self.step::<Leaderboard>(&mut run)?),
            ),
        };
        let pca = self.pca()?;
        let report = Reproduction {
            pca: &pca,
            table1: &table1,
            knn: &knn,
            pca_models: &pca_models,
            full: full.as_deref(),
            leaderboard: leaderboard.as_deref(),
            cnn: Some(&cnn),
        };
        let env = Environment {
            seed: self.seed,
            protocol: protocol.name().into(),
            machine: crate::study::reproduce::machine(),
            threads: rayon::current_num_threads(),
            data: format!(
                "{} ({})",
                self.data.source.dir.display(),
                self.data.source.origin
            ),
            peak_mib: crate::study::reproduce::peak_rss_mib(),
        };
        let figures_rel = crate::outputs::relative(&self.results_dir, &self.figures_dir);
        let captions: Vec<(String, String)> = run
            .captions
            .iter()
            .map(|(caption, stem)| (caption.to_string(), format!("{figures_rel}/{stem}.png")))
            .collect();
        let mut timings = crate::report::Table::new(["step", "seconds"]);
        for s in &run.steps {
            timings.push([
                crate::report::Cell::text(&s.name),
                crate::report::Cell::fixed(s.seconds, 2),
            ]);
        }
        run.written
            .push(self.write_result("verdicts.csv", &report.verdicts().to_csv())?);
        run.written
            .push(self.write_result("reproduce_timings.csv", &timings.to_csv())?);
        let markdown = report.markdown(&env, &run.steps, &captions, &self.run_note()?);
        let report = self.write_result("REPORT.md", &markdown)?;
        run.written.push(report.clone());
        Ok(Reproduced {
            written: run.written,
            steps: run.steps,
            report,
        })
    }

    /// REPORT.md's paragraph on the run: its id, and the files of the results folder that
    /// come from other runs (which the report does not describe).
    fn run_note(&self) -> Result<String, StudyError> {
        let Some(run) = &self.run else {
            return Ok(
                "Written outside a recorded run (by the library directly), so no \
                       manifest records which files belong to it."
                    .into(),
            );
        };
        let mine: Vec<String> = run
            .files()
            .iter()
            .map(|p| crate::outputs::relative(&self.results_dir, p))
            .chain(["REPORT.md".to_string()])
            .collect();
        let manifest = Manifest::read(&self.results_dir)?;
        let others: Vec<String> = manifest
            .files
            .iter()
            .filter(|(name, _)| !mine.contains(name))
            .filter(|(name, _)| self.results_dir.join(name).exists())
            .map(|(name, f)| {
                let command = manifest
                    .runs
                    .get(&f.run)
                    .map_or("?".to_string(), |r| format!("fmnist {}", r.command));
                format!("`{name}` ({command}, run {})", f.run)
            })
            .collect();
        let mut note = format!(
            "Run `{}` (`fmnist {}`). `manifest.json` records every file it wrote with its SHA-256; \
             `fmnist check` says whether this folder still holds exactly them.",
            run.id(),
            run.record().command
        );
        if !others.is_empty() {
            note.push_str(&format!(
                " Files here from other runs, which this report does not describe: {}.",
                others.join(", ")
            ));
        }
        Ok(note)
    }

    /// One step of `reproduce`: section `S` run (or reused) and written, timed.
    fn step<S: Section>(&mut self, run: &mut Reproducing) -> Result<Arc<S>, StudyError> {
        let start = Instant::now();
        let section = self.section::<S>()?;
        let written = self.write_listing(&*section, &mut run.captions)?;
        run.written.extend(written);
        run.steps.push(Step {
            name: S::TITLE.into(),
            seconds: start.elapsed().as_secs_f64(),
        });
        Ok(section)
    }
}

/// The CNN's committed weights for a notebook's study: `results/cnn.safetensors` in the
/// nearest folder above the current one that has them, named relative to it
/// (`../results/cnn.safetensors`), as the progress note that reports their reuse shows them.
#[cfg(feature = "linalg")]
fn committed_cnn_weights() -> Option<PathBuf> {
    let depth = std::env::current_dir().map_or(0, |cwd| cwd.ancestors().count());
    (0..depth)
        .map(|up| "../".repeat(up) + "results/cnn.safetensors")
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

/// What `reproduce` has done so far.
#[cfg(feature = "linalg")]
#[derive(Default)]
struct Reproducing {
    written: Vec<PathBuf>,
    steps: Vec<Step>,
    /// The figures REPORT.md shows: caption and file stem.
    captions: Vec<(&'static str, String)>,
}
