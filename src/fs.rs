//! Writing output files: every figure, table and weights file goes through here, so each
//! appears whole or not at all (a temporary file beside the target, renamed onto it) and a
//! failure names the file.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

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
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(WriteError::at(path))?;
    // Through the file itself: tempfile's own writer would add the temporary file's name to
    // the error, where the user wants the file they asked for.
    tmp.as_file_mut()
        .write_all(bytes)
        .map_err(WriteError::at(path))?;
    make_readable(tmp.as_file()).map_err(WriteError::at(path))?;
    tmp.persist(path)
        .map_err(|e| WriteError::at(path)(e.error))?;
    Ok(())
}

/// Writes `text` to `dir/name`, atomically, creating `dir`; returns the path.
pub fn write_text(dir: &Path, name: &str, text: &str) -> Result<PathBuf, WriteError> {
    let path = dir.join(name);
    write_atomically(&path, text.as_bytes())?;
    Ok(path)
}

/// Temporary files are created private (mode 0600); a figure or a downloaded data file is
/// meant to be read by everyone, as a file created the ordinary way would be (0644).
pub(crate) fn make_readable(file: &File) -> io::Result<()> {
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
    fn a_failure_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let err = write_text(&blocker, "t.csv", "x").unwrap_err();
        assert_eq!(err.path, blocker);
        assert!(err.to_string().contains("file"), "{err}");
    }
}
