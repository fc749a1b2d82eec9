//! The whole study in one report: every number the study publishes beside ours, with a
//! verdict, the figures, the full-data protocol, and how the run was made (`results/REPORT.md`).
//!
//! A verdict is "reproduced" when the study's number lies inside our exact 95% interval (for
//! accuracies) or agrees to the study's printed precision (PCA); otherwise "better" or "worse",
//! and the reason column says why where we know it.

use std::fmt::Write as _;

use crate::pca::Pca;
use crate::report::{pct, Table};
use crate::study::cnn::CnnStudy;
use crate::study::full::FullData;
use crate::study::knn::{self, KnnStudy};
use crate::study::leaderboard::Leaderboard;
use crate::study::pca_models::{self, PcaModels};
use crate::study::table1::{self, Table1};

/// One timed step of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What it did.
    pub name: String,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Where and how a run was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// The seed of every random step.
    pub seed: u64,
    /// `paper` or `full`.
    pub protocol: String,
    /// The CPU and its logical cores ([`machine`]).
    pub machine: String,
    /// Threads rayon used.
    pub threads: usize,
    /// Where the data came from.
    pub data: String,
    /// Peak resident memory, MiB, where the platform reports it.
    pub peak_mib: Option<f64>,
}

/// Everything one `fmnist reproduce` computed.
#[derive(Debug, Clone, Copy)]
pub struct Reproduction<'a> {
    /// Section 3.1.
    pub pca: &'a Pca,
    /// Section 2.
    pub table1: &'a Table1,
    /// Section 3.2.
    pub knn: &'a KnnStudy,
    /// Section 3.3.
    pub pca_models: &'a PcaModels,
    /// The full-data protocol, when it ran.
    pub full: Option<&'a FullData>,
    /// The leaderboard, when the full-data protocol ran.
    pub leaderboard: Option<&'a Leaderboard>,
    /// The convolutional network, when it ran.
    pub cnn: Option<&'a CnnStudy>,
}

/// The machine, as a reader of a time needs it: the CPU's model name (Linux
/// `/proc/cpuinfo`; "an unnamed CPU" elsewhere) and the logical cores.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "an unnamed CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} logical cores")
}

/// The process's peak resident set size (Linux `VmHWM`), in MiB; `None` where the platform
/// does not report it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

