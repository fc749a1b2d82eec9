//! Section 2 of the study on the real data, full protocol (10,010 training images, 10-fold CV
//! over every grid, 10,000 test images): about a minute and a half on two cores. Needs the
//! Debian data package (CI requires it).

mod common;

use fmnist::progress::NoProgress;
use fmnist::study::table1::{run, Table1Params};

#[test]
fn every_model_clears_its_bar_on_the_test_set() {
    let Some(data) = common::load_real() else {
        return;
    };
    let t = run(&data, &Table1Params::default(), &NoProgress).unwrap();
    let bars = [
        ("SVM (radial)", 0.845),
        ("Multinomial logistic regression", 0.815),
        ("Random forest", 0.840),
        ("k-NN", 0.785),
        ("Naive Bayes (kernel)", 0.66),
    ];
    for (name, bar) in bars {
        let m = t.models.iter().find(|m| m.name == name).unwrap();
        let acc = m.confusion.accuracy();
        assert!(acc >= bar, "{name}: {acc} < {bar}");
        let (lo, hi) = m.confusion.accuracy_ci95();
        assert!(lo < acc && acc < hi);
    }
    assert_eq!(t.models.len(), 6);
    assert_eq!(t.svm().name, "SVM (radial)");
}
