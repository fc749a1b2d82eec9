//! Writing output files: every figure, table and weights file goes through here, so each
//! appears whole or not at all (a temporary file beside the target, renamed onto it) and a
//! failure names the file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use thiserror::Error;

/// An output file (or its directory) could not be written.
#[derive(Debug, Error)]
#[error("cannot write {}", path.display())]
pub struct WriteError {
    /// The file or directory at fault.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: io::Error,
}

impl WriteError {
    fn at(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
        move |source| WriteError {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Creates `dir` and its parents if needed; none once the process is being interrupted
/// ([`crate::outputs::abandon_all`]), so that no staging folder comes back.
pub(crate) fn create_dir(dir: &Path) -> Result<(), WriteError> {
    if crate::outputs::abandoned() && !dir.is_dir() {
        return Err(WriteError::at(dir)(io::Error::new(
            io::ErrorKind::Interrupted,
            "the run was interrupted",
        )));
    }
    std::fs::create_dir_all(dir).map_err(WriteError::at(dir))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it onto `path`, creating the
/// directory if needed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    create_dir(dir)?;
    let name = path
        .file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy();
    let mut staged = StagedFile::new_in(dir, &name).map_err(WriteError::at(path))?;
    staged
        .file_mut()
        .write_all(bytes)
        .map_err(WriteError::at(path))?;
    staged.persist(path).map_err(WriteError::at(path))
}

/// Writes `text` to `dir/name`, atomically, creating `dir`; returns the path.
pub fn write_text(dir: &Path, name: &str, text: &str) -> Result<PathBuf, WriteError> {
    let path = dir.join(name);
    write_atomically(&path, text.as_bytes())?;
    Ok(path)
}

/// A file being written beside its destination, to be renamed onto it once whole: created
/// private (mode 0600 on Unix) under a dot-name no other writer has, `.{name}.{pid}-{n}.part`,
/// and removed when dropped unless [`StagedFile::persist`] has renamed it.
///
/// Ours rather than the `tempfile` crate's, which did the same: `tempfile` brought `rustix`
/// and `linux-raw-sys` into every build of the library, and a new notebook kernel reads them in
/// evcxr's rust-analyzer pass before notebook 01's first figure. On an AMD EPYC (Zen 4, 2
/// cores) that figure came after 21 s without them (median of eleven runs, 20–24 s) and 22 s
/// with them (five runs, 21–24 s): about a second, within the runs' spread.
pub(crate) struct StagedFile {
    /// `None` once closed: a file is closed before it is renamed or removed, as Windows needs.
    file: Option<File>,
    path: PathBuf,
    persisted: bool,
}

impl StagedFile {
    /// Names tried before giving up when every one exists already (each left by an earlier
    /// process with the same id, or by another machine on a shared disk).
    const ATTEMPTS: u32 = 1000;

    /// Creates a new, empty file in `dir` for the destination file `name`; never opens one
    /// that exists.
    pub(crate) fn new_in(dir: &Path, name: &str) -> io::Result<StagedFile> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut attempts = 0;
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".{name}.{}-{n}.part", std::process::id()));
            match options.open(&path) {
                Ok(file) => {
                    return Ok(StagedFile {
                        file: Some(file),
                        path,
                        persisted: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < Self::ATTEMPTS => {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The open file.
    pub(crate) fn file(&self) -> &File {
        self.file.as_ref().expect("open until persisted or dropped")
    }

    /// The open file, to write to.
    pub(crate) fn file_mut(&mut self) -> &mut File {
        self.file.as_mut().expect("open until persisted or dropped")
    }

    /// Where the file is being written.
    #[cfg(any(feature = "download", test))]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the file readable by everyone ([`make_readable`]), closes it and renames it onto
    /// `dest`, replacing any file there. On failure the staged file is removed and `dest` is
    /// untouched.
    pub(crate) fn persist(mut self, dest: &Path) -> io::Result<()> {
        make_readable(self.file())?;
        drop(self.file.take());
        std::fs::rename(&self.path, dest)?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        drop(self.file.take());
        if !self.persisted {
            // Nothing to report to: the error that dropped it is what the caller sees.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Staged files are created private (mode 0600); a figure or a downloaded data file is
/// meant to be read by everyone, as a file created the ordinary way would be (0644).
fn make_readable(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_creates_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_text(&dir.path().join("a/b"), "t.csv", "x\n1\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x\n1\n");
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }

    #[test]
    fn a_staged_file_is_private_and_gone_unless_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let mut kept = StagedFile::new_in(dir.path(), "a.csv").unwrap();
        let dropped = StagedFile::new_in(dir.path(), "a.csv").unwrap();
        assert_ne!(kept.path(), dropped.path());
        let name = kept
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(".a.csv.") && name.ends_with(".part"),
            "{name}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = kept.file().metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let dropped_path = dropped.path().to_path_buf();
        drop(dropped);
        assert!(!dropped_path.exists());

        kept.file_mut().write_all(b"x\n").unwrap();
        let dest = dir.path().join("a.csv");
        std::fs::write(&dest, "old").unwrap();
        kept.persist(&dest).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "x\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_staged_file_skips_a_name_left_by_another_process() {
        let dir = tempfile::tempdir().unwrap();
        // The next name this process would take, and the one after, already exist.
        let probe = StagedFile::new_in(dir.path(), "f").unwrap();
        let next = |k: u64| {
            let name = probe
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let (stem, n) = name.trim_end_matches(".part").rsplit_once('-').unwrap();
            dir.path()
                .join(format!("{stem}-{}.part", n.parse::<u64>().unwrap() + k))
        };
        // Other tests take numbers too, so leave a wide margin of stale names.
        let stale: Vec<PathBuf> = (1..=50).map(next).collect();
        for path in &stale {
            std::fs::write(path, "stale").unwrap();
        }
        drop(probe);
        let fresh = StagedFile::new_in(dir.path(), "f").unwrap();
        assert_eq!(std::fs::read(fresh.path()).unwrap(), b"");
        for path in &stale {
            assert_eq!(std::fs::read_to_string(path).unwrap(), "stale");
        }
    }

    #[test]
    fn a_failed_rename_removes_the_staged_file() {
        let dir = tempfile::tempdir().unwrap();
        let staged = StagedFile::new_in(dir.path(), "f").unwrap();
        let path = staged.path().to_path_buf();
        // A directory with a file in it cannot be replaced by a file.
        let dest = dir.path().join("busy");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("x"), "").unwrap();
        assert!(staged.persist(&dest).is_err());
        assert!(!path.exists());
        assert!(dest.join("x").exists());
    }

    #[test]
    fn a_failure_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let err = write_text(&blocker, "t.csv", "x").unwrap_err();
        assert_eq!(err.path, blocker);
        assert!(err.to_string().contains("file"), "{err}");
    }
}
