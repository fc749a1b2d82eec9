//! Facts about the real Fashion-MNIST that the loader and statistics must reproduce. Needs the
//! Debian package `dataset-fashion-mnist` (CI installs it and sets FMNIST_REQUIRE_DATA=1).

mod common;

use fmnist::data::{Class, Origin};
use fmnist::explore::{class_means, PixelStats};

#[test]
fn the_published_splits_and_balance() {
    let Some(data) = common::load_real() else {
        return;
    };
    assert!(data.source.verified);
    assert_eq!(data.source.origin, Origin::Explicit);
    assert_eq!(data.train.len(), 60_000);
    assert_eq!(data.test.len(), 10_000);
    assert_eq!(data.train.class_counts(), [6_000; 10]);
    assert_eq!(data.test.class_counts(), [1_000; 10]);
    // The first training and test images are both ankle boots (Zalando's README shows them).
    assert_eq!(data.train.class(0), Class::AnkleBoot);
    assert_eq!(data.test.class(0), Class::AnkleBoot);
    assert_eq!(data.train.class(1), Class::TShirtTop);
}

#[test]
fn the_studys_stratified_sample_has_10010_images() {
    let Some(data) = common::load_real() else {
        return;
    };
    let sample = data.train.stratified_sample(1_001, 42).unwrap();
    assert_eq!(sample.len(), 10_010);
    assert_eq!(sample.class_counts(), [1_001; 10]);
    assert_eq!(data.train.first(10_000).len(), 10_000);
}

#[test]
fn pixel_statistics_match_the_known_dataset_moments() {
    let Some(data) = common::load_real() else {
        return;
    };
    let stats = PixelStats::of(data.train.images());
    // Fashion-MNIST's pooled training mean is 0.2860 of full scale (72.94 of 255).
    let pooled_mean = stats.mean.mean().unwrap();
    assert!((pooled_mean - 72.94).abs() < 0.01, "{pooled_mean}");
    // Corner pixels are almost always white; central ones carry ink.
    assert!(stats.mean[0] < 0.1, "{}", stats.mean[0]);
    assert!(stats.mean[14 * 28 + 14] > 100.0);
    assert!(stats.sd.iter().all(|&s| s.is_finite() && s >= 0.0));
    // Trousers leave the gap between the legs white; T-shirts do not.
    let means = class_means(&data.train);
    let gap = 20 * 28 + 14;
    assert!(means[[Class::Trouser as usize, gap]] < means[[Class::TShirtTop as usize, gap]]);
}
