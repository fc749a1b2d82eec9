//! One run's outputs belong together.
//!
//! A run of the `fmnist` command line that writes results ([`Run::begin`]):
//!
//! 1. takes an exclusive lock on each output folder (`.fmnist.lock`): a second run into the
//!    same folders stops at once with [`OutputError::Busy`], naming the first;
//! 2. writes every file into a staging folder inside its output folder
//!    (`.fmnist-run-<pid>/`), never over the files already there;
//! 3. when everything is written, moves the files into place ([`Run::commit`]) and records
//!    them in the results folder's manifest (`manifest.json`, [`Manifest`]): the run's command,
//!    seed, settings, input checksums and versions, and each file's SHA-256.
//!
//! A run that fails or is interrupted changes nothing that was there: its staging folders are
//! removed when the [`Run`] is dropped, by the command line's signal handler
//! ([`abandon_all`]), or, after a SIGKILL, by the next run into the same folders. [`check`]
//! tells whether a folder still holds the files its manifest records, and from which runs
//! they come.
//!
//! The library's own writes ([`crate::Study::write`] without a run, as in a notebook) go
//! straight to their files, each whole or not at all ([`crate::fs`]).

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::idx::Sha256Digest;
use crate::fs::{write_atomically, WriteError};

/// The manifest's file name, in the results folder.
pub const MANIFEST: &str = "manifest.json";
/// The lock file's name, in each output folder.
const LOCK: &str = ".fmnist.lock";
/// Staging folders are named this, then the process id.
const STAGING_PREFIX: &str = ".fmnist-run-";
/// The manifest format this version writes and reads.
const FORMAT: &str = "fmnist-manifest/1";

/// Why a run's outputs could not be prepared, written or checked.
#[derive(Debug, Error)]
pub enum OutputError {
    /// Another run holds the folder's lock.
    #[error(
        "another fmnist run ({holder}) is writing into {}; wait for it to finish",
        dir.display()
    )]
    Busy {
        /// The output folder.
        dir: PathBuf,
        /// Who holds the lock, as its lock file says (`pid 1234, fmnist reproduce`).
        holder: String,
    },
    /// A folder, lock or staged file could not be made, moved or removed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The manifest exists but is not one this version reads.
    #[error("{} is not a manifest this version of fmnist reads: {reason}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

fn write_error(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.to_path_buf(),
        source,
    }
}

/// What a run was: recorded in the manifest for every file it wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The command, as typed after `fmnist` (`reproduce --protocol full`).
    pub command: String,
    /// When it started, UTC, ISO 8601.
    pub started: String,
    /// The seed of every random step.
    pub seed: u64,
    /// Whether it ran the quick variants (a pipeline check, not results).
    pub quick: bool,
    /// Each section it ran: its title and its parameters (`Debug` form).
    pub settings: Vec<(String, String)>,
    /// Where the data came from and whether its content matched the published digests.
    pub data: String,
    /// The SHA-256 of the decompressed content of each data file.
    pub data_sha256: BTreeMap<String, String>,
    /// fmnist's version and those of the crates that decide the results.
    pub versions: BTreeMap<String, String>,
    /// Threads in the pool that ran it (results do not depend on it).
    pub threads: usize,
}

/// Versions of the crates that decide the numbers, read from Cargo.lock at build time: what a
/// [`RunRecord`] and REPORT.md name. faer only in builds that have it (the `linalg` feature).
pub fn crate_versions() -> Vec<(&'static str, &'static str)> {
    vec![
        ("fmnist", env!("CARGO_PKG_VERSION")),
        ("ndarray", env!("FMNIST_DEP_NDARRAY")),
        #[cfg(feature = "linalg")]
        ("faer", env!("FMNIST_DEP_FAER")),
        ("rafor", env!("FMNIST_DEP_RAFOR")),
        ("rayon", env!("FMNIST_DEP_RAYON")),
        ("rand_chacha", env!("FMNIST_DEP_RAND_CHACHA")),
        ("plotters", env!("FMNIST_DEP_PLOTTERS")),
    ]
}

/// One file in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// The run that wrote it (a key of [`Manifest::runs`]).
    pub run: String,
}

