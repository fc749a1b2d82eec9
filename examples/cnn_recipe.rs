//! How the CNN's training recipe was chosen without the test images: trains on the first
//! 55,000 training images and scores each epoch on the other 5,000, which the network never
//! trains on. Prints one line per epoch with its seconds.
//!
//! ```text
//! cargo run --release --example cnn_recipe -- [epochs] [key=value ...]
//! ```
//!
//! Keys: `lr`, `dropout`, `hidden`, `conv1`, `conv2`, `batch_norm`, `shift`, `flip`, `seed`;
//! unset keys keep [`CnnParams::new`]'s values.

use std::time::Instant;

use fmnist::data::FashionMnist;
use fmnist::models::cnn::CnnParams;
use ndarray::s;

/// Training images held out to score each epoch.
const HELD_OUT: usize = 5_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let epochs = args.next().map_or(Ok(15), |e| e.parse())?;
    let mut p = CnnParams::new(epochs, 42);
    for arg in args {
        let (key, value) = arg.split_once('=').ok_or(format!("not key=value: {arg}"))?;
        match key {
            "lr" => p.learning_rate = value.parse()?,
            "dropout" => p.dropout = value.parse()?,
            "hidden" => p.hidden = value.parse()?,
            "conv1" => p.conv1 = value.parse()?,
            "conv2" => p.conv2 = value.parse()?,
            "batch_norm" => p.batch_norm = value.parse()?,
            "shift" => p.shift = value.parse()?,
            "flip" => p.flip = value.parse()?,
            "seed" => p.seed = value.parse()?,
            _ => return Err(format!("unknown key {key}").into()),
        }
    }
    let data = FashionMnist::load()?;
    let images = data.train.images();
    let labels = data.train.labels().to_vec();
    let cut = images.nrows() - HELD_OUT;
    let (fit_x, fit_y) = (images.slice(s![..cut, ..]), &labels[..cut]);
    let (held_x, held_y) = (images.slice(s![cut.., ..]), &labels[cut..]);
    println!("{}", p.describe());
    let start = Instant::now();
    let mut last = 0.0;
    p.train(
        fit_x,
        fit_y,
        Some((held_x, held_y)),
        |r| {
            let now = start.elapsed().as_secs_f64();
            println!(
                "epoch {:2}  {:6.1} s (+{:4.1})  loss {:.4}  train {:.4}  held out {:.4}",
                r.epoch,
                now,
                now - last,
                r.loss,
                r.train_accuracy,
                r.monitor_accuracy.unwrap_or(f64::NAN)
            );
            last = now;
        },
        || {},
    )?;
    Ok(())
}
