//! The feature builder against an independent implementation: the 84 features of the first 20
//! training images (`tests/data/features-first20-train.csv`, copied from the study's materials),
//! computed elsewhere from the same definitions, must agree to 1e-9.

mod common;

use fmnist::features::{feature_names, FeatureParams, N_FEATURES};

#[test]
fn the_first_20_training_images_match_the_oracle() {
    let Some(data) = common::load_real() else {
        return;
    };
    let oracle = include_str!("data/features-first20-train.csv");
    let mut lines = oracle.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[..2], ["index", "label"]);
    assert_eq!(header[2..], feature_names()[..], "names and order agree");

    let ours = FeatureParams::default().transform(data.train.first(20).images());
    let mut rows = 0;
    for line in lines {
        let cells: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
        let i = cells[0] as usize;
        assert_eq!(cells[1] as u8, data.train.labels()[i], "label of image {i}");
        for (j, &expected) in cells[2..].iter().enumerate() {
            let got = ours[[i, j]];
            assert!(
                (got - expected).abs() <= 1e-9,
                "image {i}, {}: ours {got}, oracle {expected}",
                feature_names()[j]
            );
        }
        rows += 1;
    }
    assert_eq!(rows, 20);
    assert_eq!(ours.ncols(), N_FEATURES);
}