/// A results folder's record of the runs that wrote into it and of each file they left, by
/// path relative to the results folder (`table1.csv`, `../figures/fig01_exemplars.png`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// `fmnist-manifest/1`.
    pub format: String,
    /// Every run that still has a file here, by id.
    pub runs: BTreeMap<String, RunRecord>,
    /// Every file, by path relative to the results folder.
    pub files: BTreeMap<String, FileRecord>,
}

impl Manifest {
    /// The manifest in `results_dir`; an empty one when there is none.
    pub fn read(results_dir: &Path) -> Result<Manifest, OutputError> {
        let path = results_dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(e) => return Err(write_error(&path)(e).into()),
        };
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| OutputError::Manifest {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if manifest.format != FORMAT {
            return Err(OutputError::Manifest {
                path,
                reason: format!("format {:?}, expected {FORMAT:?}", manifest.format),
            });
        }
        Ok(manifest)
    }

    /// The run that wrote `file` (a path relative to the results folder), if recorded.
    pub fn run_of(&self, file: &str) -> Option<(&str, &RunRecord)> {
        let id = &self.files.get(file)?.run;
        self.runs.get(id).map(|r| (id.as_str(), r))
    }
}

/// The staging folders of every run in this process, for [`abandon_all`].
static STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Set by [`abandon_all`]: the process is being interrupted and makes no more folders.
static ABANDONED: AtomicBool = AtomicBool::new(false);

