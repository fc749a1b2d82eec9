//! The `fmnist` binary: every kind of bad input ends in a short message naming the file and
//! the defect, a non-zero exit and no panic; on the real data, the figures are written.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{gzip, tiny_images, tiny_labels, write_tiny_dataset, NAMES};
use fmnist::data::idx::{encode_images, encode_labels};

fn fmnist(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fmnist"))
        .args(args)
        .env_remove("FMNIST_DATA")
        .env_remove("FMNIST_MIRROR")
        .output()
        .unwrap()
}

fn path(dir: &Path, i: usize) -> std::path::PathBuf {
    dir.join(format!("{}.gz", NAMES[i]))
}

/// Runs `fmnist data` on a tiny dataset altered by `spoil` and checks the failure.
fn fails_with(spoil: impl FnOnce(&Path), verify: bool, expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dataset(dir.path());
    spoil(dir.path());
    let d = dir.path().to_str().unwrap();
    let mut args = vec!["data", "--data-dir", d, "--no-download"];
    if !verify {
        args.push("--no-verify");
    }
    let out = fmnist(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {expected:?}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.lines().count() <= 2, "one or two lines: {stderr}");
    for fragment in expected {
        assert!(stderr.contains(fragment), "{fragment:?} not in: {stderr}");
    }
}

