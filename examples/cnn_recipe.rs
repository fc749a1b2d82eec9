//! How the CNN's training recipe was chosen without the test images: trains on the first
//! 55,000 training images and scores each epoch on the other 5,000, which the network never
//! trains on. Prints one line per epoch with its seconds.
//!
//! ```text
//! cargo run --release --example cnn_recipe -- [epochs] [key=value ...]
//! ```
//!
//! Keys: `lr`, `batch`, `dropout`, `hidden`, `conv1`, `conv2`, `conv3`, `batch_norm`, `shift`, `flip`,
//! `erase`, `smoothing` (label smoothing), `seed`;
//! unset keys keep [`CnnParams::new`]'s values. `final=true` is for a recipe already chosen
//! that way: it trains on all 60,000 training images and scores the test images once, at the
//! end, with the accuracy's 95% interval.

use std::time::Instant;

use fmnist::data::FashionMnist;
use fmnist::eval::ConfusionMatrix;
use fmnist::models::cnn::{CnnParams, DEFAULT_EPOCHS};
use ndarray::s;

/// Training images held out to score each epoch.
const HELD_OUT: usize = 5_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let epochs = args.next().map_or(Ok(DEFAULT_EPOCHS), |e| e.parse())?;
    let mut p = CnnParams::new(epochs, 42);
    let mut last_step = false;
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
    println!("{}", p.describe());
    let start = Instant::now();
    let mut last = 0.0;
    let (net, _) = p.train(
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