/// Removes the staging folders of every unfinished run of this process: what the command
/// line's signal handler calls before it exits, so that an interrupted run leaves its output
/// folders as they were. From then on no folder is made ([`crate::fs`] refuses), so a write
/// still under way cannot bring a staging folder back; a second sweep a moment later takes
/// whatever one that was already past that check made.
pub fn abandon_all() {
    ABANDONED.store(true, Ordering::SeqCst);
    let dirs = std::mem::take(&mut *lock_list(&STAGING));
    for pass in 0..2 {
        if pass == 1 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        for dir in &dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Whether [`abandon_all`] has run: the process is being interrupted, and an error a write
/// meets now is a consequence of it, not news.
pub fn abandoned() -> bool {
    ABANDONED.load(Ordering::SeqCst)
}

/// One output folder of a run: its lock and its staging folder.
#[derive(Debug)]
struct Folder {
    dir: PathBuf,
    staging: PathBuf,
    _lock: File,
}

/// A run writing into its output folders through staging folders, committed together.
#[derive(Debug)]
pub struct Run {
    id: String,
    record: RunRecord,
    results_dir: PathBuf,
    /// The output folders, results first.
    dirs: Vec<PathBuf>,
    /// Their locks and staging folders, once [`Run::start`] has made them.
    folders: Vec<Folder>,
    /// Final paths of the files written so far into the staging folders, in order.
    staged: Mutex<Vec<PathBuf>>,
    /// Files written in place (the CNN's weights, saved as soon as they are trained), recorded
    /// at commit as they are then.
    in_place: Mutex<Vec<PathBuf>>,
    committed: bool,
}

impl Run {
    /// Begins a run of `command` writing into `results_dir` (where the manifest goes) and the
    /// other `dirs`, and [starts](Run::start) it. `record` describes the run; its `command`
    /// and `started` are set here.
    pub fn begin(
        command: &str,
        results_dir: &Path,
        dirs: &[&Path],
        record: RunRecord,
    ) -> Result<Run, OutputError> {
        let mut run = Run::prepare(command, results_dir, dirs, record);
        run.start()?;
        Ok(run)
    }

    /// A run of `command` into `results_dir` and `dirs` that touches no folder until
    /// [`Run::start`]: so that settings can be checked first, and a run refused for a bad
    /// setting leaves no folder behind.
    pub fn prepare(
        command: &str,
        results_dir: &Path,
        dirs: &[&Path],
        mut record: RunRecord,
    ) -> Run {
        let started = SystemTime::now();
        record.command = command.to_string();
        record.started = utc(started);
        // Unique within the process too: two runs may start in the same second.
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let nth = RUNS.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{}-{nth}", record.started, std::process::id());
        let mut all: Vec<PathBuf> = vec![results_dir.to_path_buf()];
        for d in dirs {
            if !all.iter().any(|a| same_dir(a, d)) {
                all.push(d.to_path_buf());
            }
        }
        Run {
            id,
            record,
            results_dir: results_dir.to_path_buf(),
            dirs: all,
            folders: Vec::new(),
            staged: Mutex::new(Vec::new()),
            in_place: Mutex::new(Vec::new()),
            committed: false,
        }
    }

    /// Makes the run's folders ready, once: locks each (refusing at once when another run
    /// holds one), removes what an earlier killed run left, and makes the staging folders.
    pub fn start(&mut self) -> Result<(), OutputError> {
        if !self.folders.is_empty() {
            return Ok(());
        }
        for dir in &self.dirs {
            crate::fs::create_dir(dir)?;
            let lock = lock(dir, &self.record.command)?;
            remove_stale_staging(dir)?;
            let staging = dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
            crate::fs::create_dir(&staging)?;
            lock_list(&STAGING).push(staging.clone());
            self.folders.push(Folder {
                dir: dir.clone(),
                staging,
                _lock: lock,
            });
        }
        Ok(())
    }

    /// The run's id: its start time and process id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the run records about itself.
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// Records that section `title` ran with `params` (shown in the manifest).
    pub fn note_settings(&mut self, title: &str, params: &str) {
        let entry = (title.to_string(), params.to_string());
        if !self.record.settings.contains(&entry) {
            self.record.settings.push(entry);
        }
    }

    /// Where a file meant for `dir` is written during the run: `dir`'s staging folder when
    /// `dir` is one of the run's output folders, `dir` itself otherwise.
    pub fn staging_for(&self, dir: &Path) -> PathBuf {
        self.folders
            .iter()
            .find(|f| same_dir(&f.dir, dir))
            .map_or_else(|| dir.to_path_buf(), |f| f.staging.clone())
    }

    /// Where `path`, a file in one of the run's staging folders, will be once committed; any
    /// other path as it is. Errors name the final path, the one the user knows.
    pub fn final_path(&self, path: &Path) -> PathBuf {
        self.folders
            .iter()
            .find_map(|f| {
                path.strip_prefix(&f.staging)
                    .ok()
                    .map(|rest| f.dir.join(rest))
            })
            .unwrap_or_else(|| path.to_path_buf())
    }

    /// Records that the file that will be at `path` has been written to its staging folder.
    pub fn staged(&self, path: &Path) {
        push_once(&self.staged, path);
    }

    /// Records that this run wrote the file at `path` in place (not staged): its manifest
    /// entry is made at commit from the file as it is then.
    pub fn wrote_in_place(&self, path: &Path) {
        push_once(&self.in_place, path);
    }

    /// The files written so far, by their final paths.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut all = lock_list(&self.staged).clone();
        all.extend(lock_list(&self.in_place).iter().cloned());
        all
    }

    /// Moves every staged file into place, records them in the manifest (files of earlier
    /// runs that this one did not rewrite keep their entries), and removes the staging
    /// folders. Returns the final paths, in the order they were written; a run that never
    /// started has written nothing and returns nothing.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, OutputError> {
        if self.folders.is_empty() {
            self.committed = true;
            return Ok(Vec::new());
        }
        let manifest_path = self.results_dir.join(MANIFEST);
        let mut manifest = match Manifest::read(&self.results_dir) {
            Ok(m) => m,
            // A manifest of another format is replaced, not trusted.
            Err(OutputError::Manifest { .. }) => Manifest::default(),
            Err(e) => return Err(e),
        };
        manifest.format = FORMAT.to_string();
        let staged = std::mem::take(&mut *lock_list(&self.staged));
        let in_place = std::mem::take(&mut *lock_list(&self.in_place));
        for path in staged.iter().chain(&in_place) {
            let bytes = if in_place.contains(path) {
                std::fs::read(path).map_err(write_error(path))?
            } else {
                let dir = path.parent().unwrap_or(Path::new("."));
                let name = path.file_name().unwrap_or_default();
                let from = self.staging_for(dir).join(name);
                let bytes = std::fs::read(&from).map_err(write_error(&from))?;
                std::fs::rename(&from, path).map_err(write_error(path))?;
                bytes
            };
            manifest.files.insert(
                relative(&self.results_dir, path),
                FileRecord {
                    sha256: Sha256Digest::of(&bytes).to_string(),
                    bytes: bytes.len() as u64,
                    run: self.id.clone(),
                },
            );
        }
        manifest.runs.insert(self.id.clone(), self.record.clone());
        let used: Vec<String> = manifest.files.values().map(|f| f.run.clone()).collect();
        manifest.runs.retain(|id, _| used.contains(id));
        let json = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
        write_atomically(&manifest_path, format!("{json}\n").as_bytes())?;
        self.committed = true;
        self.remove_staging();
        let mut written = staged;
        written.extend(in_place);
        written.push(manifest_path);
        Ok(written)
    }

    fn remove_staging(&mut self) {
        let mut registry = lock_list(&STAGING);
        for folder in &self.folders {
            let _ = std::fs::remove_dir_all(&folder.staging);
            registry.retain(|d| d != &folder.staging);
        }
    }
}

