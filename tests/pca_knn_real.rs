//! Section 3 of the study on the real data: the PCA facts it reports, and the kNN comparison
//! with the bars its issue sets. Needs the Debian data package (CI requires it).

mod common;

use fmnist::pca::Pca;
use fmnist::progress::NoProgress;
use fmnist::study::knn::{run, KnnStudyParams};

#[test]
fn pca_needs_187_components_and_pc1_to_pc4_explain_what_the_study_says() {
    let Some(data) = common::load_real() else {
        return;
    };
    let pca = Pca::fit(data.train.images()).unwrap();
    assert_eq!(pca.components_for(0.95), 187);
    let ratio = pca.explained_variance_ratio();
    for (k, study) in [0.290, 0.178, 0.060, 0.050].into_iter().enumerate() {
        assert!(
            (ratio[k] - study).abs() < 0.0015,
            "PC{}: {} vs {study}",
            k + 1,
            ratio[k]
        );
    }
    assert!(
        (ratio.sum() - 1.0).abs() < 1e-9,
        "ratios of the total variance"
    );

    // The study's orientation (its Figures 6 and 7): PC1 positive, drawn dark, over the tops of
    // garments; footwear at the lower left of PC1–PC2; trousers at the top.
    let pc1 = pca.component_image(0);
    let top = pc1.slice(ndarray::s![2..10, 8..20]).mean().unwrap();
    assert!(top > 0.0, "PC1 over the tops: {top}");
    let scores = pca.transform(data.train.images(), 2).unwrap();
    let mean = |class: u8, pc: usize| {
        let rows: Vec<f64> = (0..scores.nrows())
            .filter(|&i| data.train.labels()[i] == class)
            .map(|i| scores[[i, pc]])
            .collect();
        rows.iter().sum::<f64>() / rows.len() as f64
    };
    for footwear in [5, 7, 9] {
        assert!(
            mean(footwear, 0) < 0.0 && mean(footwear, 1) < 0.0,
            "class {footwear}"
        );
    }
    assert!(mean(1, 1) > 1000.0, "trousers at the top: {}", mean(1, 1));
    assert!(mean(0, 0) > 0.0, "T-shirts to the right");
}

/// The study's full protocol (10,000 training and test rows, 5-fold CV × 3, k = 1..11): about
/// ten seconds in a release build on two cores.
#[test]
fn knn_on_pca_scores_beats_raw_pixels_and_both_clear_their_bars() {
    let Some(data) = common::load_real() else {
        return;
    };
    let pca = Pca::fit(data.train.images()).unwrap();
    let study = run(&data, &pca, &KnnStudyParams::default(), &NoProgress).unwrap();
    let (raw, pcs) = (
        study.raw.confusion.accuracy(),
        study.pca.confusion.accuracy(),
    );
    assert!(raw >= 0.810, "raw pixels: {raw}");
    assert!(pcs >= 0.820, "PCA scores: {pcs}");
    assert_eq!(study.pca.columns, 187);
    assert!(study.mcnemar.p_value < 0.05, "{:?}", study.mcnemar);
    assert_eq!(
        (study.raw.k(), study.pca.k()),
        (5, 7),
        "the study's choices of k"
    );
}
