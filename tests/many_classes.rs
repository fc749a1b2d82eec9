//! Every classical model on a problem that is not Fashion-MNIST's: twelve classes, so labels
//! above 9, which each model must learn from the data rather than assume.

use fmnist::eval::{accuracy, ConfusionMatrix};
use fmnist::figures;
use fmnist::models::bayes::{BayesParams, Density};
use fmnist::models::boost::BoostParams;
use fmnist::models::forest::ForestParams;
use fmnist::models::knn::KnnParams;
use fmnist::models::logistic::LogisticParams;
use fmnist::models::nnet::NetParams;
use fmnist::models::svm::{Gamma, SvmParams};
use fmnist::models::{n_classes, Classifier, Fit, ModelError, Scaled};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CLASSES: usize = 12;
const FEATURES: usize = 6;

/// `per_class` rows of each of twelve classes: Gaussian clouds around well-separated centres.
fn dataset(per_class: usize, seed: u64) -> (Array2<f64>, Vec<u8>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centre = |c: usize, j: usize| ((c * 7 + j * 3) % CLASSES) as f64 * 1.5 + (c as f64) * 0.4;
    let n = per_class * CLASSES;
    let mut x = Array2::zeros((n, FEATURES));
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % CLASSES;
        y.push(c as u8);
        for j in 0..FEATURES {
            // A sum of uniforms: near-Gaussian noise of standard deviation 0.35.
            let noise: f64 = (0..4).map(|_| rng.gen::<f64>() - 0.5).sum::<f64>() * 0.6;
            x[[i, j]] = centre(c, j) + noise;
        }
    }
    (x, y)
}

/// Fits `params` on twelve classes, checks its predictions, and returns their confusion matrix.
fn check<P: Fit>(name: &str, params: P) -> ConfusionMatrix {
    let (x, y) = dataset(30, 1);
    let (xt, yt) = dataset(20, 2);
    let model = params
        .fit(x.view(), &y)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let predicted = model.predict(xt.view());
    assert!(
        predicted.iter().any(|&l| usize::from(l) > 9),
        "{name} never predicts a label above 9"
    );
    assert!(
        predicted.iter().all(|&l| usize::from(l) < CLASSES),
        "{name} predicts a class it never saw"
    );
    let acc = accuracy(&yt, &predicted);
    assert!(
        acc > 0.6,
        "{name}: accuracy {acc:.3}, chance is {:.3}",
        1.0 / CLASSES as f64
    );
    if let Some(p) = model.predict_proba(xt.view()) {
        assert_eq!(p.ncols(), CLASSES, "{name}: one probability per class");
    }
    let cm = ConfusionMatrix::with_classes(CLASSES, &yt, &predicted);
    assert_eq!(cm.n_classes(), CLASSES);
    assert!((cm.accuracy() - acc).abs() < 1e-12);
    assert!(cm.kappa() > 0.5, "{name}: kappa {}", cm.kappa());
    cm
}

/// The per-class figures and the confusion table of a twelve-class matrix: twelve rows each.
#[test]
fn per_class_figures_and_tables_take_any_class_count() {
    let cm = check("kNN", Scaled(KnnParams { k: 5 }));
    let table = fmnist::study::knn::confusion_table(&cm).to_csv();
    assert_eq!(table.lines().count(), 1 + CLASSES);
    assert!(table.starts_with("actual \\ predicted,class 0,"), "{table}");
    assert!(table.contains("\nclass 11,"), "{table}");
    let accuracy = figures::ClassAccuracy::new("twelve", "kNN", &cm);
    let heatmaps = figures::ConfusionHeatmaps::new("twelve", "kNN", vec![("kNN".into(), cm)]);
    let tall = |png: &[u8]| u32::from_be_bytes(png[20..24].try_into().unwrap());
    let (a, h) = (
        figures::to_png(&accuracy).unwrap(),
        figures::to_png(&heatmaps).unwrap(),
    );
    assert!(tall(&a) > 0 && tall(&h) > 0);
    let svg = figures::to_svg(&heatmaps).unwrap();
    assert!(svg.contains("class 11"), "the twelfth class is labelled");
}

#[test]
fn twelve_classes_data_sets_the_class_count() {
    let (_, y) = dataset(2, 0);
    assert_eq!(n_classes(&y), CLASSES);
}

#[test]
fn knn_learns_twelve_classes() {
    check("kNN", Scaled(KnnParams { k: 5 }));
}

#[test]
fn svm_learns_twelve_classes() {
    check(
        "SVM",
        SvmParams {
            c: 4.0,
            gamma: Gamma::Sigest { seed: 3 },
        },
    );
}

#[test]
fn forest_learns_twelve_classes() {
    check(
        "random forest",
        ForestParams {
            trees: 60,
            ..ForestParams::study(FEATURES, 3)
        },
    );
}

#[test]
fn boosting_learns_twelve_classes() {
    check(
        "gradient boosting",
        BoostParams {
            trees: 40,
            depth: 3,
            ..BoostParams::study(3)
        },
    );
}

#[test]
fn logistic_regression_learns_twelve_classes() {
    check("multinomial logistic regression", LogisticParams::new(0.01));
}

#[test]
fn naive_bayes_learns_twelve_classes() {
    check(
        "naive Bayes (Gaussian)",
        BayesParams {
            density: Density::Gaussian,
        },
    );
    check(
        "naive Bayes (kernel)",
        BayesParams {
            density: Density::Kernel,
        },
    );
}

#[test]
fn the_averaged_network_learns_twelve_classes() {
    check("averaged network", NetParams::new(16, 0.1, 3));
}

#[test]
fn one_class_is_not_a_classification_problem() {
    let (x, _) = dataset(3, 0);
    let y = vec![11u8; x.nrows()];
    let err = KnnParams { k: 1 }.fit(x.view(), &y).unwrap_err();
    assert!(matches!(err, ModelError::InvalidData(_)), "{err}");
    assert!(err.to_string().contains("two classes"), "{err}");
}
