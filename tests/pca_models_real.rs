//! Section 3.3 of the study on the real data: the three models at the settings the full
//! default run chooses (`fmnist pca-models`: 300 rounds of depth-5 trees at shrinkage 0.1,
//! twelve hidden units with decay 1, mtry 6), cross-validated on 3 folds instead of 10 to keep
//! CI short. The final fits and the test set are the full run's, so the bars are the issue's.
//! About a minute on two cores; needs the Debian data package (CI requires it).

mod common;

use fmnist::pca::Pca;
use fmnist::progress::NoProgress;
use fmnist::study::pca_models::{run, BoostGrid, PcaModelsParams};

#[test]
fn boosting_network_and_forest_clear_their_bars_on_the_pca_scores() {
    let Some(data) = common::load_real() else {
        return;
    };
    let pca = Pca::fit(data.train.images()).unwrap();
    let params = PcaModelsParams {
        folds: 3,
        boost: BoostGrid {
            trees: vec![300],
            ..BoostGrid::reduced()
        },
        net_decays: vec![1.0],
        mtry: vec![6],
        ..PcaModelsParams::default()
    };
    let study = run(&data, &pca, &params, &NoProgress).unwrap();
    assert_eq!(study.components, 187);
    let bars = [
        ("Gradient boosting", 0.85),
        ("Averaged neural network", 0.83),
        ("Random forest", 0.83),
    ];
    for ((name, bar), m) in bars.iter().zip(&study.models) {
        assert_eq!(m.name, *name);
        let acc = m.confusion.accuracy();
        assert!(acc >= *bar, "{name}: {acc} < {bar}");
        assert!(
            m.confusion.kappa() > 0.8,
            "{name}: kappa {}",
            m.confusion.kappa()
        );
    }
    // Boosting beats both others significantly on the same test images.
    for (a, b, test) in &study.mcnemar {
        if *a == 0 {
            assert!(
                test.only_first > test.only_second && test.p_value < 1e-3,
                "{a} {b} {test:?}"
            );
        }
    }
    assert_eq!(study.mcnemar.len(), 3);
}
