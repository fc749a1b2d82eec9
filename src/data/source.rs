//! Where the four files are looked for, how they are read and verified, and what is said when
//! they cannot be found.

use std::fmt;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use rayon::prelude::*;

use super::idx::{self, IdxData, IdxKind, Sha256Digest, PIXELS};
use super::{DataError, FashionMnist, Split};

/// Where Zalando's README points for the four files.
pub const DEFAULT_MIRROR: &str = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

/// The Debian package `dataset-fashion-mnist` installs the files here.
const SYSTEM_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// One of the four published files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFile {
    /// File name without `.gz`, e.g. `train-images-idx3-ubyte`.
    pub name: &'static str,
    /// Images or labels.
    pub kind: IdxKind,
    /// Size of the decompressed content in bytes.
    pub bytes: u64,
    /// SHA-256 of the decompressed content. Archive digests would not do: the Debian package
    /// recompressed the upstream files, so its `.gz` bytes differ while the content is equal.
    pub sha256: Sha256Digest,
}

/// The four files: training images and labels, then test images and labels.
pub const FILES: [DataFile; 4] = [
    DataFile {
        name: "train-images-idx3-ubyte",
        kind: IdxKind::Images,
        bytes: 47_040_016,
        sha256: hex("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    },
    DataFile {
        name: "train-labels-idx1-ubyte",
        kind: IdxKind::Labels,
        bytes: 60_008,
        sha256: hex("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    },
    DataFile {
        name: "t10k-images-idx3-ubyte",
        kind: IdxKind::Images,
        bytes: 7_840_016,
        sha256: hex("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    },
    DataFile {
        name: "t10k-labels-idx1-ubyte",
        kind: IdxKind::Labels,
        bytes: 10_008,
        sha256: hex("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
];

/// Parses a digest at compile time; a malformed constant fails the build.
const fn hex(s: &str) -> Sha256Digest {
    let b = s.as_bytes();
    assert!(b.len() == 64, "a SHA-256 digest is 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    Sha256Digest(out)
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not a lower-case hex digit"),
    }
}

impl DataFile {
    /// The path of this file in `dir`: `NAME.gz` if present, else `NAME`, else `None`.
    pub fn locate(&self, dir: &Path) -> Option<PathBuf> {
        [format!("{}.gz", self.name), self.name.to_string()]
            .into_iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
    }

    /// Reads the file at `path`, checking its content digest when `verify` is set.
    pub fn read(&self, path: &Path, verify: bool) -> Result<IdxData, DataError> {
        let data = idx::read_file(path, self.kind).map_err(|source| DataError::File {
            path: path.to_path_buf(),
            source,
        })?;
        if verify && data.sha256 != self.sha256 {
            return Err(DataError::Checksum {
                path: path.to_path_buf(),
                expected: self.sha256,
                found: data.sha256,
            });
        }
        Ok(data)
    }
}

pub(super) fn expected_names() -> String {
    FILES.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

/// How a location came to be searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Named by the caller (`--data-dir`, `FMNIST_DATA`).
    Explicit,
    /// `data/fashion-mnist` in the working directory or the nearest folder above it that has
    /// one (see [`project_data_dir`]).
    Project,
    /// The user cache, `~/.cache/fmnist` on Linux.
    Cache,
    /// The Debian package's directory.
    System,
    /// Downloaded into the user cache just now.
    Downloaded,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Explicit => "given explicitly",
            Origin::Project => "project data directory",
            Origin::Cache => "user cache",
            Origin::System => "Debian package dataset-fashion-mnist",
            Origin::Downloaded => "downloaded into the user cache",
        })
    }
}

/// A location that was looked at and did not serve, with the reason.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The directory.
    pub dir: PathBuf,
    /// Why it was searched.
    pub origin: Origin,
    /// What was wrong there, one line.
    pub problem: String,
}

/// Where the loaded data came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// The directory that held the files.
    pub dir: PathBuf,
    /// Why it was searched.
    pub origin: Origin,
    /// The four files read, in [`FILES`] order.
    pub files: Vec<PathBuf>,
    /// The SHA-256 of each file's decompressed content, in [`FILES`] order (what a run's
    /// manifest records as its input).
    pub sha256: Vec<Sha256Digest>,
    /// True when every file's content digest matched the published one.
    pub verified: bool,
    /// Earlier locations that held files but failed, so a corrupt copy that was passed over
    /// does not go unnoticed.
    pub skipped: Vec<Attempt>,
}

/// Where to look for the data and what to accept.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Look only here; the automatic search and the download are skipped.
    pub data_dir: Option<PathBuf>,
    /// Where to look, in order, when `data_dir` is `None`: by default the project's
    /// `data/fashion-mnist`, the user cache, then the Debian package's directory.
    pub search_path: Vec<(PathBuf, Origin)>,
    /// Compare content digests with the published ones (on by default).
    pub verify: bool,
    /// Download into the user cache when no location holds a valid set.
    pub download: bool,
    /// Base URL of the download; the four `NAME.gz` files are fetched below it.
    pub mirror: String,
    /// The user cache directory for downloads; `None` when the platform has none.
    pub cache_dir: Option<PathBuf>,
    /// Show a progress bar while downloading.
    pub progress: bool,
}

/// Where the project keeps its copy of the data, relative to the project's root.
const PROJECT_DATA: &str = "data/fashion-mnist";

/// The project's data folder, seen from `start`: `data/fashion-mnist` in `start` or in the
/// nearest folder above it that has one, so that a notebook kernel, whose working directory is
/// `notebooks/`, finds the repository's `data/`; `start/data/fashion-mnist` when none has one.
pub fn project_data_dir(start: &Path) -> PathBuf {
    start
        .ancestors()
        .map(|dir| dir.join(PROJECT_DATA))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| start.join(PROJECT_DATA))
}

impl Default for LoadOptions {
    fn default() -> Self {
        let cache_dir = dirs::cache_dir().map(|d| d.join("fmnist"));
        let project = std::env::current_dir()
            .map(|cwd| project_data_dir(&cwd))
            .unwrap_or_else(|_| PathBuf::from(PROJECT_DATA));
        let mut search_path = vec![(project, Origin::Project)];
        search_path.extend(cache_dir.clone().map(|c| (c, Origin::Cache)));
        search_path.push((PathBuf::from(SYSTEM_DIR), Origin::System));
        LoadOptions {
            data_dir: None,
            search_path,
            verify: true,
            download: cfg!(feature = "download"),
            mirror: DEFAULT_MIRROR.to_string(),
            cache_dir,
            progress: true,
        }
    }
}

impl LoadOptions {
    /// The defaults, with `FMNIST_DATA` as the data directory and `FMNIST_MIRROR` as the
    /// download base URL when those are set.
    pub fn from_env() -> Self {
        let mut options = LoadOptions::default();
        if let Some(dir) = std::env::var_os("FMNIST_DATA").filter(|d| !d.is_empty()) {
            options.data_dir = Some(dir.into());
        }
        if let Ok(mirror) = std::env::var("FMNIST_MIRROR") {
            if !mirror.is_empty() {
                options.mirror = mirror;
            }
        }
        options
    }
}

/// Reads the four files from `dir` (in parallel) and checks that they fit together.
/// The two splits a folder holds, its four files and their content digests.
type Loaded = (Split, Split, Vec<PathBuf>, Vec<Sha256Digest>);

pub(super) fn load_dir(dir: &Path, verify: bool) -> Result<Loaded, DataError> {
    if !dir.is_dir() {
        return Err(DataError::NoSuchDir {
            dir: dir.to_path_buf(),
        });
    }
    let located: Vec<Option<PathBuf>> = FILES.iter().map(|f| f.locate(dir)).collect();
    let missing: Vec<String> = FILES
        .iter()
        .zip(&located)
        .filter(|(_, p)| p.is_none())
        .map(|(f, _)| f.name.to_string())
        .collect();
    if missing.len() == FILES.len() {
        return Err(DataError::EmptyDir {
            dir: dir.to_path_buf(),
        });
    }
    if !missing.is_empty() {
        return Err(DataError::MissingFiles {
            dir: dir.to_path_buf(),
            missing,
        });
    }
    let paths: Vec<PathBuf> = located.into_iter().flatten().collect();
    // The training images dominate; the other three read alongside them on the second core.
    // Collected whole, then checked in file order, so that when several files are bad the
    // error names the first of them every time, whichever thread finished first.
    let results: Vec<Result<IdxData, DataError>> = FILES
        .par_iter()
        .zip(&paths)
        .map(|(file, path)| file.read(path, verify))
        .collect();
    let mut read: Vec<IdxData> = results.into_iter().collect::<Result<_, _>>()?;
    let digests = read.iter().map(|idx| idx.sha256).collect();
    let test_labels = read.pop().expect("four files");
    let test_images = read.pop().expect("four files");
    let train_labels = read.pop().expect("four files");
    let train_images = read.pop().expect("four files");
    let train = split(train_images, &paths[0], train_labels, &paths[1])?;
    let test = split(test_images, &paths[2], test_labels, &paths[3])?;
    Ok((train, test, paths, digests))
}

fn split(
    images: IdxData,
    images_path: &Path,
    labels: IdxData,
    labels_path: &Path,
) -> Result<Split, DataError> {
    if images.count != labels.count {
        return Err(DataError::CountMismatch {
            images_path: images_path.to_path_buf(),
            images: images.count,
            labels_path: labels_path.to_path_buf(),
            labels: labels.count,
        });
    }
    let images = Array2::from_shape_vec((images.count, PIXELS), images.values)
        .expect("the reader checked count × 784 bytes");
    Split::new(images, Array1::from(labels.values))
}

pub(super) fn load(options: &LoadOptions) -> Result<FashionMnist, DataError> {
    let found = |dir: PathBuf, origin, skipped| {
        move |(train, test, files, sha256)| FashionMnist {
            train,
            test,
            source: Source {
                dir,
                origin,
                files,
                sha256,
                verified: options.verify,
                skipped,
            },
        }
    };
    if let Some(dir) = &options.data_dir {
        return load_dir(dir, options.verify).map(found(dir.clone(), Origin::Explicit, vec![]));
    }

    let mut searched = Vec::new();
    for (dir, origin) in options.search_path.iter().cloned() {
        match load_dir(&dir, options.verify) {
            Ok(loaded) => {
                let skipped = searched
                    .into_iter()
                    .filter(|a: &Attempt| a.problem != NOT_PRESENT)
                    .collect();
                return Ok(found(dir, origin, skipped)(loaded));
            }
            Err(err) => searched.push(Attempt {
                dir,
                origin,
                problem: describe(&err),
            }),
        }
    }

    let download = match (&options.cache_dir, options.download) {
        (Some(cache), true) => match fetch(options, cache) {
            Ok(()) => {
                return load_dir(cache, options.verify).map(found(
                    cache.clone(),
                    Origin::Downloaded,
                    vec![],
                ))
            }
            Err(err) => format!("the download failed: {}", error_chain(&err)),
        },
        (None, true) => "no download: this platform has no user cache directory".to_string(),
        (_, false) => "no download was tried (turned off)".to_string(),
    };
    Err(DataError::NotFound { searched, download })
}

const NOT_PRESENT: &str = "not present";

/// One line for a location that did not serve.
fn describe(err: &DataError) -> String {
    match err {
        DataError::NoSuchDir { .. } | DataError::EmptyDir { .. } => NOT_PRESENT.to_string(),
        other => error_chain(other),
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(feature = "download")]
fn fetch(options: &LoadOptions, cache: &Path) -> Result<(), DataError> {
    super::download::fetch_all(&options.mirror, cache, options.progress)
}

#[cfg(not(feature = "download"))]
fn fetch(_: &LoadOptions, _: &Path) -> Result<(), DataError> {
    unreachable!("download is false without the download feature")
}

pub(super) fn not_found_message(searched: &[Attempt], download: &str) -> String {
    let mut text = String::from("Fashion-MNIST was not found. Looked in:\n");
    for a in searched {
        text.push_str(&format!(
            "  {} ({}): {}\n",
            a.dir.display(),
            a.origin,
            a.problem
        ));
    }
    text.push_str(&format!("and {download}.\n"));
    text.push_str(
        "Get the data with `sudo apt-get install dataset-fashion-mnist` (Debian, Ubuntu), or put \
         the four files (",
    );
    text.push_str(&expected_names());
    // The project folder this search meant, as it searched it (absolute from the defaults).
    let project = searched
        .iter()
        .find(|a| a.origin == Origin::Project)
        .map_or_else(
            || format!("./{PROJECT_DATA}"),
            |a| a.dir.display().to_string(),
        );
    text.push_str(&format!(
        ", .gz or not) in {project}/, or point --data-dir or FMNIST_DATA at them."
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_time_digests_match_the_runtime_parser() {
        for f in FILES {
            let text = f.sha256.to_string();
            assert_eq!(Sha256Digest::from_hex(&text), Some(f.sha256));
        }
        assert_eq!(
            FILES[0].sha256.to_string(),
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
        );
    }

    #[test]
    fn when_every_file_is_bad_the_error_names_the_first_every_time() {
        let dir = tempfile::tempdir().unwrap();
        for f in FILES {
            std::fs::write(dir.path().join(format!("{}.gz", f.name)), "<html>").unwrap();
        }
        for _ in 0..20 {
            match load_dir(dir.path(), true) {
                Err(DataError::File { path, .. }) => {
                    assert!(
                        path.ends_with("train-images-idx3-ubyte.gz"),
                        "{}",
                        path.display()
                    )
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn default_search_order_is_project_cache_system() {
        let options = LoadOptions::default();
        let origins: Vec<Origin> = options.search_path.iter().map(|(_, o)| *o).collect();
        assert_eq!(origins, [Origin::Project, Origin::Cache, Origin::System]);
        assert!(options.search_path[0].0.ends_with("data/fashion-mnist"));
        assert!(options.search_path[0].0.is_absolute());
        assert_eq!(options.search_path[2].0, Path::new(SYSTEM_DIR));
    }

    #[test]
    fn the_project_data_is_found_from_a_folder_inside_the_project() {
        let root = tempfile::tempdir().unwrap();
        let notebooks = root.path().join("notebooks/deeper");
        std::fs::create_dir_all(&notebooks).unwrap();
        let nowhere = project_data_dir(&notebooks);
        assert_eq!(
            nowhere,
            notebooks.join("data/fashion-mnist"),
            "none yet: where it would be"
        );
        std::fs::create_dir_all(root.path().join("data/fashion-mnist")).unwrap();
        assert_eq!(
            project_data_dir(&notebooks),
            root.path().join("data/fashion-mnist")
        );
        assert_eq!(
            project_data_dir(root.path()),
            root.path().join("data/fashion-mnist")
        );
    }

    #[test]
    fn the_not_found_message_names_the_project_folder_it_searched() {
        let dir = PathBuf::from("/somewhere/data/fashion-mnist");
        let searched = [Attempt {
            dir: dir.clone(),
            origin: Origin::Project,
            problem: NOT_PRESENT.into(),
        }];
        let text = not_found_message(&searched, "no download was tried (turned off)");
        assert!(
            text.contains("in /somewhere/data/fashion-mnist/, or point --data-dir"),
            "{text}"
        );
    }
}