impl Drop for Run {
    /// A run dropped before [`Run::commit`] (an error, a panic) leaves no trace.
    fn drop(&mut self) {
        if !self.committed {
            self.remove_staging();
        }
    }
}

fn lock_list(list: &Mutex<Vec<PathBuf>>) -> std::sync::MutexGuard<'_, Vec<PathBuf>> {
    list.lock().unwrap_or_else(|e| e.into_inner())
}

fn push_once(list: &Mutex<Vec<PathBuf>>, path: &Path) {
    let mut list = lock_list(list);
    if !list.iter().any(|p| p == path) {
        list.push(path.to_path_buf());
    }
}

/// Takes `dir`'s lock without waiting, writing who holds it into the lock file.
fn lock(dir: &Path, command: &str) -> Result<File, OutputError> {
    use std::io::{Read, Seek, Write};
    let path = dir.join(LOCK);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        // Cannot make a file in the folder: name the folder, the user's concern.
        .map_err(write_error(dir))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(OutputError::Busy {
                dir: dir.to_path_buf(),
                holder: holder.trim().to_string(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(write_error(&path)(e).into()),
    }
    let who = format!("pid {}, fmnist {command}", std::process::id());
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(who.as_bytes()))
        .map_err(write_error(&path))?;
    Ok(file)
}

/// Removes the staging folders in `dir` (whose lock this process holds, so no other run is
/// writing into them: they are what a killed run left).
fn remove_stale_staging(dir: &Path) -> Result<(), OutputError> {
    let entries = std::fs::read_dir(dir).map_err(write_error(dir))?;
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX)
        {
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(write_error(&path))?;
        }
    }
    Ok(())
}

