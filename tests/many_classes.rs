//! Every classical model on a problem that is not Fashion-MNIST's: twelve classes, so labels
//! above 9, which each model must learn from the data rather than assume. Each is fitted twice,
//! through linfa's `Fit` on a `Dataset` and through the fast path the study uses, and the two
//! must predict the same labels. The CNN, whose inputs are 28 × 28 images, learns twelve
//! classes of images through linfa's `Fit` too.

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
use linfa::prelude::{Dataset, ParamGuard, Predict};
use ndarray::{Array1, Array2};
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

/// Fits `params` through linfa's `Fit` on a twelve-class `Dataset`, predicts through linfa's
/// `Predict`, and checks that those labels are the fast path's ([`check_fast`]).
fn check<P>(name: &str, params: P) -> ConfusionMatrix
where
    P: Fit + linfa::traits::Fit<Array2<f64>, Array1<usize>, ModelError>,
    <P as linfa::traits::Fit<Array2<f64>, Array1<usize>, ModelError>>::Object:
        for<'a> Predict<&'a Array2<f64>, Array1<usize>>,
{
    let (x, y) = dataset(30, 1);
    let (xt, _) = dataset(20, 2);
    let train = Dataset::new(x, y.iter().map(|&l| usize::from(l)).collect::<Array1<_>>());
    let model = linfa::traits::Fit::fit(&params, &train)
        .unwrap_or_else(|e| panic!("{name} through linfa: {e}"));
    let through_linfa: Array1<usize> = model.predict(&xt);
    let (cm, fast) = check_fast(name, params);
    let fast: Array1<usize> = fast.iter().map(|&l| usize::from(l)).collect();
    assert_eq!(
        through_linfa, fast,
        "{name}: linfa's face and the fast path differ"
    );
    cm
}

/// Fits `params` on twelve classes through the fast path, checks its predictions, and returns
/// their confusion matrix and the predictions.
fn check_fast<P: Fit>(name: &str, params: P) -> (ConfusionMatrix, Vec<u8>) {
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
    (cm, predicted)
}

/// The per-class figures and the confusion table of a twelve-class matrix: twelve rows each.
#[test]
fn per_class_figures_and_tables_take_any_class_count() {
    let (cm, _) = check_fast("kNN", Scaled(KnnParams { k: 5 }));
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
    check("kNN", KnnParams { k: 5 });
    check_fast("kNN, centred and scaled", Scaled(KnnParams { k: 5 }));
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

#[test]
fn every_default_fits_twelve_classes_through_linfa() {
    check("kNN (default)", KnnParams::default());
    check("SVM (default)", SvmParams::default());
    check("random forest (default)", ForestParams::default());
    check("naive Bayes (default)", BayesParams::default());
    check("logistic regression (default)", LogisticParams::default());
}

#[test]
fn checking_names_the_parameter_and_linfa_fit_checks_first() {
    let err = KnnParams { k: 0 }.check().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid parameter k: must be at least 1, got 0"
    );
    let valid = SvmParams::default().check().expect("the default is valid");
    assert_eq!(
        valid.c, 1.0,
        "the checked parameters read as the parameters"
    );
    let (x, y) = dataset(2, 0);
    let train = Dataset::new(x, y.iter().map(|&l| usize::from(l)).collect::<Array1<_>>());
    let bad = BoostParams {
        learning_rate: -1.0,
        ..BoostParams::default()
    };
    match linfa::traits::Fit::fit(&bad, &train) {
        Err(ModelError::InvalidParams { param, .. }) => assert_eq!(param, "learning_rate"),
        other => panic!("expected InvalidParams, got {other:?}"),
    }
}

#[test]
fn a_label_past_255_is_an_error_naming_its_row() {
    let (x, _) = dataset(1, 0);
    let mut y: Array1<usize> = (0..x.nrows()).collect();
    y[3] = 300;
    let err = linfa::traits::Fit::fit(&KnnParams { k: 1 }, &Dataset::new(x, y)).unwrap_err();
    assert!(matches!(err, ModelError::InvalidData(_)), "{err}");
    assert!(err.to_string().contains("label 300 of row 3"), "{err}");
}

/// Images of twelve classes: the class is where a bright 6 × 6 square sits (a 3 × 4 grid of
/// places), on faint noise.
fn squares(per_class: usize, seed: u64) -> (Array2<f64>, Vec<u8>) {
    const SIDE: usize = 28;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = per_class * CLASSES;
    let mut x = Array2::zeros((n, SIDE * SIDE));
    let mut y = Vec::with_capacity(n);
    for (i, mut row) in x.rows_mut().into_iter().enumerate() {
        let c = i % CLASSES;
        y.push(c as u8);
        row.iter_mut()
            .for_each(|p| *p = f64::from(rng.gen_range(0u8..40)));
        let (top, left) = (2 + 8 * (c / 4), 2 + 6 * (c % 4));
        for r in top..top + 6 {
            for col in left..left + 6 {
                row[r * SIDE + col] = f64::from(rng.gen_range(200u8..255));
            }
        }
    }
    (x, y)
}

#[test]
fn the_cnn_learns_twelve_classes_through_linfa() {
    use fmnist::models::cnn::CnnParams;
    let (x, y) = squares(30, 1);
    let (xt, yt) = squares(10, 2);
    let params = CnnParams {
        conv1: 4,
        conv2: 8,
        conv3: 4,
        hidden: 16,
        dropout: 0.0,
        epochs: 8,
        batch_size: 64,
        learning_rate: 1e-2,
        batch_norm: true,
        // The class is where the square sits: moving or mirroring it would change it.
        shift: 0,
        flip: false,
        erase: 0.0,
        label_smoothing: 0.1,
        seed: 3,
    };
    let train = Dataset::new(x, y.iter().map(|&l| usize::from(l)).collect::<Array1<_>>());
    let model = linfa::traits::Fit::fit(&params.check().unwrap(), &train).unwrap();
    assert_eq!(model.classes(), CLASSES);
    let predicted: Array1<usize> = Predict::predict(&model, &xt);
    assert!(predicted.iter().any(|&l| l > 9), "labels above 9 predicted");
    let predicted: Vec<u8> = predicted.iter().map(|&l| l as u8).collect();
    let acc = accuracy(&yt, &predicted);
    assert!(
        acc > 0.8,
        "CNN on twelve classes: accuracy {acc} (chance 1/12)"
    );
    assert_eq!(
        CnnParams::default().check().unwrap().epochs,
        fmnist::models::cnn::DEFAULT_EPOCHS,
        "the default is the section's network"
    );
}