impl Reproduction<'_> {
    /// Every number the study reports: section, quantity, the study's value, ours, our 95%
    /// interval, verdict, reason. No timings, so the same seed gives the same file.
    pub fn verdicts(&self) -> Table {
        let mut t = Table::new([
            "section", "quantity", "study", "ours", "ci95", "verdict", "reason",
        ]);
        // Section 3.1: PCA.
        let ratios = self.pca.explained_variance_ratio();
        let k95 = self.pca.components_for(0.95);
        t.push([
            "3.1".into(),
            "components for 95% of the variance".into(),
            "187".into(),
            k95.to_string(),
            String::new(),
            if k95 == 187 { "reproduced" } else { "differs" }.into(),
            String::new(),
        ]);
        for (i, study) in [0.290, 0.178, 0.0602, 0.0496].into_iter().enumerate() {
            let ours = ratios[i];
            // The study prints three significant digits.
            let digits = if study < 0.1 { 4 } else { 3 };
            let same = format!("{ours:.digits$}") == format!("{study:.digits$}");
            t.push([
                "3.1".into(),
                format!("variance explained by PC{}", i + 1),
                pct(study),
                pct(ours),
                String::new(),
                if same { "reproduced" } else { "differs" }.into(),
                String::new(),
            ]);
        }
        // Section 2: Table 1.
        for m in &self.table1.models {
            let Some((_, _, study_cv, study_test)) = m.paper_row.map(|r| table1::PAPER[r]) else {
                continue;
            };
            let ours = m.confusion.accuracy();
            let ci = m.confusion.accuracy_ci95();
            let reason = match m.name {
                "Random forest" => {
                    "mtry fixed at 9 as the study; its test accuracy lies just \
                                    above our interval"
                }
                "Naive Bayes (Gaussian)" => {
                    "scikit-learn's naive Bayes; the study's row is the \
                                             kernel variant"
                }
                "Naive Bayes (kernel)" => {
                    "R naivebayes' kernel densities; bandwidths differ in \
                                           detail"
                }
                _ => "",
            };
            t.push([
                "2".into(),
                format!("{}: CV accuracy", m.name),
                pct(study_cv),
                pct(m.cv_accuracy()),
                String::new(),
                String::new(),
                "cross-validated; no interval".into(),
            ]);
            t.push([
                "2".into(),
                format!("{}: test accuracy", m.name),
                pct(study_test),
                pct(ours),
                format!("{}–{}", pct(ci.0), pct(ci.1)),
                super::verdict(study_test, ours, ci).into(),
                reason.into(),
            ]);
        }
        // Section 3.2: kNN.
        for (arm, (study, _, _), k) in [
            (&self.knn.raw, knn::paper::RAW_ACCURACY, knn::paper::RAW_K),
            (&self.knn.pca, knn::paper::PCA_ACCURACY, knn::paper::PCA_K),
        ] {
            let ours = arm.confusion.accuracy();
            let ci = arm.confusion.accuracy_ci95();
            t.push([
                "3.2".into(),
                format!("kNN on {}: chosen k", arm.name),
                k.to_string(),
                arm.k().to_string(),
                String::new(),
                if arm.k() == k {
                    "reproduced"
                } else {
                    "differs"
                }
                .into(),
                String::new(),
            ]);
            t.push([
                "3.2".into(),
                format!("kNN on {}: test accuracy", arm.name),
                pct(study),
                pct(ours),
                format!("{}–{}", pct(ci.0), pct(ci.1)),
                super::verdict(study, ours, ci).into(),
                String::new(),
            ]);
        }
        let m = &self.knn.mcnemar;
        t.push([
            "3.2".into(),
            "PCA scores significantly better than raw pixels".into(),
            "yes".into(),
            format!("p = {:.1e} (McNemar)", m.p_value),
            String::new(),
            if m.p_value < 0.05 && m.only_second > m.only_first {
                "reproduced"
            } else {
                "not reproduced"
            }
            .into(),
            format!(
                "{} test images right only with PCA scores, {} only with raw pixels",
                m.only_second, m.only_first
            ),
        ]);
        // Section 3.3: Figure 11.
        for m in &self.pca_models.models {
            let Some((name, study_acc, study_kappa)) = m.paper_row.map(|r| pca_models::PAPER[r])
            else {
                continue;
            };
            let ours = m.confusion.accuracy();
            let ci = m.confusion.accuracy_ci95();
            let verdict = super::verdict(study_acc, ours, ci);
            let reason = if verdict == "better" {
                "the study's code used a much smaller PCA than the 187 components of its \
                 section 3.1"
            } else {
                ""
            };
            t.push([
                "3.3".into(),
                format!("{name}: test accuracy"),
                format!("{study_acc:.3}"),
                format!("{ours:.3}"),
                format!("{:.3}–{:.3}", ci.0, ci.1),
                verdict.into(),
                reason.into(),
            ]);
            let kappa = m.confusion.kappa();
            t.push([
                "3.3".into(),
                format!("{name}: kappa"),
                format!("{study_kappa:.3}"),
                format!("{kappa:.3}"),
                String::new(),
                if (kappa - study_kappa).abs() < 0.005 {
                    "reproduced"
                } else if kappa > study_kappa {
                    "better"
                } else {
                    "worse"
                }
                .into(),
                reason.into(),
            ]);
        }
        t
    }

    /// `results/REPORT.md`: verdicts, the figures (linked from `figures_dir`, relative to the
    /// report), the full-data protocol, the run's environment and wall time per step.
    pub fn markdown(
        &self,
        env: &Environment,
        steps: &[Step],
        figures: &[(String, String)],
        run_note: &str,
    ) -> String {
        let mut md = String::new();
        let total: f64 = steps.iter().map(|s| s.seconds).sum();
        let _ = writeln!(
            md,
            "# Reproduction report\n\n\"Machine Learning Methods for Modeling and Classification of \
             Fashion MNIST\" (Blumenstiel, Cooper, Welk and Yi, 2021), regenerated by `fmnist \
             reproduce --protocol {}` in {:.0} s (seed {}).\n",
            env.protocol, total, env.seed
        );
        let _ = writeln!(md, "## Every number the study reports\n");
        let _ = writeln!(
            md,
            "Verdict: *reproduced* when the study's value lies inside our exact (Clopper–Pearson) \
             95% interval, or agrees to its printed precision; otherwise *better* or *worse*.\n"
        );
        md.push_str(&self.verdicts().to_markdown());
        let _ = writeln!(
            md,
            "\nSection 3.2's significance claim, in full: {}.\n",
            self.knn.verdict()
        );
        let _ = writeln!(
            md,
            "Section 3.3's models on the same test images (McNemar's exact test):\n"
        );
        md.push_str(&self.pca_models.mcnemar_table().to_markdown());
        if let Some(full) = self.full {
            let _ = writeln!(
                md,
                "\n## Beyond the study: every model on {} training images\n\nEach model keeps \
                 the setting cross-validation chose on the study's protocol (the grids shrink to \
                 that point); features, filters and scaling are refitted on every training \
                 image; the test set is the same {} images.\n",
                crate::report::thousands(full.train_rows),
                crate::report::thousands(full.test_rows)
            );
            md.push_str(&full.markdown());
        }
        if let Some(board) = self.leaderboard {
            // Its own report, one heading level down.
            let section = board
                .markdown()
                .replacen("# ", "## ", 1)
                .replace("\n## ", "\n### ");
            let _ = writeln!(md, "\n{section}");
        }
        if let Some(cnn) = self.cnn {
            let _ = writeln!(
                md,
                "\n## Beyond the study: a convolutional network\n\n{}",
                cnn.summary_markdown()
            );
        }
        let _ = writeln!(md, "\n## Figures\n");
        for (caption, path) in figures {
            let _ = writeln!(md, "**{caption}**\n\n![{caption}]({path})\n");
        }
        let _ = writeln!(md, "## The run\n");
        let mut t = Table::new(["step", "seconds"]);
        for s in steps {
            t.push([s.name.clone(), format!("{:.1}", s.seconds)]);
        }
        t.push(["total".into(), format!("{total:.1}")]);
        md.push_str(&t.to_markdown());
        let _ = writeln!(
            md,
            "\nSeed {}; {}, {} rayon threads; data: {}; peak resident memory: {}.\n",
            env.seed,
            env.machine,
            env.threads,
            env.data,
            env.peak_mib
                .map_or("not reported on this platform".into(), |m| format!(
                    "{m:.0} MiB"
                ))
        );
        let versions: Vec<String> = crate::outputs::crate_versions()
            .into_iter()
            .map(|(n, v)| format!("{n} {v}"))
            .collect();
        let _ = writeln!(md, "Crates: {}.\n", versions.join(", "));
        let _ = writeln!(md, "{run_note}");
        md
    }
}