/// Whether two paths name the same folder (both made if needed, so that they can be
/// compared canonically).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `path` relative to `base` when both are relative or share a root (`../figures/x.png`);
/// `path` as given otherwise.
pub(crate) fn relative(base: &Path, path: &Path) -> String {
    let (Ok(base_abs), Ok(path_abs)) = (absolute(base), absolute(path)) else {
        return path.display().to_string();
    };
    let common = base_abs
        .components()
        .zip(path_abs.components())
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return path.display().to_string();
    }
    let ups = base_abs.components().count() - common;
    let mut parts: Vec<String> = vec!["..".to_string(); ups];
    parts.extend(
        path_abs
            .components()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

fn absolute(path: &Path) -> io::Result<PathBuf> {
    let joined = std::path::absolute(path)?;
    // Resolve `.` and `..` lexically: the files need not exist yet.
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `time` as ISO 8601 in UTC, to the second: `2026-12-02T15:25:50Z`.
pub(crate) fn utc(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// What [`check`] found for one file of a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    /// The file the manifest records, written by the run named.
    Recorded {
        /// The run's id.
        run: String,
    },
    /// The manifest records it, but the file is gone.
    Missing,
    /// The file is not the one the manifest records (changed since, or an interrupted
    /// commit).
    Changed {
        /// The run the manifest says wrote it.
        run: String,
    },
    /// A file of the folder that no run recorded (written by hand, by an older version, or by
    /// the library outside a run).
    Unrecorded,
}

/// What [`check`] found in a results folder (and the figures folder its manifest names).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckReport {
    /// The manifest, as read.
    pub manifest: Manifest,
    /// Each file, by path relative to the results folder, in order.
    pub files: Vec<(String, FileStatus)>,
    /// Staging folders a killed run left (the next run into the folder removes them).
    pub interrupted: Vec<PathBuf>,
}

impl CheckReport {
    /// True when every file is the one its run recorded and no run was left unfinished.
    pub fn is_intact(&self) -> bool {
        self.interrupted.is_empty()
            && self
                .files
                .iter()
                .all(|(_, s)| matches!(s, FileStatus::Recorded { .. }))
    }

    /// The runs the manifest's files come from, with how many files each, most recent first.
    pub fn runs(&self) -> Vec<(&str, &RunRecord, usize)> {
        let mut runs: Vec<(&str, &RunRecord, usize)> = self
            .manifest
            .runs
            .iter()
            .map(|(id, r)| {
                let n = self
                    .manifest
                    .files
                    .values()
                    .filter(|f| &f.run == id)
                    .count();
                (id.as_str(), r, n)
            })
            .filter(|(_, _, n)| *n > 0)
            .collect();
        runs.sort_by(|a, b| b.1.started.cmp(&a.1.started).then(b.0.cmp(a.0)));
        runs
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let runs = self.runs();
        match runs.len() {
            0 => writeln!(f, "no file here was recorded by a run of fmnist")?,
            1 => writeln!(f, "every recorded file comes from one run:")?,
            n => writeln!(f, "the files come from {n} different runs:")?,
        }
        for (id, run, n) in &runs {
            writeln!(
                f,
                "  {id}: fmnist {} (seed {}{}), {n} files",
                run.command,
                run.seed,
                if run.quick { ", quick" } else { "" }
            )?;
        }
        for (file, status) in &self.files {
            match status {
                FileStatus::Recorded { run } if runs.len() > 1 => {
                    writeln!(f, "  {file}: from {run}")?
                }
                FileStatus::Recorded { .. } => {}
                FileStatus::Missing => writeln!(f, "  {file}: MISSING (recorded, not there)")?,
                FileStatus::Changed { run } => writeln!(
                    f,
                    "  {file}: CHANGED since run {run} wrote it (edited, or an interrupted run)"
                )?,
                FileStatus::Unrecorded => writeln!(f, "  {file}: not written by a recorded run")?,
            }
        }
        for dir in &self.interrupted {
            writeln!(
                f,
                "  {}: left by an interrupted run; its files were never moved into place \
                 (the next run here removes it)",
                dir.display()
            )?;
        }
        Ok(())
    }
}

/// Checks the files of `results_dir` (and of the other folders its manifest names) against
/// its manifest: which run wrote each, which changed or went missing, which no run recorded,
/// and what an interrupted run left.
pub fn check(results_dir: &Path) -> Result<CheckReport, OutputError> {
    let manifest = Manifest::read(results_dir)?;
    let mut files = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![results_dir.to_path_buf()];
    for (name, record) in &manifest.files {
        let path = results_dir.join(name);
        if let Some(parent) = path.parent() {
            if !dirs.iter().any(|d| same_dir(d, parent)) {
                dirs.push(parent.to_path_buf());
            }
        }
        let status = match std::fs::read(&path) {
            Err(_) => FileStatus::Missing,
            Ok(bytes) if Sha256Digest::of(&bytes).to_string() == record.sha256 => {
                FileStatus::Recorded {
                    run: record.run.clone(),
                }
            }
            Ok(_) => FileStatus::Changed {
                run: record.run.clone(),
            },
        };
        files.push((name.clone(), status));
    }
    let mut interrupted = Vec::new();
    for dir in &dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut names: Vec<_> = entries.flatten().collect();
        names.sort_by_key(|e| e.file_name());
        for entry in names {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(STAGING_PREFIX) {
                interrupted.push(entry.path());
                continue;
            }
            let key = relative(results_dir, &entry.path());
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if is_file
                && !name.starts_with('.')
                && name != MANIFEST
                && !manifest.files.contains_key(&key)
            {
                files.push((key, FileStatus::Unrecorded));
            }
        }
    }
    Ok(CheckReport {
        manifest,
        files,
        interrupted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RunRecord {
        RunRecord {
            command: String::new(),
            started: String::new(),
            seed: 42,
            quick: true,
            settings: Vec::new(),
            data: "test".into(),
            data_sha256: BTreeMap::new(),
            versions: BTreeMap::new(),
            threads: 1,
        }
    }

    /// A run that writes `files` (name, text) into `dir` through its staging folder.
    fn run(dir: &Path, command: &str, files: &[(&str, &str)]) -> Vec<PathBuf> {
        let run = Run::begin(command, dir, &[], record()).unwrap();
        for (name, text) in files {
            let staging = run.staging_for(dir);
            std::fs::write(staging.join(name), text).unwrap();
            run.staged(&dir.join(name));
        }
        run.commit().unwrap()
    }

    #[test]
    fn dates_are_utc_iso_8601() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_796_226_350);
        assert_eq!(utc(t), "2026-12-02T15:45:50Z");
        let leap = UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(utc(leap), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn paths_are_recorded_relative_to_the_results_folder() {
        assert_eq!(
            relative(Path::new("results"), Path::new("figures/a.png")),
            "../figures/a.png"
        );
        assert_eq!(
            relative(Path::new("out/results"), Path::new("out/results/t.csv")),
            "t.csv"
        );
        assert_eq!(
            relative(Path::new("/a/results"), Path::new("/a/figures")),
            "../figures"
        );
        assert_eq!(relative(Path::new("out"), Path::new("out")), ".");
    }

    #[test]
    fn a_committed_run_is_recorded_and_checks_intact() {
        let dir = tempfile::tempdir().unwrap();
        let written = run(dir.path(), "table1", &[("a.csv", "1\n"), ("b.csv", "2\n")]);
        assert_eq!(written.len(), 3, "two files and the manifest");
        let report = check(dir.path()).unwrap();
        assert!(report.is_intact(), "{report}");
        assert_eq!(report.runs().len(), 1);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.csv")).unwrap(),
            "1\n"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(STAGING_PREFIX))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_dropped_run_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), "table1", &[("a.csv", "old\n")]);
        {
            let r = Run::begin("table1", dir.path(), &[], record()).unwrap();
            std::fs::write(r.staging_for(dir.path()).join("a.csv"), "new\n").unwrap();
            r.staged(&dir.path().join("a.csv"));
        }
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.csv")).unwrap(),
            "old\n"
        );
        assert!(check(dir.path()).unwrap().is_intact());
    }

    #[test]
    fn a_second_run_into_the_same_folder_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Run::begin("reproduce", dir.path(), &[], record()).unwrap();
        let err = Run::begin("table1", dir.path(), &[], record()).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, OutputError::Busy { .. }));
        assert!(
            message.contains("fmnist reproduce") && message.contains("pid"),
            "{message}"
        );
    }

    #[test]
    fn files_from_two_runs_and_changed_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        run(
            dir.path(),
            "reproduce",
            &[("a.csv", "1\n"), ("REPORT.md", "r\n")],
        );
        // A later second, so that "most recent first" is decided by the start time.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        run(dir.path(), "table1", &[("a.csv", "2\n")]);
        std::fs::write(dir.path().join("REPORT.md"), "edited\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine\n").unwrap();
        std::fs::create_dir(dir.path().join(".fmnist-run-99999")).unwrap();
        let report = check(dir.path()).unwrap();
        assert!(!report.is_intact());
        let text = report.to_string();
        assert!(text.contains("REPORT.md: CHANGED"), "{text}");
        assert!(
            text.contains("notes.txt: not written by a recorded run"),
            "{text}"
        );
        assert!(text.contains("left by an interrupted run"), "{text}");
        let runs = report.runs();
        assert_eq!(runs.len(), 2, "{text}");
        assert_eq!(runs[0].1.command, "table1", "most recent first");
        assert!(
            text.contains("the files come from 2 different runs"),
            "{text}"
        );
        // The next run removes what the killed one left.
        run(dir.path(), "knn", &[]);
        assert!(check(dir.path()).unwrap().interrupted.is_empty());
    }
}
