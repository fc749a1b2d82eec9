//! The leaderboard on a few thousand real images: the test images choose nothing, every method
//! has its row, and its files are the ones `fmnist leaderboard` promises.

mod common;

use fmnist::study::leaderboard::{Leaderboard, LeaderboardParams, ZALANDO};
use fmnist::study::{Preset, Section};
use fmnist::Study;

#[test]
fn the_test_images_choose_nothing_and_every_method_has_its_row() {
    let Some(data) = common::load_real() else {
        return;
    };
    let mut study = Study::new(data).with_quick(true);
    let quick = LeaderboardParams::quick();
    let fewer_tests = LeaderboardParams {
        test_rows: quick.test_rows / 2,
        ..quick.clone()
    };
    let a = study.run::<Leaderboard>(&quick).unwrap();
    let b = study.run::<Leaderboard>(&fewer_tests).unwrap();

    let methods: Vec<&str> = a.entries.iter().map(|e| e.method).collect();
    let zalando: Vec<&str> = ZALANDO.iter().map(|z| z.0).collect();
    assert_eq!(
        methods, zalando,
        "one row per method Zalando reports, the CNN last"
    );
    for (x, y) in a.entries.iter().zip(&b.entries) {
        // Other test images, the same choice from the same held-out scores.
        assert_eq!(x.setting, y.setting, "{}", x.method);
        assert_eq!(x.candidates, y.candidates, "{}", x.method);
        assert_eq!(
            x.confusion.total() as usize,
            quick.test_rows,
            "{}",
            x.method
        );
        assert_eq!(
            y.confusion.total() as usize,
            fewer_tests.test_rows,
            "{}",
            y.method
        );
        if x.method != "CNN" {
            assert!(x.candidates.len() >= 2, "{} chose among settings", x.method);
            let chosen = x.candidates.iter().find(|c| c.0 == x.setting).unwrap();
            let best = x.candidates.iter().map(|c| c.1).fold(0.0, f64::max);
            assert_eq!(chosen.1, best, "{}: the best held-out score wins", x.method);
            // Far better than chance even on a few thousand images.
            assert!(x.confusion.accuracy() > 0.6, "{}", x.method);
        }
    }
    // McNemar compares the best classical method and the CNN on the same test images.
    let m = &a.mcnemar;
    let best = a.best_classical();
    let cnn = a.entries.last().unwrap();
    let right = |p: &[u8]| {
        p.iter()
            .zip(study.data().test.labels())
            .filter(|(p, y)| p == y)
            .count()
    };
    assert_eq!(
        m.only_first as isize - m.only_second as isize,
        right(&best.predictions) as isize - right(&cnn.predictions) as isize
    );

    // The files: the columns the issue names, the published figures beside ours, Figure 18.
    let tables = a.tables();
    let csv = &tables[0];
    assert_eq!(csv.name, "leaderboard.csv");
    assert_eq!(
        csv.text.lines().next().unwrap(),
        "method,inputs,setting,test_accuracy,ci95_low,ci95_high,kappa,train_seconds,\
         predict_seconds,seed"
    );
    assert_eq!(csv.text.lines().count(), 1 + ZALANDO.len());
    let md = &tables[1].text;
    for needle in [
        "Zalando's best",
        "the study's",
        "McNemar",
        "89.7%",
        "held-out",
        "Seconds measured on ",
        " logical cores.",
    ] {
        assert!(md.contains(needle), "{needle} in\n{md}");
    }
    let figures = a.figures();
    assert_eq!(figures.len(), 1);
    assert_eq!(figures[0].number, 18);
}
