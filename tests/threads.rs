//! Same results whatever the thread count: every model and study, on small runs, writes the
//! same bytes with 1, 2 and 3 threads (`RAYON_NUM_THREADS`, which every parallel step honours:
//! rayon's pool, and faer's products, which run on it). Timings aside, and linfa-trees'
//! decision tree aside: it breaks ties in the order of a randomly seeded `HashMap`, so it
//! differs between runs on one thread too (docs/upstream.md).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Every file under `dir` that a run writes the same way each time: no timings (the
/// leaderboard's CSV without its seconds columns), no report (its run section and seconds), no
/// manifest or lock (run ids), no Figure 18 (its points stand at their seconds), and Figure
/// 13's SVG without the training time its subtitle gives (its PNG is left out for that reason).
fn deterministic_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for sub in ["results", "figures"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let varies = name.contains("timings")
                || name.starts_with('.')
                || name.ends_with(".md")
                || name == "manifest.json"
                || name == "fig13_cnn_learning_curve.png"
                || name.starts_with("fig18_");
            let mut bytes = std::fs::read(entry.path()).unwrap();
            if name == "fig13_cnn_learning_curve.svg" {
                bytes = without_training_time(&String::from_utf8(bytes).unwrap()).into_bytes();
            }
            // Any CSV's seconds columns vary (the leaderboard's, the CNN history's); CSVs
            // without one are kept whole.
            if name.ends_with(".csv") {
                bytes = common::without_timings(&String::from_utf8(bytes).unwrap()).into_bytes();
            }
            if !varies {
                out.insert(format!("{sub}/{name}"), bytes);
            }
        }
    }
    out
}

/// `svg` with the "trained in 12 s" of Figure 13's subtitle cut out.
fn without_training_time(svg: &str) -> String {
    let Some(start) = svg.find("trained in ") else {
        return svg.to_string();
    };
    let end = svg[start..].find('<').map_or(svg.len(), |e| start + e);
    format!("{}{}", &svg[..start], &svg[end..])
}

/// Runs `args` with `threads` threads into a fresh folder and returns what it wrote.
fn run(args: &[&str], data: &Path, threads: usize) -> BTreeMap<String, Vec<u8>> {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_fmnist"))
        .args(args)
        .args(["--data-dir", data.to_str().unwrap()])
        .args(["--out", out.path().join("results").to_str().unwrap()])
        .args(["--figures", out.path().join("figures").to_str().unwrap()])
        .env("RAYON_NUM_THREADS", threads.to_string())
        .env_remove("FMNIST_DATA")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files = deterministic_files(out.path());
    let report = std::fs::read_to_string(out.path().join("results/REPORT.md")).unwrap();
    assert!(
        report.contains(&format!("{threads} rayon threads")),
        "RAYON_NUM_THREADS={threads} is honoured"
    );
    files
}

#[test]
fn every_study_writes_the_same_bytes_on_one_two_and_three_threads() {
    let Some(data) = common::real_data_dir() else {
        return;
    };
    // Every section of the study and the full-data protocol, each model on a few hundred
    // images: SVM, logistic regression, forests, kNN, naive Bayes, PCA, boosting, the
    // averaged networks and the CNN.
    let args = ["reproduce", "--quick", "--protocol", "full"];
    let one = run(&args, &data, 1);
    assert!(one.len() > 40, "{} files", one.len());
    for threads in [2, 3] {
        let other = run(&args, &data, threads);
        assert_eq!(
            one.keys().collect::<Vec<_>>(),
            other.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &one {
            assert!(
                other[name] == *bytes,
                "{name} differs with {threads} threads"
            );
        }
    }
}

#[test]
fn linfa_beside_ours_gives_the_same_rows_on_one_and_three_threads() {
    let Some(data) = common::real_data_dir() else {
        return;
    };
    let rows = |threads: usize| -> Vec<String> {
        let out = tempfile::tempdir().unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_fmnist"))
            .args(["linfa", "--quick", "--data-dir", data.to_str().unwrap()])
            .args(["--out", out.path().to_str().unwrap()])
            .env("RAYON_NUM_THREADS", threads.to_string())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let csv = std::fs::read_to_string(out.path().join("linfa_baselines.csv")).unwrap();
        // Everything but the seconds columns, and not the decision tree's row.
        common::without_timings(&csv)
            .lines()
            .filter(|l| !l.starts_with("Decision tree"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(rows(1), rows(3));
}
