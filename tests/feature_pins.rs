//! The feature pins in `Cargo.toml`: every build of the library the notebooks ask for has the
//! same cargo features on every crate they share, so cargo builds those crates once, not once
//! per setup cell (with `polars` or linfa-trees in a notebook's `:dep` lines, the whole numeric
//! and plotting stack was built again).
//!
//! For each distinct set of `:dep` lines in `notebooks/NN_*.ipynb`, a scratch crate with those
//! dependencies (the library by its path here, and this repository's `Cargo.lock`) is resolved
//! with `cargo tree`; the features of each crate all of them share must agree. A dependency
//! update that breaks a pin fails here, naming the crate and the features on each side.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

mod common;

/// The `:dep` lines of each notebook's setup cell, distinct sets only, in notebook order. The
/// notebooks and their setup cells are chosen as `notebooks/run.py --warm-up` chooses them
/// (`NN_*.ipynb`, the first code cell with `:dep fmnist`), so this checks the builds that
/// `setup.sh` makes.
fn setup_deps() -> Vec<(String, Vec<String>)> {
    let mut setups: Vec<(String, Vec<String>)> = Vec::new();
    for (name, nb) in common::notebooks() {
        let deps = nb["cells"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|cell| cell["cell_type"] == "code")
            .map(|cell| common::joined(&cell["source"]))
            .find(|source| source.contains(":dep fmnist"))
            .unwrap_or_else(|| panic!("{name}: no setup cell with `:dep fmnist`"))
            .lines()
            .filter_map(|line| line.strip_prefix(":dep "))
            .map(str::to_owned)
            .collect::<Vec<_>>();
        if !setups.iter().any(|(_, d)| *d == deps) {
            setups.push((name, deps));
        }
    }
    setups
}

/// Each crate (name and version) in the normal dependency tree of a crate with dependencies
/// `deps`, with its features, as `cargo tree` resolves it for this machine.
fn features(root: &Path, deps: &[String]) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = root.display().to_string();
    let deps: String = deps
        .iter()
        .map(|dep| dep.replace("path = \"..\"", &format!("path = {path:?}")) + "\n")
        .collect();
    let manifest = "[package]\nname = \"notebook\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
                    [lib]\npath = \"lib.rs\"\n\n[dependencies]\n"
        .to_owned()
        + &deps;
    fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    fs::write(dir.path().join("lib.rs"), "").unwrap();
    fs::copy(root.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["tree", "--quiet", "--edges", "normal", "--prefix", "none"])
        .args(["--format", "{p}|{f}"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo tree failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            // A crate seen before ends in " (*)"; a path dependency names its folder:
            // "name v1.2.3 (/path)|feature,feature (*)" -> "name v1.2.3", "feature,feature"
            let line = line.trim_end().trim_end_matches("(*)");
            let (package, features) = line.split_once('|')?;
            let mut words = package.split_whitespace();
            let name = format!("{} {}", words.next()?, words.next()?);
            Some((name, features.trim().to_owned()))
        })
        .collect()
}

#[test]
fn every_notebook_build_has_the_same_features_on_the_crates_they_share() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let setups = setup_deps();
    assert!(
        setups.len() >= 2,
        "the notebooks ask for only {} build(s) of the library; nothing to compare",
        setups.len()
    );
    let trees: Vec<_> = setups
        .iter()
        .map(|(notebook, deps)| (notebook, features(root, deps)))
        .collect();
    let shared: BTreeSet<&String> = trees[0]
        .1
        .keys()
        .filter(|name| !name.starts_with("fmnist "))
        .filter(|name| trees.iter().all(|(_, tree)| tree.contains_key(*name)))
        .collect();
    assert!(
        shared.iter().any(|name| name.starts_with("ndarray ")),
        "{shared:?}"
    );
    let differing: Vec<String> = shared
        .iter()
        .filter(|name| {
            let first = &trees[0].1[**name];
            trees.iter().any(|(_, tree)| tree[**name] != *first)
        })
        .map(|name| {
            let each: Vec<String> = trees
                .iter()
                .map(|(notebook, tree)| format!("{notebook}: [{}]", tree[*name]))
                .collect();
            format!("{name}: {}", each.join(", "))
        })
        .collect();
    assert!(
        differing.is_empty(),
        "crates with different features in the notebooks' builds (each difference rebuilds \
         everything above that crate; pin the union in Cargo.toml):\n{}",
        differing.join("\n")
    );
}

/// Notebook 01 draws the data and fits a forest: it builds the library without the `linalg`
/// feature, so faer and safetensors (43 of the 197 crates) are not in the tree that a new
/// kernel's rust-analyzer reads before the first figure (2 s of about 20, README's FAQ). The
/// notebooks after it need them.
#[test]
fn the_first_notebook_builds_without_the_linear_algebra() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let setups = setup_deps();
    let linear_algebra = |tree: &BTreeMap<String, String>| -> Vec<String> {
        tree.keys()
            .filter(|name| name.starts_with("faer ") || name.starts_with("safetensors "))
            .cloned()
            .collect()
    };
    let (first, deps) = &setups[0];
    assert!(first.starts_with("01_"), "{first}");
    let built = linear_algebra(&features(root, deps));
    assert!(built.is_empty(), "{first} builds {built:?}");
    for (notebook, deps) in &setups[1..] {
        let built = linear_algebra(&features(root, deps));
        assert_eq!(
            built.len(),
            2,
            "{notebook} builds {built:?}, not faer and safetensors"
        );
    }
}