/// Every numeric option that makes no sense is refused, naming the option, before any work:
/// a non-zero exit, one error line, no panic, and nothing written (no output folder made).
#[test]
fn settings_that_make_no_sense_are_refused_by_name_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dataset(dir.path()); // 20 training images, 10 test images
    let data = dir.path().to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let results = out.path().join("results");
    let figures = out.path().join("figures");
    let (r, f) = (results.to_str().unwrap(), figures.to_str().unwrap());
    let rows =
        |train: &'static str, test: &'static str| ["--train-rows", train, "--test-rows", test];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["table1", "--per-class", "2", "--test-rows", "0"],
            "invalid --test-rows: must be between 1 and the 10 test images, got 0",
        ),
        (
            vec!["table1", "--per-class", "0"],
            "invalid --per-class: must be between 1 and the 2 images per class, got 0",
        ),
        (
            vec![
                "table1",
                "--per-class",
                "2",
                "--test-rows",
                "10",
                "--trees",
                "0",
            ],
            "invalid --trees: must be at least 1, got 0",
        ),
        // Not an option: the section's grid of k cannot fit folds this small. This one, kNN
        // with no rows and pca-models with one fold were panics once.
        (
            vec!["table1", "--per-class", "2", "--test-rows", "10"],
            "invalid setting ks: every value must be between 1 and the 18 rows a fold trains \
             on, got 19",
        ),
        (
            [&["knn"][..], &rows("0", "10")].concat(),
            "invalid --train-rows: must be between 5 and the 20 training images, got 0",
        ),
        (
            vec!["knn", "--train-rows", "100000"],
            "invalid --train-rows: must be between 5 and the 20 training images, got 100000",
        ),
        (
            [&["knn"][..], &rows("20", "0")].concat(),
            "invalid --test-rows: must be between 1 and the 10 test images, got 0",
        ),
        (
            vec!["pca-models", "--folds", "1"],
            "invalid --folds: must be at least 2, got 1",
        ),
        (
            [
                &["pca-models", "--boost-rounds", "0"][..],
                &rows("20", "10"),
            ]
            .concat(),
            "invalid --boost-rounds: every value must be at least 1, got 0",
        ),
        (
            [
                &["pca-models", "--forest-trees", "0"][..],
                &rows("20", "10"),
            ]
            .concat(),
            "invalid --forest-trees: must be at least 1, got 0",
        ),
        (
            [&["pca-models"][..], &rows("20", "0")].concat(),
            "invalid --test-rows: must be between 1 and the 10 test images, got 0",
        ),
        (
            [&["cnn", "--epochs", "0"][..], &rows("20", "10")].concat(),
            "invalid --epochs: must be at least 1, got 0",
        ),
        (
            [&["cnn"][..], &rows("0", "10")].concat(),
            "invalid --train-rows: must be between 1 and the 20 training images, got 0",
        ),
        (
            [&["cnn"][..], &rows("20", "0")].concat(),
            "invalid --test-rows: must be between 1 and the 10 test images, got 0",
        ),
        (
            vec!["figures", "--only", "1", "--exemplars", "0"],
            "invalid --exemplars: must be at least 1, got 0",
        ),
        (
            vec!["figures", "--only", "3", "--sample-per-class", "0"],
            "invalid --sample-per-class: must be at least 1, got 0",
        ),
        (
            vec!["figures", "--only", "8", "--components", "785"],
            "invalid --components: must be between 1 and the 784 components, got 785",
        ),
        (
            vec!["features", "--per-class", "0"],
            "invalid --per-class: must be between 1 and the 2 images per class, got 0",
        ),
        (
            vec!["linfa", "--per-class", "0"],
            "invalid --per-class: must be at least 2, got 0",
        ),
        (
            vec!["linfa", "--per-class", "2", "--test-rows", "0"],
            "invalid --test-rows: must be between 1 and the 10 test images, got 0",
        ),
        (
            vec![
                "linfa",
                "--per-class",
                "2",
                "--test-rows",
                "10",
                "--pca-rows",
                "0",
            ],
            "invalid --pca-rows: must be between 2 and the 20 training images, got 0",
        ),
        (
            [&["leaderboard", "--validation-rows", "0"][..], &rows("20", "10")].concat(),
            "invalid --validation-rows: must be at least 1 and fewer than the 20 training images, got 0",
        ),
        (
            [
                &["leaderboard", "--validation-rows", "5"][..],
                &["--selection-rows", "16"],
                &rows("20", "10"),
            ]
            .concat(),
            "invalid --selection-rows: must be between 15 and the 15 training images not held out, got 16",
        ),
        (
            [
                &["leaderboard", "--validation-rows", "5"][..],
                &["--selection-rows", "15", "--components", "16"],
                &rows("20", "10"),
            ]
            .concat(),
            "invalid --components: must be between 1 and 15 (the 2404 image features, and no more than the selection rows), got 16",
        ),
        (
            [&["leaderboard"][..], &rows("8", "10")].concat(),
            "invalid --train-rows: must be between 17 and the 20 training images, got 8",
        ),
        // Refused by the parser: a count of repeats and figure numbers.
        (
            vec!["bench", "--repeat", "0"],
            "invalid value '0' for '--repeat <REPEAT>': 0 is not in 1..=4294967295",
        ),
        (
            vec!["figures", "--only", "19"],
            "invalid value '19' for '--only <ONLY>': 19 is not in 1..=18",
        ),
    ];
    for (command, expected) in cases {
        let mut args = command.clone();
        args.extend(["--data-dir", data, "--no-verify", "--no-download"]);
        match command[0] {
            "figures" => args.extend(["--out", f]),
            "features" | "linfa" | "bench" => args.extend(["--out", r]),
            _ => args.extend(["--out", r, "--figures", f]),
        }
        let run = fmnist(&args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{command:?} should fail");
        assert!(
            !stderr.contains("panicked"),
            "{command:?} panicked: {stderr}"
        );
        let error = stderr.lines().find(|l| l.starts_with("error: "));
        assert_eq!(
            error,
            Some(format!("error: {expected}").as_str()),
            "{command:?}: {stderr}"
        );
        assert!(
            !results.exists() && !figures.exists(),
            "{command:?} wrote something before refusing"
        );
    }
}

