//! Writes the seed corpora the fuzzers start from: small valid files of each kind (built with
//! the library's own encoders and its CNN, so they follow the formats as they change), into
//! `corpus/<target>/seed-*`. `cargo fuzz run` adds what it finds beside them.

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use fmnist::data::idx::{encode_images, encode_labels};
use fmnist::data::PIXELS;
use fmnist::models::cnn::{CnnParams, TrainedCnn};
use ndarray::Array2;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn seed(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let labels: Vec<u8> = vec![0, 9, 3, 7];
    let pixels: Vec<u8> = (0..labels.len() * PIXELS).map(|i| (i * 7 % 256) as u8).collect();
    let (images_idx, labels_idx) = (encode_images(&pixels), encode_labels(&labels));
    for (name, bytes) in [("images.idx", &images_idx), ("labels.idx", &labels_idx)] {
        seed("idx_raw", name, bytes);
        seed("idx_raw", &format!("{name}.gz"), &gzip(bytes));
        seed("idx_gzip", name, bytes);
    }

    // A narrow network trained for one epoch on 32 images of four classes: plain, with batch
    // normalisation, shifts and flips (its scales and running statistics are tensors too), and
    // with a third convolution as well.
    let n = 32;
    let images = Array2::from_shape_fn((n, PIXELS), |(i, p)| ((i * 31 + p * (i % 4 + 1)) % 256) as u8);
    let labels: Vec<u8> = (0..n).map(|i| (i % 4) as u8).collect();
    let plain = CnnParams {
        conv1: 2,
        conv2: 2,
        hidden: 4,
        batch_size: 32,
        batch_norm: false,
        shift: 0,
        flip: false,
        ..CnnParams::new(1, 7)
    };
    let normalised = CnnParams {
        batch_norm: true,
        shift: 1,
        flip: true,
        ..plain
    };
    // Format 3: a third convolution, erasing and label smoothing recorded.
    let deeper = CnnParams {
        conv3: 2,
        erase: 0.5,
        label_smoothing: 0.1,
        ..normalised
    };
    for (name, params) in [
        ("tiny", plain),
        ("tiny-normalised", normalised),
        ("tiny-three-convolutions", deeper),
    ] {
        let (net, history) = params
            .train(images.view(), &labels, None, |_| {}, || {})
            .expect("a valid tiny network trains");
        let trained = TrainedCnn {
            net,
            train_images: n,
            history,
            train_seconds: 0.25,
        };
        seed("saved_cnn", &format!("{name}.safetensors"), &trained.to_safetensors());
    }
}
