//! Downloading the four files into the user cache, verified before they are kept.
//!
//! Each file streams into a hidden temporary file beside its destination, with a progress bar;
//! its decompressed content is then read and hashed, and only a file whose digest matches the
//! published one is renamed into place (an atomic rename on one file system). A dropped
//! connection, a wrong file or a full disk leaves nothing behind: the temporary file is
//! deleted when it goes out of scope.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use thiserror::Error;

use super::idx::{self, IdxError, IdxKind, Sha256Digest};
use super::{DataError, FILES};
use crate::fs::StagedFile;

/// Why one download failed.
#[derive(Debug, Error)]
pub enum DownloadError {
    /// The request failed: no connection, an HTTP error status, or the body was cut short.
    #[error("request failed")]
    Http(#[source] ureq::Error),
    /// Reading the response body failed (e.g. the connection dropped mid-file).
    #[error("the transfer broke off")]
    Transfer(#[source] io::Error),
    /// The destination could not be written.
    #[error("cannot write into {}", dir.display())]
    Write {
        /// The destination directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// What arrived is not a valid IDX file of the expected kind.
    #[error("the downloaded file is not valid")]
    Invalid(#[source] IdxError),
    /// What arrived is valid IDX but not the published content.
    #[error("the downloaded content has SHA-256 {found}, expected {expected}")]
    Checksum {
        /// The published digest.
        expected: Sha256Digest,
        /// The digest of what arrived.
        found: Sha256Digest,
    },
}

/// Downloads every file of [`FILES`] that `dir` lacks, or holds in a damaged state, from
/// `mirror` (a base URL) into `dir`, creating `dir` if needed.
pub fn fetch_all(mirror: &str, dir: &Path, progress: bool) -> Result<(), DataError> {
    std::fs::create_dir_all(dir).map_err(|source| DataError::File {
        path: dir.to_path_buf(),
        source: IdxError::Io(source),
    })?;
    for file in FILES {
        let intact = file
            .locate(dir)
            .is_some_and(|path| file.read(&path, true).is_ok());
        if !intact {
            let url = format!("{}/{}.gz", mirror.trim_end_matches('/'), file.name);
            let dest = dir.join(format!("{}.gz", file.name));
            fetch(&url, &dest, file.kind, file.sha256, progress)?;
        }
    }
    Ok(())
}

/// Downloads `url` to `dest`, keeping it only if its decompressed content is IDX of `kind` with
/// SHA-256 `expected`. On any failure `dest` is untouched and no temporary file remains.
pub fn fetch(
    url: &str,
    dest: &Path,
    kind: IdxKind,
    expected: Sha256Digest,
    progress: bool,
) -> Result<(), DataError> {
    fetch_inner(url, dest, kind, expected, progress).map_err(|source| DataError::Download {
        url: url.to_string(),
        source,
    })
}

fn fetch_inner(
    url: &str,
    dest: &Path,
    kind: IdxKind,
    expected: Sha256Digest,
    progress: bool,
) -> Result<(), DownloadError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let write_err = |source| DownloadError::Write {
        dir: dir.to_path_buf(),
        source,
    };
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(30)))
            .build(),
    );
    let response = agent.get(url).call().map_err(DownloadError::Http)?;
    let body = response.into_body();
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bar = if progress {
        ProgressBar::new(body.content_length().unwrap_or(0))
            .with_style(
                ProgressStyle::with_template(
                    "{msg:28} {bar:40} {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12}",
                )
                .expect("a valid template"),
            )
            .with_message(name.clone())
    } else {
        ProgressBar::hidden()
    };

    let mut part = StagedFile::new_in(dir, &name).map_err(write_err)?;
    {
        // A loop rather than io::copy, so a network error and a disk error stay apart.
        let mut reader = bar.wrap_read(body.into_reader());
        let mut out = io::BufWriter::new(part.file_mut());
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut buf).map_err(DownloadError::Transfer)?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(write_err)?;
        }
        out.flush().map_err(write_err)?;
    }
    bar.finish_and_clear();

    let data = idx::read_file(part.path(), kind).map_err(DownloadError::Invalid)?;
    if data.sha256 != expected {
        return Err(DownloadError::Checksum {
            expected,
            found: data.sha256,
        });
    }
    part.file().sync_all().map_err(write_err)?;
    part.persist(dest).map_err(write_err)?;
    Ok(())
}
