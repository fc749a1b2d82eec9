//! The downloader against a loopback HTTP server: a good file is kept, anything else leaves
//! the destination directory exactly as it was.
#![cfg(feature = "download")]

mod common;

use std::collections::HashMap;

use common::{gzip, tiny_labels, Reply, Server};
use fmnist::data::download::{fetch, DownloadError};
use fmnist::data::idx::encode_labels;
use fmnist::data::{DataError, FashionMnist, IdxKind, LoadOptions, Origin, Sha256Digest};

/// A served label file and the digest of its decompressed content.
fn labels_file() -> (Vec<u8>, Sha256Digest) {
    let raw = encode_labels(&tiny_labels(5000));
    (gzip(&raw), Sha256Digest::of(&raw))
}

fn server(path: &str, reply: Reply) -> Server {
    Server::start(HashMap::from([(path.to_string(), reply)]))
}

#[test]
fn a_good_file_is_verified_and_kept() {
    let (gz, digest) = labels_file();
    let srv = server("/labels.gz", Reply::Body(gz.clone()));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("labels.gz");
    fetch(
        &format!("{}/labels.gz", srv.base),
        &dest,
        IdxKind::Labels,
        digest,
        false,
    )
    .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), gz);
    assert_eq!(
        common::entries(dir.path()),
        ["labels.gz"],
        "no temporary file remains"
    );
}

#[test]
fn wrong_content_is_rejected_and_nothing_is_left() {
    let (gz, _) = labels_file();
    let srv = server("/labels.gz", Reply::Body(gz));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("labels.gz");
    let other = Sha256Digest::of(b"the published content");
    let err = fetch(
        &format!("{}/labels.gz", srv.base),
        &dest,
        IdxKind::Labels,
        other,
        false,
    )
    .unwrap_err();
    assert!(
        matches!(&err, DataError::Download { source: DownloadError::Checksum { expected, .. }, .. } if *expected == other),
        "{err:?}"
    );
    assert!(
        common::entries(dir.path()).is_empty(),
        "{:?}",
        common::entries(dir.path())
    );
}

#[test]
fn a_file_of_the_wrong_kind_is_rejected() {
    let (gz, digest) = labels_file();
    let srv = server("/x.gz", Reply::Body(gz));
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(
        &format!("{}/x.gz", srv.base),
        &dir.path().join("x.gz"),
        IdxKind::Images,
        digest,
        false,
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            DataError::Download {
                source: DownloadError::Invalid(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(common::entries(dir.path()).is_empty());
}

#[test]
fn a_connection_dropped_mid_file_leaves_no_partial_file() {
    let (gz, digest) = labels_file();
    let sent = gz.len() / 3;
    let srv = server("/labels.gz", Reply::CutAfter { body: gz, sent });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("labels.gz");
    let err = fetch(
        &format!("{}/labels.gz", srv.base),
        &dest,
        IdxKind::Labels,
        digest,
        false,
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            DataError::Download {
                source: DownloadError::Transfer(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        common::entries(dir.path()).is_empty(),
        "{:?}",
        common::entries(dir.path())
    );
}

#[test]
fn a_missing_file_is_an_http_error_naming_the_url() {
    let srv = server("/elsewhere", Reply::Body(vec![]));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/labels.gz", srv.base);
    let err = fetch(
        &url,
        &dir.path().join("l.gz"),
        IdxKind::Labels,
        Sha256Digest([0; 32]),
        false,
    )
    .unwrap_err();
    assert!(err.to_string().contains(&url), "{err}");
    assert!(matches!(
        &err,
        DataError::Download {
            source: DownloadError::Http(_),
            ..
        }
    ));
    assert!(common::entries(dir.path()).is_empty());
}

#[test]
fn when_nothing_is_found_and_the_download_fails_the_error_lists_every_place() {
    let srv = server("/nothing-here", Reply::Body(vec![]));
    let dir = tempfile::tempdir().unwrap();
    let options = LoadOptions {
        search_path: vec![(dir.path().join("absent"), Origin::Project)],
        cache_dir: Some(dir.path().join("cache")),
        mirror: srv.base.clone(),
        progress: false,
        ..LoadOptions::default()
    };
    let err = FashionMnist::load_with(&options).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, DataError::NotFound { .. }));
    assert!(
        text.contains("absent") && text.contains("not present"),
        "{text}"
    );
    assert!(text.contains("the download failed"), "{text}");
    assert!(
        text.contains("apt-get install dataset-fashion-mnist"),
        "{text}"
    );
    assert!(
        common::entries(&dir.path().join("cache")).is_empty(),
        "a failed download leaves the cache empty"
    );
}

/// End to end: no local copy, so the real files are downloaded (from a loopback server that
/// serves the Debian package's files), verified, and loaded from the cache.
#[test]
fn the_real_dataset_downloads_into_the_cache_and_loads() {
    let Some(real) = common::real_data_dir() else {
        return;
    };
    let routes = common::NAMES
        .iter()
        .map(|n| {
            let bytes = std::fs::read(real.join(format!("{n}.gz"))).unwrap();
            (format!("/mirror/{n}.gz"), Reply::Body(bytes))
        })
        .collect();
    let srv = Server::start(routes);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let options = LoadOptions {
        search_path: vec![(cache.clone(), Origin::Cache)],
        cache_dir: Some(cache.clone()),
        mirror: format!("{}/mirror/", srv.base),
        progress: false,
        ..LoadOptions::default()
    };
    let data = FashionMnist::load_with(&options).unwrap();
    assert_eq!(data.source.origin, Origin::Downloaded);
    assert!(data.source.verified);
    assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
    assert_eq!(common::entries(&cache).len(), 4);
    // A second load finds the cached copy and does not download again.
    drop(srv);
    let again = FashionMnist::load_with(&options).unwrap();
    assert_eq!(again.source.origin, Origin::Cache);
}
