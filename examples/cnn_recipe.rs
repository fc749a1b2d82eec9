//! How the CNN's training recipe was chosen without the test images: trains on the first
//! 55,000 training images and scores each epoch on the other 5,000, which the network never
//! trains on. Prints one line per epoch with its seconds.
//!
//! ```text
//! cargo run --release --example cnn_recipe -- [epochs] [key=value ...]
//! ```
//!
//! Keys: `lr`, `batch`, `dropout`, `hidden`, `conv1`, `conv2`, `conv3`, `batch_norm`, `shift`, `flip`,
//! `erase`, `smoothing` (label smoothing), `seed`, `save` (a path for the trained network's
//! weights), `load` (a path of weights saved so: trains nothing, and scores the held-out images
//! with each image's scores averaged over moved copies of it, test-time augmentation);
//! unset keys keep [`CnnParams::new`]'s values. `final=true` is for a recipe already chosen
//! that way: it trains on all 60,000 training images and scores the test images once, at the
//! end, with the accuracy's 95% interval.

use std::time::Instant;

use fmnist::data::FashionMnist;
use fmnist::eval::ConfusionMatrix;
use fmnist::models::cnn::{CnnParams, TrainedCnn, DEFAULT_EPOCHS};
use ndarray::s;

/// Training images held out to score each epoch.
const HELD_OUT: usize = 5_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let epochs = args.next().map_or(Ok(DEFAULT_EPOCHS), |e| e.parse())?;
    let mut p = CnnParams::new(epochs, 42);
    let mut last_step = false;
    let mut save = None;
    let mut load = None;
    for arg in args {
        let (key, value) = arg.split_once('=').ok_or(format!("not key=value: {arg}"))?;
        match key {
            "lr" => p.learning_rate = value.parse()?,
            "batch" => p.batch_size = value.parse()?,
            "dropout" => p.dropout = value.parse()?,
            "hidden" => p.hidden = value.parse()?,
            "conv1" => p.conv1 = value.parse()?,
            "conv2" => p.conv2 = value.parse()?,
            "conv3" => p.conv3 = value.parse()?,
            "batch_norm" => p.batch_norm = value.parse()?,
            "shift" => p.shift = value.parse()?,
            "flip" => p.flip = value.parse()?,
            "erase" => p.erase = value.parse()?,
            "smoothing" => p.label_smoothing = value.parse()?,
            "seed" => p.seed = value.parse()?,
            "final" => last_step = value.parse()?,
            "save" => save = Some(std::path::PathBuf::from(value)),
            "load" => load = Some(std::path::PathBuf::from(value)),
            _ => return Err(format!("unknown key {key}").into()),
        }
    }
    let data = FashionMnist::load()?;
    let images = data.train.images();
    let labels = data.train.labels().to_vec();
    let cut = images.nrows() - if last_step { 0 } else { HELD_OUT };
    let (fit_x, fit_y) = (images.slice(s![..cut, ..]), &labels[..cut]);
    let (held_x, held_y) = (images.slice(s![cut.., ..]), &labels[cut..]);
    let monitor = (!last_step).then_some((held_x, held_y));
    if let Some(path) = load {
        if last_step {
            return Err("load= scores the held-out images, which final=true trains on".into());
        }
        let net = TrainedCnn::load(&path)?.net;
        println!("{}", net.params().describe());
        score_moved(&net, held_x, held_y);
        return Ok(());
    }
    println!("{}", p.describe());
    let start = Instant::now();
    let mut last = 0.0;
    let (net, history) = p.train(
        fit_x,
        fit_y,
        monitor,
        |r| {
            let now = start.elapsed().as_secs_f64();
            let held_out = r
                .monitor_accuracy
                .map_or(String::new(), |a| format!("  held out {a:.4}"));
            println!(
                "epoch {:2}  {:6.1} s (+{:4.1})  loss {:.4}  train {:.4}{held_out}",
                r.epoch,
                now,
                now - last,
                r.loss,
                r.train_accuracy,
            );
            last = now;
        },
        || {},
    )?;
    let trained_in = start.elapsed().as_secs_f64();
    if let Some(path) = save {
        let trained = TrainedCnn {
            net: net.clone(),
            train_images: cut,
            history,
            train_seconds: trained_in,
        };
        trained.save(&path)?;
    }
    if last_step {
        let predicted = net.predict_images(data.test.images());
        let matrix = ConfusionMatrix::new(&data.test.labels().to_vec(), &predicted);
        let (low, high) = matrix.accuracy_ci95();
        println!(
            "test accuracy {:.4} (95% CI {low:.4}-{high:.4}) after {:.1} s of training",
            matrix.accuracy(),
            trained_in
        );
    }
    Ok(())
}

/// The held-out accuracy of `net` with its scores averaged over more and more moved copies of
/// each image (test-time augmentation), beside its mirror images when it trained with flips.
fn score_moved(net: &fmnist::models::cnn::Cnn, x: ndarray::ArrayView2<'_, u8>, y: &[u8]) {
    let one = [(-1, 0), (1, 0), (0, -1), (0, 1)];
    let diagonal = [(-1, -1), (-1, 1), (1, -1), (1, 1)];
    let two = [(-2, 0), (2, 0), (0, -2), (0, 2)];
    let sets: [(&str, Vec<(isize, isize)>); 4] = [
        ("the image", vec![(0, 0)]),
        (
            "and 4 one-pixel moves",
            [(0, 0)].iter().chain(&one).copied().collect(),
        ),
        (
            "and 8 one-pixel moves",
            [(0, 0)]
                .iter()
                .chain(&one)
                .chain(&diagonal)
                .copied()
                .collect(),
        ),
        (
            "and 4 one- and 4 two-pixel moves",
            [(0, 0)].iter().chain(&one).chain(&two).copied().collect(),
        ),
    ];
    for (name, moves) in sets {
        let predicted = net.predict_images_moved(x, &moves);
        let correct = predicted.iter().zip(y).filter(|(p, y)| p == y).count();
        println!("held out {:.4}  {name}", correct as f64 / y.len() as f64);
    }
}