#[test]
fn a_valid_tiny_dataset_loads_unverified() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dataset(dir.path());
    let out = fmnist(&[
        "data",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--no-verify",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("NOT verified"), "{stdout}");
    assert!(stdout.contains("Ankle boot"), "{stdout}");
}

#[test]
fn truncated_gzip() {
    fails_with(
        |d| {
            let gz = std::fs::read(path(d, 0)).unwrap();
            std::fs::write(path(d, 0), &gz[..gz.len() / 2]).unwrap();
        },
        false,
        &["train-images-idx3-ubyte.gz", "truncated gzip"],
    );
}

#[test]
fn corrupt_gzip_stream() {
    fails_with(
        |d| {
            let mut gz = std::fs::read(path(d, 0)).unwrap();
            let mid = gz.len() / 2;
            gz[mid..mid + 16].iter_mut().for_each(|b| *b ^= 0xa5);
            std::fs::write(path(d, 0), gz).unwrap();
        },
        false,
        &["train-images-idx3-ubyte.gz", "corrupt gzip"],
    );
}

#[test]
fn neither_gzip_nor_idx() {
    fails_with(
        |d| std::fs::write(path(d, 1), "<html>404</html>").unwrap(),
        false,
        &["train-labels-idx1-ubyte.gz", "not a gzip or IDX file"],
    );
}

#[test]
fn bad_magic_in_a_raw_file() {
    fails_with(
        |d| {
            let mut raw = encode_labels(&tiny_labels(20));
            raw[3] = 0x07;
            std::fs::write(path(d, 1), raw).unwrap();
        },
        false,
        &["train-labels-idx1-ubyte.gz", "magic number 2055"],
    );
}

#[test]
fn images_and_labels_swapped() {
    fails_with(
        |d| {
            let images = std::fs::read(path(d, 2)).unwrap();
            let labels = std::fs::read(path(d, 3)).unwrap();
            std::fs::write(path(d, 2), labels).unwrap();
            std::fs::write(path(d, 3), images).unwrap();
        },
        false,
        &["t10k-", "swapped"],
    );
}

#[test]
fn images_not_28_by_28() {
    fails_with(
        |d| {
            let mut raw = encode_images(&tiny_images(20));
            raw[11] = 32;
            raw[15] = 32;
            std::fs::write(path(d, 0), gzip(&raw)).unwrap();
        },
        false,
        &["train-images-idx3-ubyte.gz", "32×32", "28×28"],
    );
}

#[test]
fn declared_count_larger_than_the_bytes_present() {
    fails_with(
        |d| {
            let mut raw = encode_images(&tiny_images(20));
            raw[7] = 25;
            std::fs::write(path(d, 0), gzip(&raw)).unwrap();
        },
        false,
        &[
            "train-images-idx3-ubyte.gz",
            "declares 25 items",
            "only 15680 bytes",
        ],
    );
}

#[test]
fn declared_count_too_large_to_allocate() {
    fails_with(
        |d| {
            let mut raw = encode_images(&tiny_images(20));
            raw[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
            std::fs::write(path(d, 0), gzip(&raw)).unwrap();
        },
        false,
        &["train-images-idx3-ubyte.gz", "4294967295", "limit"],
    );
}

#[test]
fn trailing_bytes() {
    fails_with(
        |d| {
            let mut raw = encode_labels(&tiny_labels(20));
            raw.extend_from_slice(b"extra");
            std::fs::write(path(d, 1), gzip(&raw)).unwrap();
        },
        false,
        &["train-labels-idx1-ubyte.gz", "5 unexpected bytes"],
    );
}

#[test]
fn label_above_nine() {
    fails_with(
        |d| {
            let mut labels = tiny_labels(10);
            labels[4] = 12;
            std::fs::write(path(d, 3), gzip(&encode_labels(&labels))).unwrap();
        },
        false,
        &["t10k-labels-idx1-ubyte.gz", "label 12 at index 4"],
    );
}

#[test]
fn image_and_label_counts_differ() {
    fails_with(
        |d| std::fs::write(path(d, 1), gzip(&encode_labels(&tiny_labels(19)))).unwrap(),
        false,
        &[
            "train-images-idx3-ubyte.gz holds 20 images",
            "train-labels-idx1-ubyte.gz holds 19 labels",
        ],
    );
}

#[test]
fn a_missing_file() {
    fails_with(
        |d| std::fs::remove_file(path(d, 3)).unwrap(),
        false,
        &["missing t10k-labels-idx1-ubyte"],
    );
}

#[test]
fn an_empty_directory() {
    fails_with(
        |d| {
            NAMES
                .iter()
                .enumerate()
                .for_each(|(i, _)| std::fs::remove_file(path(d, i)).unwrap())
        },
        false,
        &[
            "none of the Fashion-MNIST files are here",
            "train-images-idx3-ubyte",
        ],
    );
}

#[test]
fn a_directory_that_does_not_exist() {
    let out = fmnist(&["data", "--data-dir", "/nonexistent/fmnist", "--no-download"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("/nonexistent/fmnist: no such directory"),
        "{stderr}"
    );
}

#[test]
fn a_checksum_mismatch_names_both_digests() {
    let expected = "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888";
    let found = fmnist::data::Sha256Digest::of(&encode_images(&tiny_images(20))).to_string();
    fails_with(
        |_| {},
        true,
        &[
            "train-images-idx3-ubyte.gz",
            "checksum mismatch",
            expected,
            &found,
            "--no-verify",
        ],
    );
}

#[test]
fn help_is_available_everywhere() {
    for args in [
        &["--help"][..],
        &["data", "--help"],
        &["figures", "--help"],
        &["table1", "--help"],
        &["knn", "--help"],
        &["bench", "--help"],
        &["cnn", "--help"],
        &["reproduce", "--help"],
    ] {
        let out = fmnist(args);
        assert!(out.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
    }
}

#[test]
fn unknown_figures_are_refused_by_the_parser() {
    let out = fmnist(&["figures", "--only", "99"]);
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn real_data_is_found_verified_and_described() {
    let Some(dir) = common::real_data_dir() else {
        return;
    };
    let out = fmnist(&["data", "--data-dir", dir.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("verified: the decompressed content"),
        "{stdout}"
    );
    let total: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("all "))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(total, ["all", "60000", "10000"], "{stdout}");
}

#[test]
fn figures_1_to_3_are_written_from_the_real_data() {
    let Some(dir) = common::real_data_dir() else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let out = fmnist(&[
        "figures",
        "--data-dir",
        dir.to_str().unwrap(),
        "--only",
        "1,2,3",
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The figures, the run's manifest (a figures-only run keeps it beside them) and the lock.
    assert_eq!(
        common::entries(out_dir.path()),
        [
            ".fmnist.lock",
            "fig01_exemplars.png",
            "fig01_exemplars.svg",
            "fig02_pixel_mean_sd.png",
            "fig02_pixel_mean_sd.svg",
            "fig03_class_mean_intensity.png",
            "fig03_class_mean_intensity.svg",
            "fig03_class_nonwhite_counts.png",
            "fig03_class_nonwhite_counts.svg",
            "manifest.json",
        ]
    );
}

#[test]
fn timing_columns_are_blanked_and_quoted_commas_kept() {
    let csv = "method,setting,train_seconds,seed\nSVM,\"C = 5, γ\",210.63,42\n";
    assert_eq!(
        common::without_timings(csv),
        "method,setting,train_seconds,seed\nSVM,\"C = 5, γ\",-,42\n"
    );
    let untimed = "k,accuracy\n7,0.8040\n";
    assert_eq!(common::without_timings(untimed), untimed);
}

/// Runs `fmnist SUBCOMMAND ARGS` on the real data twice, into two fresh directories, asserts
/// that each of `results` (files under `results/`) has the same bytes both times, timing
/// columns aside ([`common::without_timings`]), and returns the first output directory with
/// those files' text.
fn twice_identical(
    args: &[&str],
    data: &Path,
    results: &[&str],
) -> (tempfile::TempDir, Vec<String>) {
    let run = |out: &Path| {
        let (res, fig) = (out.join("results"), out.join("figures"));
        let mut all = args.to_vec();
        all.extend(["--data-dir", data.to_str().unwrap(), "--format", "png"]);
        all.extend([
            "--out",
            res.to_str().unwrap(),
            "--figures",
            fig.to_str().unwrap(),
        ]);
        let o = fmnist(&all);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        results
            .iter()
            .map(|f| common::without_timings(&std::fs::read_to_string(res.join(f)).unwrap()))
            .collect::<Vec<_>>()
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = run(a.path());
    assert_eq!(first, run(b.path()), "same seed, same bytes");
    (a, first)
}

#[test]
fn the_knn_study_writes_identical_results_for_the_same_seed() {
    let Some(dir) = common::real_data_dir() else {
        return;
    };
    let args = [
        "knn",
        "--train-rows",
        "1500",
        "--test-rows",
        "500",
        "--seed",
        "7",
    ];
    let (out, files) = twice_identical(&args, &dir, &["knn.csv", "knn_cv.csv"]);
    let csv = &files[0];
    assert!(csv.contains("raw pixels") && csv.contains("PCA scores") && csv.contains(",7\n"));
    assert!(out.path().join("figures/fig09_knn_k_raw.png").is_file());
    assert!(out.path().join("figures/fig10_knn_k_pca.png").is_file());
    assert!(out.path().join("results/knn.md").is_file());
}

#[test]
fn table1_on_a_small_run_writes_identical_tables_and_its_figures() {
    let Some(dir) = common::real_data_dir() else {
        return;
    };
    let args = [
        "table1",
        "--per-class",
        "60",
        "--test-rows",
        "300",
        "--trees",
        "20",
    ];
    let (out, files) = twice_identical(&args, &dir, &["table1.csv"]);
    assert_eq!(files[0].lines().count(), 7, "a header and six models");
    assert!(out
        .path()
        .join("figures/fig04_svm_accuracy_by_class.png")
        .is_file());
    for f in [
        "fig04_confusion_engineered_features.png",
        "fig15_misclassified_svm.png",
        "fig16_confusion_svm_shares.png",
    ] {
        assert!(out.path().join("figures").join(f).is_file(), "{f}");
    }
    assert!(out.path().join("results/table1_timings.csv").is_file());
    let by_class = std::fs::read_to_string(out.path().join("results/table1_svm_by_class.csv"));
    let by_class = by_class.unwrap();
    assert!(by_class.starts_with("class,precision,recall,f1,support\nT-shirt/top,"));
    assert_eq!(
        by_class.lines().count(),
        12,
        "a header, ten classes, the macro average"
    );
}

#[test]
fn pca_models_on_a_small_run_writes_identical_tables_and_figures_11_and_12() {
    let Some(dir) = common::real_data_dir() else {
        return;
    };
    let args = [
        "pca-models",
        "--train-rows",
        "600",
        "--test-rows",
        "300",
        "--folds",
        "3",
        "--boost-rounds",
        "5,10",
        "--forest-trees",
        "20",
    ];
    let (out, files) = twice_identical(&args, &dir, &["pca_models.csv", "pca_models_mcnemar.csv"]);
    assert_eq!(files[0].lines().count(), 4, "a header and three models");
    assert_eq!(files[1].lines().count(), 4, "a header and three pairs");
    for f in ["fig11_pca_models.png", "fig12_confusion_pca_models.png"] {
        assert!(out.path().join("figures").join(f).is_file(), "{f}");
    }
    assert!(out.path().join("results/pca_models.md").is_file());
}

#[test]
fn the_cnn_saves_its_weights_reuses_them_and_retrains_when_settings_change() {
    let Some(dir) = common::real_data_dir() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let weights = work.path().join("w/cnn.safetensors");
    let run = |epochs: &str| {
        let o = fmnist(&[
            "cnn",
            "--data-dir",
            dir.to_str().unwrap(),
            "--epochs",
            epochs,
            "--train-rows",
            "640",
            "--test-rows",
            "300",
            "--weights",
            weights.to_str().unwrap(),
            "--out",
            work.path().join("results").to_str().unwrap(),
            "--figures",
            work.path().join("figures").to_str().unwrap(),
            "--format",
            "png",
        ]);
        let csv = std::fs::read_to_string(work.path().join("results/cnn.csv")).ok();
        (o, csv)
    };
    let (first, csv) = run("1");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(weights.is_file());
    let csv = csv.unwrap();
    assert!(csv.contains("CNN (32-64-64 filters, 1 epoch)") && csv.contains("Gradient boosting"));
    for f in ["fig13_cnn_learning_curve.png", "fig14_confusion_cnn.png"] {
        assert!(work.path().join("figures").join(f).is_file(), "{f}");
    }
    let (again, csv_again) = run("1");
    assert!(String::from_utf8_lossy(&again.stderr).contains("reused the CNN weights"));
    assert_eq!(
        csv_again.unwrap(),
        csv,
        "reused weights give the same results"
    );
    let (other, _) = run("2");
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(
        stderr.contains("retrained the CNN") && stderr.contains("1 epoch,"),
        "{stderr}"
    );

    std::fs::write(&weights, b"not safetensors").unwrap();
    let (bad, _) = run("2");
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("cnn.safetensors") && stderr.contains("not a saved CNN"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn reproduce_quick_writes_identical_results_every_figure_and_the_report() {
    let Some(dir) = common::real_data_dir() else {
        return;
    };
    let results = [
        "table1.csv",
        "knn.csv",
        "knn_cv.csv",
        "pca_models.csv",
        "pca_models_mcnemar.csv",
        "full.csv",
        "verdicts.csv",
        "cnn.csv",
        "cnn_history.csv",
        "cnn_mcnemar.csv",
        "leaderboard.csv",
    ];
    let args = ["reproduce", "--quick", "--protocol", "full"];
    let (out, files) = twice_identical(&args, &dir, &results);
    let verdicts = &files[6];
    for quantity in [
        "components for 95% of the variance",
        "variance explained by PC4",
        "SVM (radial): test accuracy",
        "PCA scores significantly better than raw pixels",
        "Random forest: kappa",
    ] {
        assert!(verdicts.contains(quantity), "{quantity}");
    }
    assert_eq!(files[5].lines().count(), 12, "a header and eleven models");
    let figures = out.path().join("figures");
    let pngs = std::fs::read_dir(&figures)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert_eq!(
        pngs, 20,
        "every figure of the study, Figure 3 twice, the section-2 heat maps, Figures 13-18"
    );
    assert!(
        files[7].contains("CNN (8-16-16 filters, 2 epochs)"),
        "{}",
        files[7]
    );
    assert_eq!(files[8].lines().count(), 3, "a header and two epochs");
    assert!(
        !out.path().join("results/cnn.safetensors").exists(),
        "quick runs do not replace saved weights"
    );
    let report = std::fs::read_to_string(out.path().join("results/REPORT.md")).unwrap();
    assert!(report.contains("## Every number the study reports"));
    assert!(report.contains("## Beyond the study"));
    assert!(report.contains("## Beyond the study: a convolutional network"));
    assert!(report.contains("## Beyond the study: each method at its best"));
    assert_eq!(
        files[10].lines().count(),
        8,
        "a header, six methods, the CNN"
    );
    assert!(
        report.contains("(../figures/fig12_confusion_pca_models.png)")
            || report.contains("fig12_confusion_pca_models.png")
    );
    assert!(out.path().join("results/reproduce_timings.csv").is_file());
    // The run is recorded, and the folder holds exactly what it wrote.
    assert!(report.contains("manifest.json") && report.contains("fmnist check"));
    let check = fmnist(&[
        "check",
        "--out",
        out.path().join("results").to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success() && said.contains("intact"), "{said}");
    assert!(
        said.contains("every recorded file comes from one run"),
        "{said}"
    );
}
