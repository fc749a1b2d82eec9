//! A small convolutional network for the 28 × 28 images: the method the study's abstract names
//! and its body never trains.
//!
//! Architecture (channels-last throughout):
//!
//! ```text
//! 28×28×1 ─ conv 3×3, 32 ─ batch norm ─ ReLU ─ max-pool 2
//!         ─ conv 3×3, 64 ─ batch norm ─ ReLU ─ max-pool 2
//!         ─ conv 3×3, 64 ─ batch norm ─ ReLU ─ 7×7×64
//!         ─ dense 128 ─ ReLU ─ dropout 0.25 ─ dense n_classes ─ softmax
//! ```
//!
//! trained on the images and their mirror images, and predicting from the average of an image's
//! and its mirror image's scores.
//!
//! The output layer has one unit per class the training labels imply (ten for Fashion-MNIST).
//! [`CnnParams`] is a linfa estimator like the classical models: `Default` is the section's
//! network, [`linfa::ParamGuard`] checks it, and [`linfa::traits::Fit`] trains it on a
//! `Dataset` of rows of 784 pixels (0–255, as `f64`) with labels `0..n_classes`.
//!
//! Convolutions keep the size (zero padding 1). Pixels are divided by 255 and standardised with
//! the training images' mean and standard deviation. Weights start He-uniform
//! (`±√(6/fan-in)`; the output layer `±√(3/fan-in)`), biases at zero, drawn by a ChaCha
//! generator from the seed. Training minimises the mean cross-entropy with Adam (β 0.9, 0.999)
//! on shuffled mini-batches, the learning rate falling along a half cosine to zero over the
//! epochs.
//!
//! # The recipe, and how it was chosen
//!
//! [`CnnParams::batch_norm`] normalises each convolution's outputs before its ReLU ("ghost"
//! batch normalisation over each shard of [`SHARD`] images, running averages when predicting);
//! [`CnnParams::flip`] mirrors half the training images, at random, and averages each test
//! image's scores with its mirror image's. [`CnnParams::conv3`] adds the third convolution;
//! [`CnnParams::shift`], [`CnnParams::erase`] (random erasing) and
//! [`CnnParams::label_smoothing`] are there to try, and off. The recipe was chosen within a
//! training budget of 300 s on 2 cores, on 5,000 training images held out from the other
//! 55,000 (`examples/cnn_recipe.rs`; the test images played no part). On an Intel Xeon with 2
//! cores, each row one run (seed 42), batch normalisation and flips on unless it says; the
//! seconds per epoch (held-out scoring included) are those of the code of the day, the last
//! row's after the workspaces were made one per thread (below):
//!
//! | network | epochs | held-out accuracy | seconds per epoch |
//! | --- | ---: | ---: | ---: |
//! | two convolutions, no batch norm or flips, dropout 0.5, Adam 0.001 (until 2026-12-02) | 18 | 92.92% | 17 |
//! | two convolutions, dropout 0.5, Adam 0.001 | 14 | 92.26% | 14 |
//! | two convolutions, dropout 0.25, Adam 0.002 (2026-12-02 to 12-03) | 18 | 93.52% | 15 |
//! | the same and random erasing, probability 0.5 | 18 | 93.02% | 16 |
//! | the same without erasing, dropout 0 | 18 | 93.54% | 15 |
//! | dropout 0.1 | 18 | 93.90% | 15 |
//! | dropout 0.1, label smoothing 0.1 | 18 | 93.88% | 15 |
//! | dropout 0.1, batches of 64 | 18 | 93.72% | 15 |
//! | three convolutions (32-64-64), dropout 0.1 | 16 | 94.02% | 18 |
//! | three convolutions, dropout 0.25 | 15 | 94.02% | 18 |
//! | three convolutions, dropout 0.25 (this one) | 16 | **94.38%** | 18 |
//! | three convolutions, dropout 0.25 | 18 | 94.10% | 15 |
//! | three convolutions, dropout 0.25, random erasing 0.5 (2026-12-03) | 16 | 93.64% | 23 |
//!
//! Erasing and a lower dropout pulled in opposite directions: the two-convolution network
//! underfitted in 18 epochs, so a third convolution, which fits 16 epochs into the budget, was
//! the step that paid. Erasing cost the three-convolution network too (the last row's seconds
//! are from a day when the same machine ran everything about 1.5 times slower). Scoring each
//! held-out image also moved one pixel, beside its mirror image, did not pay either: the
//! chosen network (trained on the 55,000 images) scored 94.38% with flips alone, 94.44% adding
//! the four one-pixel moves and 94.04% adding all eight, each move alone costing 1–3 points,
//! since it never trained on moved images; so prediction stays with flips. Shifts of one or two
//! pixels cost 1–4 points after one epoch; trained for all 16 epochs (on an AMD EPYC with 2
//! cores, Zen 3, where the chosen recipe also scored 94.38%, at 41 s an epoch), moves of up to
//! one pixel scored 94.32%, the network underfitting them (94.3% on its own training batches in
//! the last epoch, against 97.5% without them). 256 dense units made an epoch on the Xeon 18 s,
//! too slow for 18 epochs. Only then was the chosen recipe trained on all 60,000 images and
//! scored on the test images.
//!
//! The test score (93.64%) fell short of the 94% the project aims at, so four more runs were
//! made the same way, on the held-out images only, on AMD EPYC machines with 2 cores (16
//! epochs each; the chosen recipe takes 21–24 s an epoch on a Zen 4):
//!
//! | change to the chosen recipe | held-out accuracy |
//! | --- | ---: |
//! | none, seed 7 instead of 42 | 93.96% |
//! | Adam with decoupled weight decay 0.1 (AdamW) | 94.16% |
//! | the third convolution with 128 filters, not 64 (1.2 times the seconds per epoch) | 94.14% |
//! | SGD, Nesterov momentum 0.9, learning rate 0.1, L2 decay 5 × 10⁻⁴ | 93.86% |
//!
//! Changing only the seed moved the held-out accuracy by 0.4 points (on 5,000 images its
//! standard error is 0.34), so the chosen recipe is worth about 94.2% there and none of the
//! changes is better; SGD underfits in 16 epochs (96.2% on its own training batches in the
//! last epoch, against 97.3–97.6% with Adam). No change was adopted, so the test images still
//! chose nothing; the two optimisers were tried as a patch to the training loop, not kept as
//! options.
//!
//! A third round (2026-12-05, an AMD EPYC Zen 4 with 2 cores; seed 42, held-out images only)
//! tried averaging each held-out image's scores over moved copies of it
//! ([`Cnn::predict_images_moved`]: four one-pixel moves, or eight, beside the mirror images),
//! wider filters, a deeper network and longer training. Multiply-adds are per image and
//! forward pass; "fit" is the accuracy on the network's own training batches in the last
//! epoch:
//!
//! | change to the chosen recipe | multiply-adds | epochs | seconds per epoch | fit | held out | with four moves | with eight |
//! | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
//! | shifts of up to one pixel | 6.0 M | 16 | 18 | 94.3% | 94.32% | 94.30% | 94.20% |
//! | filters 48-96-96 | 13.1 M | 16 | 33 | 97.9% | 94.16% | | |
//! | filters 48-96-96, shifts of up to one pixel | 13.1 M | 16 | 34 | 94.7% | 94.46% | 94.36% | 94.32% |
//! | a fourth convolution, 64 filters on the 7 × 7 maps | 7.9 M | 16 | 22 | 97.8% | 94.22% | 94.42% | 94.16% |
//! | the same and shifts of up to one pixel | 7.9 M | 16 | 22 | 94.6% | 94.14% | 94.44% | 94.34% |
//! | shifts of up to one pixel | 6.0 M | 20 | 18 | 95.1% | 93.98% | 94.34% | 94.50% |
//! | shifts of up to one pixel | 6.0 M | 24 | 18 | 95.5% | 94.42% | 94.42% | 94.44% |
//! | shifts of up to one pixel | 6.0 M | 32 | 18 | 96.1% | 94.36% | 94.62% | 94.76% |
//! | shifts of up to one pixel, seed 7 | 6.0 M | 32 | 18 | 95.9% | 94.40% | 94.62% | 94.70% |
//!
//! Within 16 epochs every row is inside the 0.4 points that the seed alone moves the chosen
//! recipe, and moved copies at test time pay nothing, so the recipe and its prediction (flips
//! alone) stay. Only trained longer on shifted images does the network fit them well enough for
//! moved copies to pay: with eight, 94.76% and 94.70% for two seeds after 32 epochs, about half
//! a point above the chosen recipe. But 32 epochs are twice the budget (about 630 s for 60,000
//! images on this machine), so that recipe was not trained on all the images nor scored on the
//! test images. The fourth convolution was a patch, not kept.
//!
//! # Same seed, same weights, on any number of cores
//!
//! A mini-batch is cut into shards of [`SHARD`] images; the shards run on all cores, each
//! computing its gradient single-threaded, and the shard gradients are summed in shard order.
//! The order of every floating-point sum is therefore fixed by the batch size alone, not by the
//! number of cores or the scheduling, and dropout masks come from a generator keyed by the seed,
//! the step and the shard. Two fits with the same parameters give the same bits on one machine;
//! a CPU with other vector units may get another GEMM kernel from faer, rounding differently.
//!
//! # Why written here
//!
//! candle-nn 0.11 (one of the crates the issue suggests), measured on the 2-core development
//! machine while a build held the other core: the same network took an estimated 343 s per
//! epoch of 60,000 images (from 18 timed batches), its backward pass 4.6 times its forward,
//! because the CPU gradient of `conv2d` goes through a direct `conv_transpose2d`; a convolution
//! written as shifted copies and one `matmul` in candle ops was slower still (398 s). Under the
//! same kind of load this module took 42–75 s per epoch, and 28 s on an idle machine (12 epochs
//! in 338 s); 16 s once the vector state faer leaves was cleared (`fmnist bench`), and 11–12 s
//! once Adam's moments stopped going subnormal and ReLU's gradient became a select (12 epochs in
//! 205 s, then 150 s, then 137 s, each time the same weights to the bit), and 8% less again
//! once im2col copied whole kernel rows, ReLU was fused into the passes beside it and col2im
//! became a gather, and 12% less once each thread kept one workspace for all the shards it
//! takes (the same weights again each time). candle also
//! added 5 minutes to a cold build and has no seeded CPU generator for dropout. The convolution
//! here is the textbook lowering (im2col, one GEMM, col2im for the gradient), with faer's GEMM,
//! already a dependency, doing the arithmetic (through this crate's `linalg` module, which
//! clears the vector state faer's kernels leave behind).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use faer::{Accum, MatMut, MatRef};
use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use thiserror::Error;

use super::{argmax, Classifier, Fit, ModelError};
use crate::data::{PIXELS, SIDE};
use crate::linalg;

/// Images per shard: the unit of parallel work, which also fixes the order of every sum.
pub const SHARD: usize = 32;

/// Mixed into the seed for the generator of each shard's shifts, flips and dropout masks.
const SHARD_STREAMS: u64 = 0x5eed_d20f;

/// Added to a channel's variance before batch normalisation divides by its square root.
const NORM_EPSILON: f32 = 1e-5;

/// How far each mini-batch moves the running mean and variance of batch normalisation.
const NORM_MOMENTUM: f32 = 0.1;

/// The most filters or units a layer may have (the section's network has 32, 64, 64 and 128).
pub const MAX_UNITS: usize = 1 << 16;

/// The largest shift of a training image, in pixels (a quarter of its side).
pub const MAX_SHIFT: usize = SIDE / 4;

/// Hyperparameters of the network and its training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CnnParams {
    /// Filters of the first convolution.
    pub conv1: usize,
    /// Filters of the second convolution.
    pub conv2: usize,
    /// Filters of a third convolution, on the 7 × 7 maps after the second pooling (followed by
    /// batch normalisation when asked and ReLU, no pooling); 0 for none.
    pub conv3: usize,
    /// Units of the dense hidden layer.
    pub hidden: usize,
    /// Probability of dropping a dense hidden unit while training, in `[0, 1)`.
    pub dropout: f32,
    /// Passes over the training images.
    pub epochs: usize,
    /// Images per mini-batch, a multiple of [`SHARD`].
    pub batch_size: usize,
    /// Adam's step size at the first step (it falls along a half cosine to zero).
    pub learning_rate: f32,
    /// Normalise each convolution's outputs, channel by channel, before its ReLU: while
    /// training over the images of each shard ([`SHARD`] images, "ghost" batch normalisation),
    /// when predicting with running averages of those shard statistics.
    pub batch_norm: bool,
    /// Move each training image by up to this many pixels in each direction, at random (the
    /// uncovered border is background); 0 for none.
    pub shift: usize,
    /// Mirror half the training images left to right, at random, and when predicting average
    /// each image's class scores with its mirror image's.
    pub flip: bool,
    /// Probability of erasing a random rectangle of a training image ("random erasing", Zhong
    /// et al. 2017): 2–40% of its area, sides in a ratio between 0.3 and 3.3, anywhere in the
    /// image, its pixels set to the training images' mean; 0 for none.
    pub erase: f32,
    /// Label smoothing: the target of each training image is `1 − ε` on its class and `ε`
    /// shared evenly among all classes, rather than one-hot; 0 for none.
    pub label_smoothing: f32,
    /// Seed of the starting weights, the shuffles, the augmentation and the dropout masks.
    pub seed: u64,
}

/// Epochs of the default network ([`CnnParams::default`]): as many as fit in 300 s of training
/// on 2 cores, chosen with the rest of the recipe on held-out training images (see the module
/// notes); the test images never chose it.
pub const DEFAULT_EPOCHS: usize = 16;

impl Default for CnnParams {
    /// The network above, trained for [`DEFAULT_EPOCHS`] epochs with seed 42.
    fn default() -> Self {
        CnnParams::new(DEFAULT_EPOCHS, 42)
    }
}

super::linfa_estimator!(CnnParams => CnnValidParams, Cnn);

impl CnnParams {
    /// The network above, trained for `epochs` epochs in batches of 128 at step size 0.002,
    /// with batch normalisation and flips, no shifts, erasing or label smoothing.
    pub fn new(epochs: usize, seed: u64) -> Self {
        CnnParams {
            conv1: 32,
            conv2: 64,
            conv3: 64,
            hidden: 128,
            dropout: 0.25,
            epochs,
            batch_size: 128,
            learning_rate: 2e-3,
            batch_norm: true,
            shift: 0,
            flip: true,
            erase: 0.0,
            label_smoothing: 0.0,
            seed,
        }
    }

    /// The parameters as one line, stored with saved weights to recognise them later.
    pub fn describe(&self) -> String {
        let norm = if self.batch_norm { " (batch norm)" } else { "" };
        let augment = self.augmentation_text();
        format!(
            "conv {}{norm}, dense {}, dropout {}{augment}, {}, batch {}, Adam {} (cosine), seed {}",
            self.filters_text(),
            self.hidden,
            self.dropout,
            self.epochs_text(),
            self.batch_size,
            self.learning_rate,
            self.seed
        )
    }

    /// What the training does to its images and targets, as a list to append: ", shifts ±2
    /// px, flips", ", flips, erasing 0.5, label smoothing 0.1", or empty without any.
    pub fn augmentation_text(&self) -> String {
        let mut text = String::new();
        if self.shift > 0 {
            text += &format!(", shifts ±{} px", self.shift);
        }
        if self.flip {
            text += ", flips";
        }
        if self.erase > 0.0 {
            text += &format!(", erasing {}", self.erase);
        }
        if self.label_smoothing > 0.0 {
            text += &format!(", label smoothing {}", self.label_smoothing);
        }
        text
    }

    /// The filters of each convolution: "32-64", "32-64-64".
    pub fn filters_text(&self) -> String {
        let mut text = format!("{}-{}", self.conv1, self.conv2);
        if self.conv3 > 0 {
            text += &format!("-{}", self.conv3);
        }
        text
    }

    /// How many convolutions: 2, or 3 with [`CnnParams::conv3`].
    fn convolutions(&self) -> usize {
        2 + usize::from(self.conv3 > 0)
    }

    /// Channels of the 7 × 7 maps the dense layers read: the last convolution's filters.
    fn last_filters(&self) -> usize {
        if self.conv3 > 0 {
            self.conv3
        } else {
            self.conv2
        }
    }

    /// "1 epoch", "12 epochs".
    pub fn epochs_text(&self) -> String {
        match self.epochs {
            1 => "1 epoch".into(),
            n => format!("{n} epochs"),
        }
    }

    /// Checks every setting, naming the first one out of range (what
    /// [`linfa::ParamGuard::check`] runs).
    pub fn validate(&self) -> Result<(), ModelError> {
        use super::require;
        for (v, param) in [
            (self.conv1, "conv1"),
            (self.conv2, "conv2"),
            (self.hidden, "hidden"),
        ] {
            // The bound keeps every layer's size far inside `usize`: a saved file's settings
            // are read before its tensors, and 9 × conv1 must not overflow.
            require((1..=MAX_UNITS).contains(&v), param, || {
                format!("must be between 1 and {MAX_UNITS}, got {v}")
            })?;
        }
        require(self.conv3 <= MAX_UNITS, "conv3", || {
            format!(
                "must be at most {MAX_UNITS} (0 for none), got {}",
                self.conv3
            )
        })?;
        require(self.epochs >= 1, "epochs", || {
            "must be at least 1, got 0".into()
        })?;
        require(self.shift <= MAX_SHIFT, "shift", || {
            format!("must be at most {MAX_SHIFT} pixels, got {}", self.shift)
        })?;
        require((0.0..1.0).contains(&self.dropout), "dropout", || {
            format!("must be in [0, 1), got {}", self.dropout)
        })?;
        require((0.0..=1.0).contains(&self.erase), "erase", || {
            format!("must be in [0, 1], got {}", self.erase)
        })?;
        require(
            (0.0..1.0).contains(&self.label_smoothing),
            "label_smoothing",
            || format!("must be in [0, 1), got {}", self.label_smoothing),
        )?;
        require(
            self.batch_size > 0 && self.batch_size.is_multiple_of(SHARD),
            "batch_size",
            || {
                format!(
                    "must be a positive multiple of {SHARD}, got {}",
                    self.batch_size
                )
            },
        )?;
        require(
            self.learning_rate.is_finite() && self.learning_rate > 0.0,
            "learning_rate",
            || format!("must be a finite number > 0, got {}", self.learning_rate),
        )
    }

    /// Whether batch normalisation follows layer `i`: the convolutions, when asked.
    fn normalises(&self, i: usize) -> bool {
        self.batch_norm && i < self.convolutions()
    }

    /// The layers' shapes for `classes` output classes: the convolutions, then the two dense
    /// layers.
    fn layers(&self, classes: usize) -> Vec<LayerShape> {
        let pooled = (SIDE / 4) * (SIDE / 4);
        let mut shapes = vec![
            LayerShape::new(9, self.conv1),
            LayerShape::new(9 * self.conv1, self.conv2),
        ];
        if self.conv3 > 0 {
            shapes.push(LayerShape::new(9 * self.conv2, self.conv3));
        }
        shapes.push(LayerShape::new(pooled * self.last_filters(), self.hidden));
        shapes.push(LayerShape::new(self.hidden, classes));
        shapes
    }

    /// The name of each layer's tensors in a saved file.
    fn layer_names(&self) -> Vec<&'static str> {
        let convolutions = ["conv1", "conv2", "conv3"];
        let mut names = convolutions[..self.convolutions()].to_vec();
        names.extend(["dense1", "dense2"]);
        names
    }

    /// Trains on `images` (`n × 784`, pixels 0–255) with `labels` (`0..n_classes`, as many
    /// classes as the labels imply, at least two). After each epoch the model is
    /// scored on `monitor` (when given; it never influences training) and `on_epoch` receives
    /// the record; `on_step` is called after every mini-batch, for progress bars.
    pub fn train(
        &self,
        images: ArrayView2<'_, u8>,
        labels: &[u8],
        monitor: Option<(ArrayView2<'_, u8>, &[u8])>,
        mut on_epoch: impl FnMut(&EpochRecord),
        on_step: impl Fn() + Sync,
    ) -> Result<(Cnn, Vec<EpochRecord>), ModelError> {
        self.validate()?;
        check_images(images, labels)?;
        if let Some((x, y)) = monitor {
            check_images(x, y)?;
        }
        let n = images.nrows();
        let (mean, sd) = pixel_moments(images);
        let inputs = Inputs::new(images, mean, sd);
        let mut net = Cnn::initial(*self, super::n_classes(labels), mean, sd);
        let mut adam = Adam::new(&net.layers);
        let steps_per_epoch = n.div_ceil(self.batch_size);
        let total_steps = steps_per_epoch * self.epochs;
        let mut order: Vec<usize> = (0..n).collect();
        // One workspace per thread, reused for every shard that thread takes: a workspace per
        // shard (four of 128 images) made the activations of two shards alternate on each core,
        // and an epoch 14% slower on the Intel Xeon. What each shard leaves (its gradient,
        // loss and statistics) is moved out to its own slot, so that they are summed in shard
        // order whichever thread computed them.
        let pool: Vec<Mutex<Workspace>> = (0..rayon::current_num_threads())
            .map(|_| Mutex::new(Workspace::default()))
            .collect();
        let mut results: Vec<ShardResult> = (0..self.batch_size / SHARD)
            .map(|_| ShardResult::default())
            .collect();
        let mut history = Vec::with_capacity(self.epochs);
        // Training time only: scoring the monitored images is left out.
        let (start, mut monitoring) = (Instant::now(), Duration::ZERO);
        for epoch in 0..self.epochs {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            rng.set_stream(1 + epoch as u64);
            order.shuffle(&mut rng);
            let (mut loss, mut correct) = (0.0f64, 0usize);
            for (b, batch) in order.chunks(self.batch_size).enumerate() {
                let step = epoch * steps_per_epoch + b;
                let progress = step as f32 / total_steps as f32;
                let lr = 0.5 * self.learning_rate * (1.0 + (std::f32::consts::PI * progress).cos());
                let shards = batch.len().div_ceil(SHARD);
                results[..shards]
                    .par_iter_mut()
                    .zip(batch.par_chunks(SHARD))
                    .enumerate()
                    .for_each(|(s, (out, rows))| {
                        let thread = rayon::current_thread_index().unwrap_or(0) % pool.len();
                        // A thread computes one shard at a time: its lock is never contended (and
                        // if it were, it would only wait; the result is the same either way).
                        let mut ws = pool[thread].lock().unwrap_or_else(PoisonError::into_inner);
                        let mut masks = ChaCha8Rng::seed_from_u64(self.seed ^ SHARD_STREAMS);
                        masks.set_stream((step * self.batch_size / SHARD + s) as u64);
                        net.shard_gradient(&mut ws, &inputs, rows, labels, batch.len(), &mut masks);
                        out.take_from(&mut ws);
                    });
                // Summed in shard order, whatever the scheduling.
                let (first, rest) = results[..shards]
                    .split_first_mut()
                    .expect("a batch has at least one shard");
                for r in rest.iter() {
                    for (g, o) in first.grads.iter_mut().zip(&r.grads) {
                        g.add(o);
                    }
                    first.loss += r.loss;
                    first.correct += r.correct;
                }
                loss += first.loss;
                correct += first.correct;
                adam.step(&mut net.layers, &first.grads, lr);
                net.update_moments(&results[..shards]);
                on_step();
            }
            let seconds = (start.elapsed() - monitoring).as_secs_f64();
            let scoring = Instant::now();
            let monitor_accuracy = monitor.map(|(x, y)| {
                let predicted = net.predict_images(x);
                predicted.iter().zip(y).filter(|(p, y)| p == y).count() as f64 / y.len() as f64
            });
            monitoring += scoring.elapsed();
            let record = EpochRecord {
                epoch: epoch + 1,
                loss: loss / n as f64,
                train_accuracy: correct as f64 / n as f64,
                monitor_accuracy,
                seconds: Some(seconds),
            };
            on_epoch(&record);
            history.push(record);
        }
        Ok((net, history))
    }
}

/// What one epoch of training measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Mean cross-entropy over the epoch's mini-batches (dropout on).
    pub loss: f64,
    /// Accuracy on the epoch's mini-batches as they were trained (dropout on, weights moving).
    pub train_accuracy: f64,
    /// Accuracy on the monitored images after the epoch, when some were given.
    pub monitor_accuracy: Option<f64>,
    /// Wall seconds of training from the start to the end of this epoch, the time spent
    /// scoring the monitored images left out; unknown (`None`) in files saved before it was
    /// recorded.
    pub seconds: Option<f64>,
}

/// The shape of one layer's weight matrix (`fan_in × fan_out`, row-major) and bias.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LayerShape {
    fan_in: usize,
    fan_out: usize,
}

impl LayerShape {
    fn new(fan_in: usize, fan_out: usize) -> Self {
        LayerShape { fan_in, fan_out }
    }
}

/// One layer's parameters: the convolutions as `(9 · channels in) × filters` matrices over
/// 3 × 3 patches (rows ordered by kernel row, kernel column, channel), the dense layers as
/// `inputs × units`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layer {
    shape: LayerShape,
    pub(crate) weight: Vec<f32>,
    /// Added to each output; with batch normalisation, after normalising (its shift, β).
    pub(crate) bias: Vec<f32>,
    /// Batch normalisation's scale of each output (γ); empty for a layer not normalised.
    pub(crate) scale: Vec<f32>,
}

impl Layer {
    fn zeros(shape: LayerShape) -> Self {
        Layer {
            shape,
            weight: vec![0.0; shape.fan_in * shape.fan_out],
            bias: vec![0.0; shape.fan_out],
            scale: Vec::new(),
        }
    }

    /// Zeros in the shape of `self`, scale included: for gradients and Adam's moments.
    fn zeros_like(&self) -> Self {
        Layer {
            scale: vec![0.0; self.scale.len()],
            ..Layer::zeros(self.shape)
        }
    }

    /// Whether batch normalisation follows the layer's product.
    fn normalised(&self) -> bool {
        !self.scale.is_empty()
    }

    /// Every parameter: weights, biases, scales.
    fn values(&self) -> impl Iterator<Item = &f32> {
        self.weight.iter().chain(&self.bias).chain(&self.scale)
    }

    /// Zeroes the biases and scales, which gradients are summed into; the weights' gradient
    /// is written whole by [`dense_backward`], so they are left as they are.
    fn clear_sums(&mut self) {
        self.bias.fill(0.0);
        self.scale.fill(0.0);
    }

    fn add(&mut self, other: &Layer) {
        for (a, b) in [
            (&mut self.weight, &other.weight),
            (&mut self.bias, &other.bias),
            (&mut self.scale, &other.scale),
        ] {
            a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
        }
    }

    fn weight(&self) -> MatRef<'_, f32> {
        MatRef::from_row_major_slice(&self.weight, self.shape.fan_in, self.shape.fan_out)
    }
}

/// The most convolutions a network has (batch normalisation follows each when asked; they
/// are its first layers).
const MAX_CONVOLUTIONS: usize = 3;

/// The starting layers for `classes` classes: weights He-uniform from the seed, biases zero,
/// scales one.
fn initial_layers(params: &CnnParams, classes: usize) -> Vec<Layer> {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let shapes = params.layers(classes);
    shapes
        .iter()
        .enumerate()
        .map(|(i, &shape)| {
            let gain = if i + 1 == shapes.len() { 3.0 } else { 6.0 };
            let r = (gain / shape.fan_in as f32).sqrt();
            let mut layer = Layer::zeros(shape);
            layer
                .weight
                .iter_mut()
                .for_each(|w| *w = rng.gen_range(-r..r));
            if params.normalises(i) {
                layer.scale = vec![1.0; shape.fan_out];
            }
            layer
        })
        .collect()
}

/// A channel statistic per output of a normalised layer: the mean and variance of its
/// product over a shard's pixels, or their running averages over training.
#[derive(Debug, Clone, Default, PartialEq)]
struct Moments {
    mean: Vec<f32>,
    var: Vec<f32>,
}

impl Moments {
    /// The statistics a network starts from: mean zero, variance one.
    fn neutral(channels: usize) -> Self {
        Moments {
            mean: vec![0.0; channels],
            var: vec![1.0; channels],
        }
    }

    fn scale(&mut self, by: f32) {
        self.mean
            .iter_mut()
            .chain(&mut self.var)
            .for_each(|v| *v *= by);
    }

    fn add_scaled(&mut self, other: &Moments, by: f32) {
        let pairs = self.mean.iter_mut().zip(&other.mean);
        pairs
            .chain(self.var.iter_mut().zip(&other.var))
            .for_each(|(v, o)| *v += by * o);
    }
}

/// A trained convolutional network.
#[derive(Debug, Clone, PartialEq)]
pub struct Cnn {
    params: CnnParams,
    mean: f32,
    sd: f32,
    layers: Vec<Layer>,
    /// Running channel statistics of each normalised convolution (none without batch
    /// normalisation).
    moments: Vec<Moments>,
}

/// Standardised images, gathered shard by shard.
struct Inputs<'a> {
    images: ArrayView2<'a, u8>,
    mean: f32,
    sd: f32,
}

impl<'a> Inputs<'a> {
    fn new(images: ArrayView2<'a, u8>, mean: f32, sd: f32) -> Self {
        Inputs { images, mean, sd }
    }

    /// A pixel (0–255) on the 0–1 scale, standardised with the training images' mean and
    /// standard deviation.
    fn standardiser(&self) -> impl Fn(u8) -> f32 {
        let (mean, scale) = (self.mean, 1.0 / self.sd);
        move |p| (f32::from(p) / 255.0 - mean) * scale
    }

    /// The standardised pixels of `rows`, one image after another, into `x`.
    fn gather(&self, rows: impl Iterator<Item = usize>, x: &mut Vec<f32>) {
        let standardise = self.standardiser();
        x.clear();
        for r in rows {
            x.extend(self.images.row(r).iter().map(|&p| standardise(p)));
        }
    }

    /// Like [`Inputs::gather`], each image augmented as `p` asks: moved by up to `p.shift`
    /// pixels in each direction, mirrored with probability ½ when `p.flip`, and a rectangle
    /// erased with probability `p.erase` ([`erase_rectangle`]). Per image, the vertical and
    /// horizontal shifts, the coin of the flip and then the erasing's draws come from `rng`.
    /// Pixels moved in from outside are background (0).
    fn gather_augmented(
        &self,
        rows: &[usize],
        x: &mut Vec<f32>,
        p: &CnnParams,
        rng: &mut ChaCha8Rng,
    ) {
        let standardise = self.standardiser();
        let background = standardise(0);
        let (s, flip) = (p.shift as isize, p.flip);
        x.clear();
        for &r in rows {
            let (dy, dx) = if s > 0 {
                (rng.gen_range(-s..=s), rng.gen_range(-s..=s))
            } else {
                (0, 0)
            };
            let mirror = flip && rng.gen::<bool>();
            let image = self.images.row(r);
            for y in 0..SIDE {
                for x0 in 0..SIDE {
                    x.push(match source_pixel(y, x0, dy, dx, mirror) {
                        Some(i) => standardise(image[i]),
                        None => background,
                    });
                }
            }
            if p.erase > 0.0 && rng.gen::<f32>() < p.erase {
                let start = x.len() - PIXELS;
                erase_rectangle(&mut x[start..], rng);
            }
        }
    }
}

/// Random erasing's rectangle: sets to 0 (the training images' mean, once standardised) a
/// rectangle of the 28 × 28 `image` covering 2–40% of it, the ratio of its height to its width
/// between 0.3 and 1/0.3 (uniform on a log scale), placed uniformly; drawn again, at most ten
/// times, while it does not fit, and left out if none does.
fn erase_rectangle(image: &mut [f32], rng: &mut ChaCha8Rng) {
    const AREA: std::ops::Range<f32> = 0.02..0.4;
    const LOG_RATIO: f32 = 1.203_972_8; // ln(1/0.3)
    for _ in 0..10 {
        let area = rng.gen_range(AREA) * PIXELS as f32;
        let ratio = rng.gen_range(-LOG_RATIO..LOG_RATIO).exp();
        let h = (area * ratio).sqrt().round() as usize;
        let w = (area / ratio).sqrt().round() as usize;
        if (1..=SIDE).contains(&h) && (1..=SIDE).contains(&w) {
            let (y0, x0) = (rng.gen_range(0..=SIDE - h), rng.gen_range(0..=SIDE - w));
            for row in image.chunks_exact_mut(SIDE).skip(y0).take(h) {
                row[x0..x0 + w].fill(0.0);
            }
            return;
        }
    }
}

/// An augmented copy of a 28 × 28 image is the image moved `-dy` rows down and `-dx` columns
/// right, then mirrored left to right when `mirrored`. This is the pixel of the image that the
/// copy shows at row `y`, column `x`: row `y + dy`, column `c + dx` where `c` is `x`, or
/// `SIDE − 1 − x` when mirrored; `None` where that falls outside the image (the copy shows
/// background there).
fn source_pixel(y: usize, x: usize, dy: isize, dx: isize, mirrored: bool) -> Option<usize> {
    let inside = |i: usize, d: isize| usize::try_from(i as isize + d).ok().filter(|&j| j < SIDE);
    let column = if mirrored { SIDE - 1 - x } else { x };
    Some(inside(y, dy)? * SIDE + inside(column, dx)?)
}

/// Each 28 × 28 image of `x`, mirrored left to right when asked, then moved `dy` pixels down
/// and `dx` right (negative: up, left), into `out`; the uncovered border is `background`.
fn move_images(
    x: &[f32],
    dy: isize,
    dx: isize,
    mirrored: bool,
    background: f32,
    out: &mut Vec<f32>,
) {
    // `source_pixel` moves, then mirrors. Mirroring, then moving `dx` right, is moving `dx`
    // left, then mirroring: for mirrored images the column offset keeps its sign.
    let dx = if mirrored { dx } else { -dx };
    out.clear();
    for image in x.chunks_exact(PIXELS) {
        for y in 0..SIDE {
            for x0 in 0..SIDE {
                out.push(source_pixel(y, x0, -dy, dx, mirrored).map_or(background, |i| image[i]));
            }
        }
    }
}

/// Mean and standard deviation of all pixels, on the 0–1 scale.
fn pixel_moments(images: ArrayView2<'_, u8>) -> (f32, f32) {
    let (sum, sq) = images.iter().fold((0u64, 0u64), |(s, q), &p| {
        (s + u64::from(p), q + u64::from(p) * u64::from(p))
    });
    let n = images.len().max(1) as f64;
    let mean = sum as f64 / n / 255.0;
    let var = (sq as f64 / n / (255.0 * 255.0) - mean * mean).max(0.0);
    (mean as f32, (var.sqrt() as f32).max(1e-6))
}

fn check_images(images: ArrayView2<'_, u8>, labels: &[u8]) -> Result<(), ModelError> {
    if images.ncols() != PIXELS {
        return Err(ModelError::InvalidData(format!(
            "a CNN takes {PIXELS} pixels per image, got {}",
            images.ncols()
        )));
    }
    super::check_labels(images.nrows(), labels)
}

/// One shard's buffers: every activation of the forward pass (kept for the backward pass),
/// the gradients flowing back, and the shard's parameter gradients. Reused from step to step,
/// so training allocates nothing after its first mini-batch.
#[derive(Default)]
struct Workspace {
    /// Standardised input images (`b·784`).
    x: Vec<f32>,
    /// 3 × 3 patches of the input (`b·784 × 9`).
    col1: Vec<f32>,
    /// First convolution after ReLU (`b·784 × conv1`).
    a1: Vec<f32>,
    /// Which of the four pooled positions won (`b·196 × conv1`).
    arg1: Vec<u32>,
    /// The pooled first block (`b·196 × conv1`).
    p1: Vec<f32>,
    /// Patches of the pooled first block (`b·196 × 9·conv1`).
    col2: Vec<f32>,
    /// Second convolution after ReLU (`b·196 × conv2`).
    a2: Vec<f32>,
    /// Which of the four pooled positions won (`b·49 × conv2`).
    arg2: Vec<u32>,
    /// Patches of the pooled second block, for a third convolution (`b·49 × 9·conv2`).
    col3: Vec<f32>,
    /// The third convolution after ReLU (`b·49 × conv3`), empty without one.
    a3: Vec<f32>,
    /// The pooled second block, flattened (`b × 49·conv2`).
    p2: Vec<f32>,
    /// The normalised products of the convolutions (`b·784 × conv1`, `b·196 × conv2`), kept
    /// for the backward pass of batch normalisation; empty without it.
    xhat: [Vec<f32>; MAX_CONVOLUTIONS],
    /// This shard's channel statistics of each normalised convolution.
    stats: [Moments; MAX_CONVOLUTIONS],
    /// Dense hidden units after ReLU and dropout (`b × hidden`).
    h: Vec<f32>,
    /// The dropout factor of each hidden unit (0 or `1/(1-p)`), empty without dropout.
    keep: Vec<f32>,
    /// Class scores (`b × classes`), then their gradient.
    logits: Vec<f32>,
    /// Gradients flowing back through the layers, one buffer for each activation they are the
    /// gradient of (and for the patches of the second and third convolutions): a buffer that
    /// served several sizes would be grown, and zero-filled, every step.
    d_h: Vec<f32>,
    d_a3: Vec<f32>,
    d_col3: Vec<f32>,
    d_p2: Vec<f32>,
    d_a2: Vec<f32>,
    d_col2: Vec<f32>,
    d_p1: Vec<f32>,
    d_a1: Vec<f32>,
    /// This shard's parameter gradients.
    grads: Vec<Layer>,
    /// This shard's summed cross-entropy.
    loss: f64,
    /// This shard's correct predictions.
    correct: usize,
}

/// What a shard's gradient step leaves behind, moved out of the thread's [`Workspace`].
#[derive(Default)]
struct ShardResult {
    /// The shard's parameter gradients.
    grads: Vec<Layer>,
    /// Its channel statistics of each normalised convolution.
    stats: [Moments; MAX_CONVOLUTIONS],
    /// Its summed cross-entropy.
    loss: f64,
    /// Its correct predictions.
    correct: usize,
}

impl ShardResult {
    /// Takes the shard's results from `ws`, leaving it this slot's old buffers to overwrite
    /// (a gradient step writes every weight gradient and clears the sums before adding).
    fn take_from(&mut self, ws: &mut Workspace) {
        std::mem::swap(&mut self.grads, &mut ws.grads);
        std::mem::swap(&mut self.stats, &mut ws.stats);
        self.loss = ws.loss;
        self.correct = ws.correct;
    }
}

impl Cnn {
    /// The network before training: [`initial_layers`] for `classes` classes, neutral running
    /// statistics, and the training images' pixel `mean` and `sd`.
    fn initial(params: CnnParams, classes: usize, mean: f32, sd: f32) -> Self {
        let layers = initial_layers(&params, classes);
        let moments = layers
            .iter()
            .filter(|l| l.normalised())
            .map(|l| Moments::neutral(l.shape.fan_out))
            .collect();
        Cnn {
            params,
            mean,
            sd,
            layers,
            moments,
        }
    }

    /// Moves the running statistics towards the mini-batch's: the mean over its shards,
    /// taken in shard order.
    fn update_moments(&mut self, shards: &[ShardResult]) {
        let share = NORM_MOMENTUM / shards.len() as f32;
        for (i, running) in self.moments.iter_mut().enumerate() {
            running.scale(1.0 - NORM_MOMENTUM);
            for ws in shards {
                running.add_scaled(&ws.stats[i], share);
            }
        }
    }

    /// The parameters it was trained with.
    pub fn params(&self) -> &CnnParams {
        &self.params
    }

    /// How many classes it tells apart (the output layer's width).
    pub fn classes(&self) -> usize {
        self.layers.last().expect("a CNN has layers").shape.fan_out
    }

    /// Forward pass over the `b` standardised images in `ws.x`. With a generator it is a
    /// training pass: batch normalisation uses the shard's own statistics (recorded in
    /// `ws.stats`) and dropout draws its masks from the generator.
    fn forward(&self, ws: &mut Workspace, b: usize, training: Option<&mut ChaCha8Rng>) {
        let p = &self.params;
        let (s, h2, h4) = (SIDE, SIDE / 2, SIDE / 4);
        let [l1, l2] = [&self.layers[0], &self.layers[1]];
        let k = p.convolutions();
        let [l3, l4] = [&self.layers[k], &self.layers[k + 1]];
        let train = training.is_some();

        im2col(&ws.x, b, s, s, 1, &mut ws.col1);
        dense(&ws.col1, b * s * s, l1, &mut ws.a1);
        self.normalise_relu(0, &mut ws.a1, train, &mut ws.xhat[0], &mut ws.stats[0]);
        max_pool(&ws.a1, b, s, s, p.conv1, &mut ws.p1, &mut ws.arg1);

        im2col(&ws.p1, b, h2, h2, p.conv1, &mut ws.col2);
        dense(&ws.col2, b * h2 * h2, l2, &mut ws.a2);
        self.normalise_relu(1, &mut ws.a2, train, &mut ws.xhat[1], &mut ws.stats[1]);
        max_pool(&ws.a2, b, h2, h2, p.conv2, &mut ws.p2, &mut ws.arg2);

        let maps = if p.conv3 > 0 {
            im2col(&ws.p2, b, h4, h4, p.conv2, &mut ws.col3);
            dense(&ws.col3, b * h4 * h4, &self.layers[2], &mut ws.a3);
            self.normalise_relu(2, &mut ws.a3, train, &mut ws.xhat[2], &mut ws.stats[2]);
            &ws.a3
        } else {
            &ws.p2
        };
        dense(maps, b, l3, &mut ws.h);
        relu(&mut ws.h);
        ws.keep.clear();
        if let Some(rng) = training.filter(|_| p.dropout > 0.0) {
            let kept = 1.0 / (1.0 - p.dropout);
            let drop = p.dropout;
            ws.keep
                .extend((0..ws.h.len()).map(|_| if rng.gen::<f32>() < drop { 0.0 } else { kept }));
            ws.h.iter_mut().zip(&ws.keep).for_each(|(v, k)| *v *= k);
        }
        dense(&ws.h, b, l4, &mut ws.logits);
    }

    /// Batch normalisation of convolution `i`'s product `z` (its bias not yet added), when the
    /// layer is normalised: in training with the rows' own statistics (kept in `stats`, the
    /// normalised values in `xhat`), otherwise with the running ones; then the layer's scale
    /// and bias; then, normalised or not, ReLU (in the same pass over `z` when normalised).
    fn normalise_relu(
        &self,
        i: usize,
        z: &mut [f32],
        train: bool,
        xhat: &mut Vec<f32>,
        stats: &mut Moments,
    ) {
        let layer = &self.layers[i];
        if !layer.normalised() {
            return relu(z);
        }
        if train {
            batch_norm(z, layer, xhat, stats, true);
        } else {
            let m = &self.moments[i];
            let c = layer.shape.fan_out;
            let (mul, add): (Vec<f32>, Vec<f32>) = (0..c)
                .map(|k| {
                    let mul = layer.scale[k] / (m.var[k] + NORM_EPSILON).sqrt();
                    (mul, layer.bias[k] - m.mean[k] * mul)
                })
                .unzip();
            for row in z.chunks_exact_mut(c) {
                for ((v, m), a) in row.iter_mut().zip(&mul).zip(&add) {
                    *v = (*v * m + a).max(0.0);
                }
            }
        }
    }

    /// Writes to `ws.grads` the gradient of the batch's mean cross-entropy contributed by the
    /// images `rows`, and records their summed loss and correct predictions.
    fn shard_gradient(
        &self,
        ws: &mut Workspace,
        inputs: &Inputs<'_>,
        rows: &[usize],
        labels: &[u8],
        batch_len: usize,
        masks: &mut ChaCha8Rng,
    ) {
        let p = &self.params;
        let b = rows.len();
        let (s, h2, h4) = (SIDE, SIDE / 2, SIDE / 4);
        if p.shift > 0 || p.flip || p.erase > 0.0 {
            inputs.gather_augmented(rows, &mut ws.x, p, masks);
        } else {
            inputs.gather(rows.iter().copied(), &mut ws.x);
        }
        self.forward(ws, b, Some(masks));
        if ws.grads.is_empty() {
            ws.grads = self.layers.iter().map(Layer::zeros_like).collect();
        }
        ws.grads.iter_mut().for_each(Layer::clear_sums);

        // Softmax cross-entropy: d(mean loss)/d(logits) = (softmax − target) / batch size,
        // the target one-hot or, with label smoothing ε, 1 − ε + ε/k on the class and ε/k on
        // each of the k classes.
        let (mut loss, mut correct) = (0.0f64, 0usize);
        let scale = 1.0 / batch_len as f32;
        let (classes, eps) = (self.classes(), p.label_smoothing);
        for (row, &r) in ws.logits.chunks_exact_mut(classes).zip(rows) {
            let label = usize::from(labels[r]);
            let best = argmax(row.iter());
            correct += usize::from(best == label);
            let m = row[best];
            let sum: f32 = row.iter().map(|v| (v - m).exp()).sum();
            let log_sum = sum.ln() + m;
            if eps > 0.0 {
                let mean_logit = row.iter().sum::<f32>() / classes as f32;
                let smoothed = (1.0 - eps) * (log_sum - row[label]) + eps * (log_sum - mean_logit);
                loss += f64::from(smoothed);
                let spread = eps / classes as f32 * scale;
                row.iter_mut()
                    .for_each(|v| *v = (*v - m).exp() / sum * scale - spread);
                row[label] -= (1.0 - eps) * scale;
            } else {
                loss += f64::from(log_sum - row[label]);
                row.iter_mut()
                    .for_each(|v| *v = (*v - m).exp() / sum * scale);
                row[label] -= scale;
            }
        }
        ws.loss = loss;
        ws.correct = correct;

        let k = p.convolutions();
        let [l1, l2] = [&self.layers[0], &self.layers[1]];
        let [l3, l4] = [&self.layers[k], &self.layers[k + 1]];
        // Out of the workspace while its buffers are borrowed; put back at the end.
        let mut grads = std::mem::take(&mut ws.grads);
        let (convolutions, dense_grads) = grads.split_at_mut(k);
        let [g3, g4] = dense_grads else {
            unreachable!("a CNN ends in two dense layers")
        };
        dense_backward(&ws.h, &ws.logits, b, l4, g4, Some(&mut ws.d_h));
        if !ws.keep.is_empty() {
            ws.d_h.iter_mut().zip(&ws.keep).for_each(|(g, k)| *g *= k);
        }
        relu_backward(&mut ws.d_h, &ws.h);
        if p.conv3 > 0 {
            let (l, g) = (&self.layers[2], &mut convolutions[2]);
            dense_backward(&ws.a3, &ws.d_h, b, l3, g3, Some(&mut ws.d_a3));
            relu_backward(&mut ws.d_a3, &ws.a3);
            if l.normalised() {
                batch_norm_backward(&mut ws.d_a3, l, &ws.xhat[2], &ws.stats[2], g);
            }
            dense_backward(&ws.col3, &ws.d_a3, b * h4 * h4, l, g, Some(&mut ws.d_col3));
            col2im(&ws.d_col3, b, h4, h4, p.conv2, &mut ws.d_p2);
        } else {
            dense_backward(&ws.p2, &ws.d_h, b, l3, g3, Some(&mut ws.d_p2));
        }
        let [g1, g2, ..] = convolutions else {
            unreachable!("a CNN starts with two convolutions")
        };
        max_pool_relu_backward(&ws.d_p2, &ws.arg2, &ws.a2, b, h2, h2, p.conv2, &mut ws.d_a2);
        if l2.normalised() {
            batch_norm_backward(&mut ws.d_a2, l2, &ws.xhat[1], &ws.stats[1], g2);
        }
        let rows2 = b * h2 * h2;
        dense_backward(&ws.col2, &ws.d_a2, rows2, l2, g2, Some(&mut ws.d_col2));
        col2im(&ws.d_col2, b, h2, h2, p.conv1, &mut ws.d_p1);
        max_pool_relu_backward(&ws.d_p1, &ws.arg1, &ws.a1, b, s, s, p.conv1, &mut ws.d_a1);
        if l1.normalised() {
            batch_norm_backward(&mut ws.d_a1, l1, &ws.xhat[0], &ws.stats[0], g1);
        }
        dense_backward(&ws.col1, &ws.d_a1, b * s * s, l1, g1, None);
        ws.grads = grads;
    }

    /// Class scores (`n × classes`) of images given as pixels, in parallel chunks; for a
    /// network trained with flips, the mean of each image's scores and its mirror image's.
    fn logits(&self, images: ArrayView2<'_, u8>) -> Vec<f32> {
        self.logits_moved(images, &[(0, 0)])
    }

    /// Class scores (`n × classes`) averaged over each image moved by each of `moves`
    /// ((down, right) in pixels, the uncovered border background) and, for a network trained
    /// with flips, over the mirror image of each.
    fn logits_moved(&self, images: ArrayView2<'_, u8>, moves: &[(isize, isize)]) -> Vec<f32> {
        assert_eq!(images.ncols(), PIXELS, "a CNN takes 28 × 28 images");
        let inputs = Inputs::new(images, self.mean, self.sd);
        let background = inputs.standardiser()(0);
        let rows: Vec<usize> = (0..images.nrows()).collect();
        let mirrors: &[bool] = if self.params.flip {
            &[false, true]
        } else {
            &[false]
        };
        let views = (moves.len() * mirrors.len()) as f32;
        let chunks: Vec<Vec<f32>> = rows
            .par_chunks(4 * SHARD)
            .map_init(
                || (Workspace::default(), Vec::new()),
                |(ws, original), chunk| {
                    inputs.gather(chunk.iter().copied(), original);
                    let mut sum: Vec<f32> = Vec::new();
                    for &(dy, dx) in moves {
                        for &mirrored in mirrors {
                            move_images(original, dy, dx, mirrored, background, &mut ws.x);
                            self.forward(ws, chunk.len(), None);
                            if sum.is_empty() {
                                sum.clone_from(&ws.logits);
                            } else {
                                sum.iter_mut().zip(&ws.logits).for_each(|(a, b)| *a += b);
                            }
                        }
                    }
                    if views > 1.0 {
                        let scale = 1.0 / views;
                        sum.iter_mut().for_each(|a| *a *= scale);
                    }
                    sum
                },
            )
            .collect();
        chunks.concat()
    }

    /// The predicted label of each image (`n × 784`, pixels 0–255) from its class scores
    /// averaged over the image moved by each of `moves` ((down, right) in pixels; `(0, 0)` is
    /// the image itself) and, for a network trained with flips, their mirror images:
    /// test-time augmentation. [`Cnn::predict_images`] is `moves = [(0, 0)]`.
    pub fn predict_images_moved(
        &self,
        images: ArrayView2<'_, u8>,
        moves: &[(isize, isize)],
    ) -> Vec<u8> {
        self.logits_moved(images, moves)
            .chunks_exact(self.classes())
            .map(|r| argmax(r) as u8)
            .collect()
    }

    /// Class probabilities (`n × classes`) of images given as `n × 784` pixels 0–255.
    pub fn predict_proba_images(&self, images: ArrayView2<'_, u8>) -> Array2<f64> {
        let mut z = Array2::from_shape_vec(
            (images.nrows(), self.classes()),
            self.logits(images).into_iter().map(f64::from).collect(),
        )
        .expect("one score per class and image");
        super::softmax_rows(&mut z);
        z
    }

    /// The predicted label of each image (`n × 784`, pixels 0–255).
    pub fn predict_images(&self, images: ArrayView2<'_, u8>) -> Vec<u8> {
        self.logits(images)
            .chunks_exact(self.classes())
            .map(|r| argmax(r) as u8)
            .collect()
    }
}

/// Pixels given as `f64` 0–255 (the [`Fit`] interface), rounded back to bytes.
fn to_pixels(x: ArrayView2<'_, f64>) -> Array2<u8> {
    x.mapv(|v| v.round().clamp(0.0, 255.0) as u8)
}

impl Fit for CnnParams {
    type Model = Cnn;

    /// Fits on rows of 784 pixels, 0–255.
    fn fit(&self, x: ArrayView2<'_, f64>, y: &[u8]) -> Result<Cnn, ModelError> {
        super::check_training(x, y)?;
        let pixels = to_pixels(x);
        self.train(pixels.view(), y, None, |_| {}, || {})
            .map(|(net, _)| net)
    }
}

impl Classifier for Cnn {
    fn predict(&self, x: ArrayView2<'_, f64>) -> Vec<u8> {
        self.predict_images(to_pixels(x).view())
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        Some(self.predict_proba_images(to_pixels(x).view()))
    }
}

// ---------------------------------------------------------------------------------------------
// The layers' arithmetic on row-major buffers.

fn mat(data: &[f32], rows: usize, cols: usize) -> MatRef<'_, f32> {
    MatRef::from_row_major_slice(data, rows, cols)
}

fn mat_mut(data: &mut [f32], rows: usize, cols: usize) -> MatMut<'_, f32> {
    MatMut::from_row_major_slice_mut(data, rows, cols)
}

/// `buf` at length `len`, its contents left as they were: for outputs written in full.
fn sized<T: Copy + Default>(buf: &mut Vec<T>, len: usize) -> &mut [T] {
    buf.resize(len, T::default());
    buf
}

/// `out = x · W + b` for `rows` rows of `x`; for a normalised layer `x · W` alone (its bias is
/// added after normalising).
fn dense(x: &[f32], rows: usize, layer: &Layer, out: &mut Vec<f32>) {
    let LayerShape { fan_in, fan_out } = layer.shape;
    linalg::matmul_seq(
        mat_mut(sized(out, rows * fan_out), rows, fan_out),
        Accum::Replace,
        mat(x, rows, fan_in),
        layer.weight(),
    );
    if !layer.normalised() {
        for row in out.chunks_exact_mut(fan_out) {
            row.iter_mut().zip(&layer.bias).for_each(|(o, b)| *o += b);
        }
    }
}

/// Writes the gradient of `layer`'s weights to `grad` and adds its bias's to `grad`'s, given
/// its input `x` and the gradient `dy` of its output; writes the gradient of its input to `dx`
/// when given. For a normalised layer `dy` is the gradient of `x · W`, and the bias's gradient
/// comes from [`batch_norm_backward`].
fn dense_backward(
    x: &[f32],
    dy: &[f32],
    rows: usize,
    layer: &Layer,
    grad: &mut Layer,
    dx: Option<&mut Vec<f32>>,
) {
    let LayerShape { fan_in, fan_out } = layer.shape;
    linalg::matmul_seq(
        mat_mut(&mut grad.weight, fan_in, fan_out),
        Accum::Replace,
        mat(x, rows, fan_in).transpose(),
        mat(dy, rows, fan_out),
    );
    if !layer.normalised() {
        for row in dy.chunks_exact(fan_out) {
            grad.bias.iter_mut().zip(row).for_each(|(g, d)| *g += d);
        }
    }
    if let Some(dx) = dx {
        linalg::matmul_seq(
            mat_mut(sized(dx, rows * fan_in), rows, fan_in),
            Accum::Replace,
            mat(dy, rows, fan_out),
            layer.weight().transpose(),
        );
    }
}

/// Rows summed in `f32` before their sum joins an `f64` total: short enough to stay exact
/// to a few units in the last place, long enough for the inner loops to vectorise.
const SUM_BLOCK: usize = 64;

/// The sums over the rows of `x` (`rows × c`) of `f(value, column)`, channel by channel: in
/// `f32` blocks of [`SUM_BLOCK`] rows, the blocks added in `f64`, always in the same order.
fn column_sums(x: &[f32], c: usize, mut f: impl FnMut(&[f32], &mut [f32])) -> Vec<f64> {
    let (mut total, mut block) = (vec![0.0f64; c], vec![0.0f32; c]);
    for rows in x.chunks(SUM_BLOCK * c) {
        block.fill(0.0);
        rows.chunks_exact(c).for_each(|row| f(row, &mut block));
        total
            .iter_mut()
            .zip(&block)
            .for_each(|(t, &b)| *t += f64::from(b));
    }
    total
}

/// The sums over the rows of `d` and of `d · x̂` (`x̂` = `xhat`, the same shape), channel by
/// channel, in one pass: each in the blocks and order of [`column_sums`].
fn column_sums_of_d_and_dxhat(d: &[f32], xhat: &[f32], c: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut sum_d, mut sum_dx) = (vec![0.0f64; c], vec![0.0f64; c]);
    let (mut block_d, mut block_dx) = (vec![0.0f32; c], vec![0.0f32; c]);
    for (rows, hats) in d.chunks(SUM_BLOCK * c).zip(xhat.chunks(SUM_BLOCK * c)) {
        block_d.fill(0.0);
        block_dx.fill(0.0);
        for (row, hat) in rows.chunks_exact(c).zip(hats.chunks_exact(c)) {
            let blocks = block_d.iter_mut().zip(block_dx.iter_mut());
            for ((a, b), (v, h)) in blocks.zip(row.iter().zip(hat)) {
                *a += v;
                *b += v * h;
            }
        }
        for (total, block) in [(&mut sum_d, &block_d), (&mut sum_dx, &block_dx)] {
            total
                .iter_mut()
                .zip(block)
                .for_each(|(t, &b)| *t += f64::from(b));
        }
    }
    (sum_d, sum_dx)
}

/// Batch normalisation in training: each channel of `z` (`rows × channels`) standardised with
/// its own mean and variance over the rows (kept in `stats`, the standardised values in
/// `xhat`), then `layer`'s scale and bias applied, then ReLU when `relu`, in place.
fn batch_norm(z: &mut [f32], layer: &Layer, xhat: &mut Vec<f32>, stats: &mut Moments, relu: bool) {
    let c = layer.shape.fan_out;
    let rows = (z.len() / c) as f64;
    let sum = column_sums(z, c, |row, acc| {
        acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
    });
    let mean: Vec<f32> = sum.iter().map(|s| (s / rows) as f32).collect();
    let squares = column_sums(z, c, |row, acc| {
        for ((a, v), m) in acc.iter_mut().zip(row).zip(&mean) {
            *a += (v - m) * (v - m);
        }
    });
    let var: Vec<f32> = squares.iter().map(|s| (s / rows) as f32).collect();
    let inv: Vec<f32> = var
        .iter()
        .map(|v| 1.0 / (v + NORM_EPSILON).sqrt())
        .collect();
    let xhat = sized(xhat, z.len());
    for (row, hat) in z.chunks_exact_mut(c).zip(xhat.chunks_exact_mut(c)) {
        let norm = mean.iter().zip(&inv);
        let affine = layer.scale.iter().zip(&layer.bias);
        for (((v, h), (m, i)), (g, b)) in row.iter_mut().zip(hat).zip(norm).zip(affine) {
            *h = (*v - m) * i;
            let y = *h * g + b;
            *v = if relu { y.max(0.0) } else { y };
        }
    }
    *stats = Moments { mean, var };
}

/// The backward pass of [`batch_norm`]: given the gradient `d` of its output (in place), adds
/// the gradients of the scale and bias to `grad` and leaves in `d` the gradient of its input:
/// with `x̂` the standardised values, `γ/σ · (d − mean(d) − x̂ · mean(d · x̂))`, channel by
/// channel, the means over the rows.
fn batch_norm_backward(
    d: &mut [f32],
    layer: &Layer,
    xhat: &[f32],
    stats: &Moments,
    grad: &mut Layer,
) {
    let c = layer.shape.fan_out;
    let rows = (d.len() / c) as f64;
    let (sum_d, sum_dx) = column_sums_of_d_and_dxhat(d, xhat, c);
    let factor: Vec<f32> = layer
        .scale
        .iter()
        .zip(&stats.var)
        .map(|(g, v)| g / (v + NORM_EPSILON).sqrt())
        .collect();
    let mean_d: Vec<f32> = sum_d.iter().map(|s| (s / rows) as f32).collect();
    let mean_dx: Vec<f32> = sum_dx.iter().map(|s| (s / rows) as f32).collect();
    for ((b, s), (gs, sx)) in grad
        .bias
        .iter_mut()
        .zip(&sum_d)
        .zip(grad.scale.iter_mut().zip(&sum_dx))
    {
        *b += *s as f32;
        *gs += *sx as f32;
    }
    for (row, hat) in d.chunks_exact_mut(c).zip(xhat.chunks_exact(c)) {
        let means = mean_d.iter().zip(&mean_dx);
        for (((v, h), f), (md, mx)) in row.iter_mut().zip(hat).zip(&factor).zip(means) {
            *v = f * (*v - md - h * mx);
        }
    }
}

fn relu(x: &mut [f32]) {
    x.iter_mut().for_each(|v| *v = v.max(0.0));
}

/// Zeroes the gradient where the (post-ReLU) output was not positive.
fn relu_backward(d: &mut [f32], out: &[f32]) {
    // A select rather than a branch, so that it compiles to vector compares and masks.
    d.iter_mut()
        .zip(out)
        .for_each(|(g, &y)| *g = if y <= 0.0 { 0.0 } else { *g });
}

/// The source row (or column) of kernel offset `k` (0, 1, 2) at `i` on a side of `n`, with zero
/// padding 1: `None` where the kernel hangs over the edge.
fn tap(i: usize, k: usize, n: usize) -> Option<usize> {
    (i + k).checked_sub(1).filter(|&j| j < n)
}

/// The 3 × 3 patches (zero padding 1) of `b` images `h × w × c`: one row of `9c` per pixel.
///
/// A patch row holds three runs of `3c` values, one per kernel row, and away from the left
/// and right edges each run is a contiguous stretch of the image: it is copied whole. A
/// single channel takes [`im2col_single`], which copies value by value from a padded image.
fn im2col(x: &[f32], b: usize, h: usize, w: usize, c: usize, col: &mut Vec<f32>) {
    if c == 1 {
        return im2col_single(x, b, h, w, col);
    }
    let col = sized(col, b * h * w * 9 * c);
    for (pixel, row) in col.chunks_exact_mut(9 * c).enumerate() {
        let (n, y, x0) = (pixel / (h * w), pixel / w % h, pixel % w);
        for (ky, run) in row.chunks_exact_mut(3 * c).enumerate() {
            let Some(sy) = tap(y, ky, h) else {
                run.fill(0.0);
                continue;
            };
            let line = &x[(n * h + sy) * w * c..][..w * c];
            if x0 >= 1 && x0 + 1 < w {
                run.copy_from_slice(&line[(x0 - 1) * c..][..3 * c]);
                continue;
            }
            for (kx, patch) in run.chunks_exact_mut(c).enumerate() {
                match tap(x0, kx, w) {
                    Some(sx) => patch.copy_from_slice(&line[sx * c..][..c]),
                    None => patch.fill(0.0),
                }
            }
        }
    }
}

/// [`im2col`] of single-channel images: each image padded with zeros once, then every patch
/// read from the padded image without a test for the edges (a copy of three values is too
/// short for `memcpy`, which a loop over them would become).
fn im2col_single(x: &[f32], b: usize, h: usize, w: usize, col: &mut Vec<f32>) {
    let col = sized(col, b * h * w * 9);
    let pw = w + 2;
    let mut padded = vec![0.0f32; (h + 2) * pw];
    for (image, rows) in x.chunks_exact(h * w).zip(col.chunks_exact_mut(h * w * 9)) {
        for (line, dst) in image
            .chunks_exact(w)
            .zip(padded.chunks_exact_mut(pw).skip(1))
        {
            dst[1..=w].copy_from_slice(line);
        }
        for (pixel, patch) in rows.chunks_exact_mut(9).enumerate() {
            let at = pixel / w * pw + pixel % w;
            let [top, middle, bottom] = [at, at + pw, at + 2 * pw].map(|i| &padded[i..i + 3]);
            patch.copy_from_slice(&[
                top[0], top[1], top[2], middle[0], middle[1], middle[2], bottom[0], bottom[1],
                bottom[2],
            ]);
        }
    }
}

/// The adjoint of [`im2col`]: sums each patch gradient back onto the pixels it came from.
///
/// Written as a gather, pixel by pixel, so that each pixel's sum is formed in registers and
/// stored once, rather than as a scatter over a zeroed image: the terms are added in the
/// order the scatter would add them (the later patch rows first: `ky` and `kx` falling), so
/// the sums are the same to the bit.
///
/// What limits it is memory, not arithmetic: a shard's patch gradients (7 MB for the second
/// convolution) are far larger than a core's L2 cache. On an AMD EPYC with 2 cores (Zen 3,
/// AVX2) this function was 11.7% of the network's training samples (`perf record`); summing
/// 16 channels at a time in registers made that 8.0% but left the total unchanged, and
/// compiling the crate for that CPU (`-C target-cpu=native`, AVX2 for these loops) changed
/// neither the epoch's time nor its loss and accuracies.
fn col2im(col: &[f32], b: usize, h: usize, w: usize, c: usize, x: &mut Vec<f32>) {
    let x = sized(x, b * h * w * c);
    for (pixel, sum) in x.chunks_exact_mut(c).enumerate() {
        let (n, sy, sx) = (pixel / (h * w), pixel / w % h, pixel % w);
        sum.fill(0.0);
        for ky in (0..3).rev() {
            let Some(y) = (sy + 1).checked_sub(ky).filter(|&y| y < h) else {
                continue;
            };
            for kx in (0..3).rev() {
                let Some(x0) = (sx + 1).checked_sub(kx).filter(|&x0| x0 < w) else {
                    continue;
                };
                let patch = &col[((n * h + y) * w + x0) * 9 * c + (ky * 3 + kx) * c..][..c];
                sum.iter_mut().zip(patch).for_each(|(a, g)| *a += g);
            }
        }
    }
}

/// 2 × 2 max-pooling of `b` images `h × w × c` into `out`; `arg` records which of the four
/// positions won (0 top left, 1 top right, 2 bottom left, 3 bottom right; the first on ties).
fn max_pool(
    x: &[f32],
    b: usize,
    h: usize,
    w: usize,
    c: usize,
    out: &mut Vec<f32>,
    arg: &mut Vec<u32>,
) {
    let (ho, wo) = (h / 2, w / 2);
    let out = sized(out, b * ho * wo * c);
    let arg = sized(arg, out.len());
    for (o, (v, a)) in out
        .chunks_exact_mut(c)
        .zip(arg.chunks_exact_mut(c))
        .enumerate()
    {
        let (n, y, x0) = (o / (ho * wo), o / wo % ho, o % wo);
        let top = ((n * h + 2 * y) * w + 2 * x0) * c;
        let bottom = top + w * c;
        let quad = [
            &x[top..top + c],
            &x[top + c..top + 2 * c],
            &x[bottom..bottom + c],
            &x[bottom + c..bottom + 2 * c],
        ];
        // Selects on equal-length slices, no branches: the loop vectorises.
        for ch in 0..c {
            let (mut m, mut k) = (quad[0][ch], 0);
            for (i, q) in (1..).zip(&quad[1..]) {
                let better = q[ch] > m;
                m = if better { q[ch] } else { m };
                k = if better { i } else { k };
            }
            v[ch] = m;
            a[ch] = k;
        }
    }
}

/// The backward pass of [`max_pool`] and of the ReLU before it: routes each pooled gradient
/// back to the position that won, where that position's activation `out` (after ReLU) is
/// positive, and zero everywhere else. Every position of `dx` is written, none twice.
#[allow(clippy::too_many_arguments)]
fn max_pool_relu_backward(
    d: &[f32],
    arg: &[u32],
    out: &[f32],
    b: usize,
    h: usize,
    w: usize,
    c: usize,
    dx: &mut Vec<f32>,
) {
    let (ho, wo) = (h / 2, w / 2);
    let dx = sized(dx, b * h * w * c);
    for (o, (g, a)) in d.chunks_exact(c).zip(arg.chunks_exact(c)).enumerate() {
        let (n, y, x0) = (o / (ho * wo), o / wo % ho, o % wo);
        let top = ((n * h + 2 * y) * w + 2 * x0) * c;
        for (i, at) in [top, top + c, top + w * c, top + w * c + c]
            .into_iter()
            .enumerate()
        {
            let (to, from) = (&mut dx[at..at + c], &out[at..at + c]);
            // Selects, as in relu_backward: the loop vectorises.
            for (((t, &y), &g), &a) in to.iter_mut().zip(from).zip(g).zip(a) {
                *t = if a as usize != i || y <= 0.0 { 0.0 } else { g };
            }
        }
    }
}

/// `x`, or zero where it is subnormal (nonzero and below [`f32::MIN_POSITIVE`]).
///
/// Adam's moments of a parameter whose gradient has stopped (a unit ReLU switched off, a
/// dropped unit) shrink by a constant factor each step, down through the subnormal range, where
/// x86 CPUs take a slow microcode path for every multiplication and division that touches
/// them. On an Intel Xeon (2 cores) that made `Adam::step` 14% of the samples of the section's
/// network in its tenth epoch (`perf record`; 1% with this flush, epochs 3–4) and its 12 epochs
/// 205 s instead of 150 s. A subnormal moment moves a weight by far less than its last bit, so
/// the trained weights are the same bits (checked against the committed ones).
fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

/// Adam's moment estimates, one pair per parameter.
struct Adam {
    m: Vec<Layer>,
    v: Vec<Layer>,
    t: i32,
}

impl Adam {
    const BETA1: f32 = 0.9;
    const BETA2: f32 = 0.999;
    const EPSILON: f32 = 1e-8;

    fn new(layers: &[Layer]) -> Self {
        let zeros = || layers.iter().map(Layer::zeros_like).collect();
        Adam {
            m: zeros(),
            v: zeros(),
            t: 0,
        }
    }

    fn step(&mut self, layers: &mut [Layer], grads: &[Layer], lr: f32) {
        self.t += 1;
        let c1 = 1.0 - Self::BETA1.powi(self.t);
        let c2 = 1.0 - Self::BETA2.powi(self.t);
        let update = |w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
            for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m).zip(v) {
                *m = flush_subnormal(Self::BETA1 * *m + (1.0 - Self::BETA1) * g);
                *v = flush_subnormal(Self::BETA2 * *v + (1.0 - Self::BETA2) * g * g);
                *w -= lr * (*m / c1) / ((*v / c2).sqrt() + Self::EPSILON);
            }
        };
        for (((layer, g), m), v) in layers
            .iter_mut()
            .zip(grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            update(&mut layer.weight, &g.weight, &mut m.weight, &mut v.weight);
            update(&mut layer.bias, &g.bias, &mut m.bias, &mut v.bias);
            update(&mut layer.scale, &g.scale, &mut m.scale, &mut v.scale);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Saved weights.

/// Why saved weights could not be read or written.
#[derive(Debug, Error)]
pub enum WeightsError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a safetensors file of this network.
    #[error("{} is not a saved CNN", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: SavedCnnError,
    },
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] crate::fs::WriteError),
}

/// What is wrong with the bytes of a saved network.
#[derive(Debug, Error)]
pub enum SavedCnnError {
    /// Not a safetensors file at all.
    #[error("not a safetensors file")]
    Safetensors(#[from] safetensors::SafeTensorError),
    /// The settings it records are out of range.
    #[error("the settings it records are invalid")]
    Params(#[from] ModelError),
    /// A safetensors file, but not of this network: what is missing or inconsistent.
    #[error("{0}")]
    Content(String),
}

impl From<String> for SavedCnnError {
    fn from(what: String) -> Self {
        SavedCnnError::Content(what)
    }
}

impl From<&str> for SavedCnnError {
    fn from(what: &str) -> Self {
        SavedCnnError::Content(what.to_string())
    }
}

/// A trained network with what is needed to recognise and report it later: the images it was
/// trained on, its learning curve and its training time. Saved as safetensors: the weights as
/// `f32` tensors, everything else in the header's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedCnn {
    /// The network.
    pub net: Cnn,
    /// How many training images it saw (the first ones of the training split).
    pub train_images: usize,
    /// One record per epoch.
    pub history: Vec<EpochRecord>,
    /// Wall seconds the training took.
    pub train_seconds: f64,
}

/// The metadata value that marks a file as ours, with its version: 2 added batch
/// normalisation, shifts and flips, 3 a third convolution, random erasing and label smoothing.
const FORMAT: &str = "fmnist-cnn/3";
/// Earlier versions, still read: the settings each added are absent from those before it
/// and read as off ([`TrainedCnn::from_safetensors`]).
const FORMATS: [&str; 3] = ["fmnist-cnn/1", "fmnist-cnn/2", FORMAT];

impl TrainedCnn {
    /// The file's bytes: safetensors, little-endian `f32`.
    pub fn to_safetensors(&self) -> Vec<u8> {
        let net = &self.net;
        let names = net.params.layer_names();
        let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (name, layer) in names.iter().zip(&net.layers) {
            let LayerShape { fan_in, fan_out } = layer.shape;
            tensors.push((
                format!("{name}.weight"),
                vec![fan_in, fan_out],
                bytes(&layer.weight),
            ));
            tensors.push((format!("{name}.bias"), vec![fan_out], bytes(&layer.bias)));
        }
        for ((name, layer), moments) in names.iter().zip(&net.layers).zip(&net.moments) {
            let c = layer.shape.fan_out;
            tensors.push((format!("{name}.scale"), vec![c], bytes(&layer.scale)));
            tensors.push((
                format!("{name}.running_mean"),
                vec![c],
                bytes(&moments.mean),
            ));
            tensors.push((format!("{name}.running_var"), vec![c], bytes(&moments.var)));
        }
        tensors.push(("input.mean_sd".into(), vec![2], bytes(&[net.mean, net.sd])));
        let views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(name, shape, data)| {
                let view = TensorView::new(Dtype::F32, shape.clone(), data)
                    .expect("shape and data agree by construction");
                (name.clone(), view)
            })
            .collect();
        let p = &net.params;
        let history: Vec<String> = self
            .history
            .iter()
            .map(|r| {
                let monitor = r.monitor_accuracy.map_or(String::new(), |a| a.to_string());
                let seconds = r.seconds.map_or(String::new(), |s| s.to_string());
                format!(
                    "{},{},{},{monitor},{seconds}",
                    r.epoch, r.loss, r.train_accuracy
                )
            })
            .collect();
        // Collected straight into the map type safetensors takes (hashbrown's without its `std`).
        let metadata = [
            ("format", FORMAT.to_string()),
            ("conv1", p.conv1.to_string()),
            ("conv2", p.conv2.to_string()),
            ("conv3", p.conv3.to_string()),
            ("hidden", p.hidden.to_string()),
            ("dropout", p.dropout.to_string()),
            ("epochs", p.epochs.to_string()),
            ("batch_size", p.batch_size.to_string()),
            ("learning_rate", p.learning_rate.to_string()),
            ("batch_norm", p.batch_norm.to_string()),
            ("shift", p.shift.to_string()),
            ("flip", p.flip.to_string()),
            ("erase", p.erase.to_string()),
            ("label_smoothing", p.label_smoothing.to_string()),
            ("seed", p.seed.to_string()),
            ("train_images", self.train_images.to_string()),
            ("train_seconds", self.train_seconds.to_string()),
            ("history", history.join(";")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        safetensors::serialize(views, Some(metadata)).expect("tensors are valid by construction")
    }

    /// Reads the bytes of a file written by [`TrainedCnn::to_safetensors`]; the error says
    /// what is missing or inconsistent.
    pub fn from_safetensors(bytes: &[u8]) -> Result<TrainedCnn, SavedCnnError> {
        let (_, header) = SafeTensors::read_metadata(bytes)?;
        let meta = header
            .metadata()
            .as_ref()
            .ok_or(SavedCnnError::from("no metadata in the header"))?;
        let get = |key: &str| meta.get(key).ok_or(format!("no {key:?} in the metadata"));
        fn parse<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, String> {
            value
                .parse()
                .map_err(|_| format!("metadata {key:?} = {value:?} does not parse"))
        }
        let format = get("format")?;
        let version = 1 + FORMATS
            .iter()
            .position(|f| f == format)
            .ok_or(format!("format {format:?}, expected {FORMAT:?}"))?;
        let num = |key: &str| -> Result<usize, String> { parse(key, get(key)?) };
        // A setting added in version `since`: off (`before`) in older files, required in newer.
        let added = |key: &str, since: usize, before: &'static str| -> Result<&str, String> {
            if version < since {
                Ok(before)
            } else {
                get(key).map(String::as_str)
            }
        };
        let params = CnnParams {
            conv1: num("conv1")?,
            conv2: num("conv2")?,
            conv3: parse("conv3", added("conv3", 3, "0")?)?,
            hidden: num("hidden")?,
            dropout: parse("dropout", get("dropout")?)?,
            epochs: num("epochs")?,
            batch_size: num("batch_size")?,
            learning_rate: parse("learning_rate", get("learning_rate")?)?,
            batch_norm: parse("batch_norm", added("batch_norm", 2, "false")?)?,
            shift: parse("shift", added("shift", 2, "0")?)?,
            flip: parse("flip", added("flip", 2, "false")?)?,
            erase: parse("erase", added("erase", 3, "0")?)?,
            label_smoothing: parse("label_smoothing", added("label_smoothing", 3, "0")?)?,
            seed: parse("seed", get("seed")?)?,
        };
        params.validate()?;
        let history = get("history")?
            .split(';')
            .filter(|s| !s.is_empty())
            .map(|line| {
                let f: Vec<&str> = line.split(',').collect();
                // The seconds were added in format 3.
                let (epoch, loss, train, monitor, seconds) = match f[..] {
                    [e, l, t, m] if version < 3 => (e, l, t, m, ""),
                    [e, l, t, m, s] if version >= 3 => (e, l, t, m, s),
                    _ => {
                        let fields = if version < 3 { "four" } else { "five" };
                        return Err(format!(
                            "history entry {line:?} does not have {fields} fields"
                        ));
                    }
                };
                // A number of the history: finite and not negative.
                let value = |v: &str| -> Result<f64, String> {
                    let x: f64 = parse("history", v)?;
                    match x.is_finite() && x >= 0.0 {
                        true => Ok(x),
                        false => Err(format!("history entry {line:?} has {v:?}")),
                    }
                };
                let optional = |v: &str| (!v.is_empty()).then(|| value(v)).transpose();
                Ok(EpochRecord {
                    epoch: parse("history", epoch)?,
                    loss: value(loss)?,
                    train_accuracy: value(train)?,
                    monitor_accuracy: optional(monitor)?,
                    seconds: optional(seconds)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let train_seconds: f64 = parse("train_seconds", get("train_seconds")?)?;
        if !(train_seconds.is_finite() && train_seconds >= 0.0) {
            return Err(format!("train_seconds = {train_seconds}").into());
        }

        let tensors = SafeTensors::deserialize(bytes)?;
        // The class count is the output layer's width (files before it varied were all ten).
        let classes = match tensors.tensor("dense2.bias").map(|t| t.shape().to_vec()) {
            Ok(shape) if shape.len() == 1 && shape[0] >= 2 => shape[0],
            Ok(shape) => {
                return Err(format!(
                    "tensor \"dense2.bias\" has shape {shape:?}, expected [classes ≥ 2]"
                )
                .into())
            }
            Err(_) => return Err("no tensor \"dense2.bias\"".into()),
        };
        let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>, String> {
            let t = tensors
                .tensor(name)
                .map_err(|_| format!("no tensor {name:?}"))?;
            if t.dtype() != Dtype::F32 || t.shape() != shape {
                return Err(format!(
                    "tensor {name:?} is {:?} {:?}, expected F32 {shape:?} for {}",
                    t.dtype(),
                    t.shape(),
                    params.describe()
                ));
            }
            Ok(t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let names = params.layer_names();
        let layers = names
            .iter()
            .zip(params.layers(classes))
            .enumerate()
            .map(|(i, (name, shape))| {
                Ok(Layer {
                    shape,
                    weight: read(&format!("{name}.weight"), &[shape.fan_in, shape.fan_out])?,
                    bias: read(&format!("{name}.bias"), &[shape.fan_out])?,
                    scale: match params.normalises(i) {
                        true => read(&format!("{name}.scale"), &[shape.fan_out])?,
                        false => Vec::new(),
                    },
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let moments = names
            .iter()
            .zip(&layers)
            .filter(|(_, l)| l.normalised())
            .map(|(name, l)| {
                let c = [l.shape.fan_out];
                Ok(Moments {
                    mean: read(&format!("{name}.running_mean"), &c)?,
                    var: read(&format!("{name}.running_var"), &c)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let [mean, sd] = read("input.mean_sd", &[2])?[..] else {
            unreachable!("shape checked")
        };
        if layers
            .iter()
            .flat_map(Layer::values)
            .chain(moments.iter().flat_map(|m| m.mean.iter().chain(&m.var)))
            .chain([&mean, &sd])
            .any(|v| !v.is_finite())
            || sd <= 0.0
            || moments.iter().flat_map(|m| &m.var).any(|&v| v < 0.0)
        {
            return Err(
                "non-finite weights, a non-positive standard deviation or a negative variance"
                    .into(),
            );
        }
        Ok(TrainedCnn {
            net: Cnn {
                params,
                mean,
                sd,
                layers,
                moments,
            },
            train_images: num("train_images")?,
            history,
            train_seconds,
        })
    }

    /// Writes the weights to `path`, atomically (creating its directory).
    pub fn save(&self, path: &Path) -> Result<(), WeightsError> {
        crate::fs::write_atomically(path, &self.to_safetensors())?;
        Ok(())
    }

    /// Reads weights saved by [`TrainedCnn::save`].
    pub fn load(path: &Path) -> Result<TrainedCnn, WeightsError> {
        let bytes = std::fs::read(path).map_err(|source| WeightsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        TrainedCnn::from_safetensors(&bytes).map_err(|source| WeightsError::Format {
            path: path.to_path_buf(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::data::N_CLASSES;

    /// A narrow network without batch normalisation, dropout, shifts or flips unless asked
    /// (the squares' class is where they are), for fast tests.
    fn tiny(epochs: usize, seed: u64) -> CnnParams {
        CnnParams {
            conv1: 3,
            conv2: 4,
            conv3: 0,
            hidden: 8,
            dropout: 0.0,
            epochs,
            batch_size: 2 * SHARD,
            learning_rate: 3e-3,
            batch_norm: false,
            shift: 0,
            flip: false,
            erase: 0.0,
            label_smoothing: 0.0,
            seed,
        }
    }

    /// Images whose class is where a bright 6 × 6 square sits, on faint noise.
    fn squares(n: usize, seed: u64) -> (Array2<u8>, Vec<u8>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let labels: Vec<u8> = (0..n).map(|i| (i % N_CLASSES) as u8).collect();
        let mut x = Array2::<u8>::zeros((n, PIXELS));
        for (mut row, &label) in x.rows_mut().into_iter().zip(&labels) {
            row.iter_mut().for_each(|p| *p = rng.gen_range(0..40));
            let (top, left) = (
                2 + 5 * usize::from(label / 5),
                2 + 5 * usize::from(label % 5),
            );
            for y in top..top + 6 {
                for x0 in left..left + 6 {
                    row[y * SIDE + x0] = 200 + rng.gen_range(0..55);
                }
            }
        }
        (x, labels)
    }

    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
    }

    fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(*x) * f64::from(*y))
            .sum()
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), c> = <x, col2im(c)> for every x and c: the backward pass is exact.
        let (b, h, w, c) = (2, 5, 4, 3);
        let x = random(b * h * w * c, 1);
        let g = random(b * h * w * 9 * c, 2);
        let (mut col, mut back) = (Vec::new(), Vec::new());
        im2col(&x, b, h, w, c, &mut col);
        col2im(&g, b, h, w, c, &mut back);
        assert!((dot(&col, &g) - dot(&x, &back)).abs() < 1e-4);
    }

    #[test]
    fn col2im_adds_in_the_order_of_the_scatter_to_the_bit() {
        // The gather against the plain scatter it replaces (patches in pixel order, each
        // onto the pixels it came from), on one channel, a few and many: the same sums, bit
        // for bit, not merely close.
        for c in [1, 3, 16, 32, 40] {
            let (b, h, w) = (2, 5, 4);
            let g = random(b * h * w * 9 * c, 3);
            let mut scatter = vec![0.0f32; b * h * w * c];
            for (pixel, patch) in g.chunks_exact(9 * c).enumerate() {
                let (n, y, x0) = (pixel / (h * w), pixel / w % h, pixel % w);
                for (k, taps) in patch.chunks_exact(c).enumerate() {
                    let (Some(sy), Some(sx)) = (tap(y, k / 3, h), tap(x0, k % 3, w)) else {
                        continue;
                    };
                    let at = ((n * h + sy) * w + sx) * c;
                    scatter[at..at + c]
                        .iter_mut()
                        .zip(taps)
                        .for_each(|(s, t)| *s += t);
                }
            }
            let mut gathered = Vec::new();
            col2im(&g, b, h, w, c, &mut gathered);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&gathered), bits(&scatter), "{c} channels");
        }
    }

    #[test]
    fn im2col_pads_with_zeros() {
        // One 2 × 2 single-channel image: the top-left pixel's patch sees only the image's
        // four pixels, in the bottom-right of its 3 × 3 window.
        let mut col = Vec::new();
        im2col(&[1.0, 2.0, 3.0, 4.0], 1, 2, 2, 1, &mut col);
        assert_eq!(&col[..9], &[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0]);
    }

    #[test]
    fn moved_images_are_shifted_and_mirrored_copies() {
        // One bright pixel at row 10, column 5 of a dark image.
        let mut image = Array2::<u8>::zeros((1, PIXELS));
        image[[0, 10 * SIDE + 5]] = 255;
        let inputs = Inputs::new(image.view(), 0.1, 0.2);
        let (mut plain, mut moved) = (Vec::new(), Vec::new());
        inputs.gather([0].into_iter(), &mut plain);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let still = tiny(1, 1);
        inputs.gather_augmented(&[0], &mut moved, &still, &mut rng);
        assert_eq!(moved, plain, "no shift, no flip: the image as it is");
        let moving = CnnParams {
            shift: 2,
            flip: true,
            ..still
        };

        let background = plain[0];
        let mut places = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            inputs.gather_augmented(&[0], &mut moved, &moving, &mut rng);
            let bright: Vec<usize> = (0..PIXELS).filter(|&i| moved[i] != background).collect();
            let [at] = bright[..] else {
                panic!("one bright pixel, got {bright:?}")
            };
            assert_eq!(moved[at], plain[10 * SIDE + 5]);
            let (y, x) = (at / SIDE, at % SIDE);
            let x = if x > SIDE / 2 { SIDE - 1 - x } else { x };
            assert!(y.abs_diff(10) <= 2 && x.abs_diff(5) <= 2, "at ({y}, {x})");
            places.insert(at);
        }
        // 5 × 5 shifts, each mirrored or not: 50 places, all reached in 1,000 draws (one is
        // missed with probability below 50 · (49/50)^1000 ≈ 8e-8).
        assert_eq!(places.len(), 50);
    }

    #[test]
    fn test_time_moves_mirror_then_move_and_fill_the_border() {
        // Images of 784 distinct values; the border filler is -1.
        let x: Vec<f32> = (0..2 * PIXELS).map(|i| i as f32).collect();
        let at = |v: &[f32], n: usize, y: usize, x: usize| v[n * PIXELS + y * SIDE + x];
        let mut out = Vec::new();
        move_images(&x, 0, 0, false, -1.0, &mut out);
        assert_eq!(out, x);
        move_images(&x, 1, -2, false, -1.0, &mut out);
        assert_eq!(at(&out, 1, 11, 3), at(&x, 1, 10, 5));
        assert_eq!(at(&out, 0, 0, 3), -1.0, "the top row came from outside");
        assert_eq!(at(&out, 0, 5, SIDE - 1), -1.0, "so did the right column");
        assert_eq!(
            out.iter().filter(|&&v| v == -1.0).count(),
            2 * (SIDE + 2 * SIDE - 2)
        );
        move_images(&x, 1, 2, true, -1.0, &mut out);
        assert_eq!(at(&out, 0, 11, 2 + SIDE - 1 - 5), at(&x, 0, 10, 5));
    }

    #[test]
    fn erasing_zeroes_one_rectangle_of_two_to_forty_percent_of_the_image() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (mut corners, mut areas) = (std::collections::BTreeSet::new(), Vec::new());
        for _ in 0..2000 {
            let mut image = vec![1.0f32; PIXELS];
            erase_rectangle(&mut image, &mut rng);
            let zeros: Vec<usize> = (0..PIXELS).filter(|&i| image[i] == 0.0).collect();
            if zeros.is_empty() {
                continue; // ten draws that did not fit: rare, and allowed
            }
            let (rows, cols) = (
                zeros.iter().map(|i| i / SIDE).collect::<Vec<_>>(),
                zeros.iter().map(|i| i % SIDE).collect::<Vec<_>>(),
            );
            let (y0, y1) = (rows[0], *rows.iter().max().unwrap());
            let (x0, x1) = (*cols.iter().min().unwrap(), *cols.iter().max().unwrap());
            let (h, w) = (y1 - y0 + 1, x1 - x0 + 1);
            assert_eq!(zeros.len(), h * w, "one solid rectangle");
            let ratio = h as f32 / w as f32;
            assert!((0.2..=5.0).contains(&ratio), "{h} × {w}");
            corners.insert((y0, x0));
            areas.push(zeros.len());
        }
        assert!(areas.len() > 1900, "{} of 2,000 erased", areas.len());
        // 2% and 40% of 784 pixels are 15.7 and 313.6, give or take the rounding of the sides.
        let (least, most) = (areas.iter().min().unwrap(), areas.iter().max().unwrap());
        assert!(*least >= 10 && *most <= 340, "areas {least}–{most}");
        assert!(
            *least < 25 && *most > 250,
            "areas {least}–{most} span the range"
        );
        assert!(corners.len() > 300, "{} places", corners.len());

        // Through the shard's gatherer: with probability 1 every image loses a rectangle of
        // background-standardised pixels (0), and the rest of it is untouched.
        let (images, _) = squares(4, 3);
        let inputs = Inputs::new(images.view(), 0.3, 0.2);
        let (mut plain, mut erased) = (Vec::new(), Vec::new());
        inputs.gather(0..4, &mut plain);
        let erasing = CnnParams {
            erase: 1.0,
            ..tiny(1, 1)
        };
        inputs.gather_augmented(&[0, 1, 2, 3], &mut erased, &erasing, &mut rng);
        for (p, e) in plain.chunks_exact(PIXELS).zip(erased.chunks_exact(PIXELS)) {
            let changed = p.iter().zip(e).filter(|(a, b)| a != b).count();
            assert!(changed > 0 && e.iter().zip(p).all(|(&e, &p)| e == p || e == 0.0));
        }
    }

    #[test]
    fn batch_norm_standardises_each_channel_then_scales_and_shifts() {
        let rows = 500;
        let z0 = random(rows * 3, 4);
        let mut layer = Layer::zeros(LayerShape::new(1, 3));
        layer.scale = vec![1.0, 2.0, 0.5];
        layer.bias = vec![0.0, -1.0, 3.0];
        let mut z: Vec<f32> = z0
            .iter()
            .enumerate()
            .map(|(i, v)| v * (1 + i % 3) as f32 + 7.0)
            .collect();
        let (mut xhat, mut stats) = (Vec::new(), Moments::default());
        batch_norm(&mut z, &layer, &mut xhat, &mut stats, false);
        for k in 0..3 {
            let channel: Vec<f64> = z.iter().skip(k).step_by(3).map(|&v| f64::from(v)).collect();
            let mean = channel.iter().sum::<f64>() / rows as f64;
            let sd = (channel.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / rows as f64).sqrt();
            assert!(
                (mean - f64::from(layer.bias[k])).abs() < 1e-4,
                "channel {k} mean {mean}"
            );
            assert!(
                (sd - f64::from(layer.scale[k])).abs() < 1e-3,
                "channel {k} sd {sd}"
            );
            assert!(
                (stats.mean[k] - 7.0).abs() < 0.2,
                "recorded mean {}",
                stats.mean[k]
            );
        }
    }

    #[test]
    fn max_pool_routes_the_gradient_to_a_winner_that_relu_left_on() {
        // A 2 × 4 image with two channels: two pooling windows.
        #[rustfmt::skip]
        let x = [
            1.0, 8.0,   2.0, 0.0,   5.0, 1.0,   5.0, 2.0,
            3.0, 0.0,   0.0, 9.0,   4.0, 3.0,   1.0, 1.0,
        ];
        let (mut out, mut arg, mut dx) = (Vec::new(), Vec::new(), Vec::new());
        max_pool(&x, 1, 2, 4, 2, &mut out, &mut arg);
        assert_eq!(out, [3.0, 9.0, 5.0, 3.0]);
        assert_eq!(arg, [2, 3, 0, 2], "ties go to the first position");
        let grad = [1.0, 2.0, 3.0, 4.0];
        max_pool_relu_backward(&grad, &arg, &x, 1, 2, 4, 2, &mut dx);
        let mut expected = [0.0; 16];
        expected[8] = 1.0; // channel 0 of the bottom-left pixel of window 1
        expected[11] = 2.0;
        expected[4] = 3.0;
        expected[13] = 4.0;
        assert_eq!(dx, expected);
        // A winner that ReLU switched off (its activation 0) passes no gradient back; the
        // buffer's old values are overwritten everywhere.
        let mut off = x;
        off[8] = 0.0;
        max_pool_relu_backward(&grad, &arg, &off, 1, 2, 4, 2, &mut dx);
        expected[8] = 0.0;
        assert_eq!(dx, expected);
    }

    /// The mean cross-entropy of `rows` in a training pass (batch statistics; the network has
    /// no dropout), against targets smoothed as the network's parameters say, in f64.
    fn loss(net: &Cnn, inputs: &Inputs<'_>, rows: &[usize], labels: &[u8]) -> f64 {
        let eps = f64::from(net.params.label_smoothing);
        let mut ws = Workspace::default();
        inputs.gather(rows.iter().copied(), &mut ws.x);
        net.forward(&mut ws, rows.len(), Some(&mut ChaCha8Rng::seed_from_u64(0)));
        ws.logits
            .chunks_exact(net.classes())
            .zip(rows)
            .map(|(z, &r)| {
                let m = z.iter().copied().fold(f32::MIN, f32::max) as f64;
                let lse = m + z
                    .iter()
                    .map(|&v| (f64::from(v) - m).exp())
                    .sum::<f64>()
                    .ln();
                let mean = z.iter().map(|&v| f64::from(v)).sum::<f64>() / z.len() as f64;
                (1.0 - eps) * (lse - f64::from(z[usize::from(labels[r])])) + eps * (lse - mean)
            })
            .sum::<f64>()
            / rows.len() as f64
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        // ReLU and max-pooling make the loss piecewise smooth: a central difference that
        // straddles a kink misses the derivative on either side. On two images few kinks lie
        // within a step of the point, so nearly every parameter must agree, and the output
        // layer, upstream of every kink, must agree everywhere.
        // Five networks: without batch normalisation and with it (scales checked too), one
        // trained towards smoothed labels, and with a third convolution, plain and normalised.
        let params = tiny(1, 3);
        for (batch_norm, label_smoothing, conv3) in [
            (false, 0.0, 0),
            (true, 0.0, 0),
            (false, 0.2, 0),
            (false, 0.0, 3),
            (true, 0.0, 3),
        ] {
            let (images, labels) = squares(2, 4);
            let (mean, sd) = pixel_moments(images.view());
            let inputs = Inputs::new(images.view(), mean, sd);
            let mut net = Cnn::initial(
                CnnParams {
                    seed: 5,
                    batch_norm,
                    label_smoothing,
                    conv3,
                    ..params
                },
                N_CLASSES,
                mean,
                sd,
            );
            for l in &mut net.layers {
                l.bias
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, b)| *b = 0.05 * i as f32);
                l.scale
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, g)| *g = 1.0 + 0.1 * i as f32);
            }
            let rows = [0, 1];
            let mut ws = Workspace::default();
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            net.shard_gradient(&mut ws, &inputs, &rows, &labels, rows.len(), &mut rng);
            // Small enough that the first layer of the three-convolution network, whose
            // weights reach through the most kinks, crosses few (at 3e-4, 19 of its 30 agreed).
            let h = 1e-4f32;
            // Which parameter of a layer: 0 weight, 1 bias, 2 scale (batch normalisation's γ).
            fn param(l: &mut Layer, kind: usize, i: usize) -> &mut f32 {
                match kind {
                    0 => &mut l.weight[i],
                    1 => &mut l.bias[i],
                    _ => &mut l.scale[i],
                }
            }
            let numeric = |layer: usize, kind: usize, i: usize| {
                let nudged = |step: f32| {
                    let mut n = net.clone();
                    *param(&mut n.layers[layer], kind, i) += step;
                    loss(&n, &inputs, &rows, &labels)
                };
                (nudged(h) - nudged(-h)) / (2.0 * f64::from(h))
            };
            let convolutions = 2 + usize::from(conv3 > 0);
            assert_eq!(net.layers.len(), convolutions + 2);
            assert!(net.layers[..convolutions]
                .iter()
                .all(|l| l.normalised() == batch_norm));
            for layer in 0..net.layers.len() {
                let mut g = ws.grads[layer].clone();
                let checks: Vec<(usize, usize)> = (0..g.weight.len())
                    .step_by(g.weight.len().div_ceil(60))
                    .map(|i| (0, i))
                    .chain((0..g.bias.len()).map(|i| (1, i)))
                    .chain((0..g.scale.len()).map(|i| (2, i)))
                    .collect();
                let agree = checks
                    .iter()
                    .filter(|&&(kind, i)| {
                        let analytic = f64::from(*param(&mut g, kind, i));
                        (numeric(layer, kind, i) - analytic).abs() < 1e-3 + 0.02 * analytic.abs()
                    })
                    .count();
                let needed = if layer + 1 == net.layers.len() {
                    checks.len()
                } else {
                    checks.len() * 9 / 10
                };
                assert!(
                    agree >= needed,
                    "batch norm {batch_norm}, smoothing {label_smoothing}, conv3 {conv3}, \
                     layer {layer}: \
                     {agree} of {} parameters agree",
                    checks.len()
                );
            }
        }
    }

    #[test]
    fn it_learns_where_the_square_is() {
        let (x, y) = squares(600, 1);
        let (xt, yt) = squares(200, 2);
        // The plain network, and one with batch normalisation (which needs a few more filters
        // to learn this in ten epochs).
        let plain = CnnParams {
            learning_rate: 1e-2,
            ..tiny(10, 7)
        };
        let normalised = CnnParams {
            conv1: 8,
            conv2: 8,
            batch_norm: true,
            ..plain
        };
        for params in [plain, normalised] {
            let mut epochs_seen = 0;
            let (net, history) = params
                .train(
                    x.view(),
                    &y,
                    Some((xt.view(), &yt)),
                    |_| epochs_seen += 1,
                    || {},
                )
                .unwrap();
            assert_eq!(epochs_seen, 10);
            assert_eq!(history.len(), 10);
            assert!(history[9].loss < history[0].loss, "{history:?}");
            let predicted = net.predict_images(xt.view());
            let accuracy =
                predicted.iter().zip(&yt).filter(|(p, y)| p == y).count() as f64 / yt.len() as f64;
            let name = params.describe();
            assert!(accuracy > 0.9, "{name}: test accuracy {accuracy}");
            assert_eq!(history[9].monitor_accuracy, Some(accuracy));
            assert_eq!(net.predict_images_moved(xt.view(), &[(0, 0)]), predicted);
            let moves = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)];
            let averaged = net.predict_images_moved(xt.view(), &moves);
            let agree = averaged
                .iter()
                .zip(&predicted)
                .filter(|(a, p)| a == p)
                .count();
            assert!(
                agree * 10 >= yt.len() * 9,
                "{name}: moves changed {agree} labels"
            );
            let p = net.predict_proba_images(xt.view());
            assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-9));
        }
    }

    #[test]
    fn same_seed_same_weights_whatever_the_thread_count() {
        let (x, y) = squares(300, 1);
        let params = CnnParams {
            dropout: 0.5,
            batch_norm: true,
            shift: 2,
            flip: true,
            conv3: 3,
            erase: 0.5,
            label_smoothing: 0.1,
            ..tiny(2, 11)
        };
        let fit = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| params.train(x.view(), &y, None, |_| {}, || {}).unwrap())
        };
        let untimed = |mut history: Vec<EpochRecord>| {
            history.iter_mut().for_each(|r| r.seconds = None);
            history
        };
        let (one, h1) = fit(1);
        let (three, h3) = fit(3);
        assert_eq!(one, three, "the same bits on one thread and on three");
        assert_eq!(untimed(h1), untimed(h3));
        let (other, _) = CnnParams { seed: 12, ..params }
            .train(x.view(), &y, None, |_| {}, || {})
            .unwrap();
        assert_ne!(one, other, "another seed, other weights");
    }

    #[test]
    fn saved_weights_read_back_exactly_and_bad_files_are_refused() {
        let (x, y) = squares(100, 1);
        let (net, history) = tiny(1, 3).train(x.view(), &y, None, |_| {}, || {}).unwrap();
        let trained = TrainedCnn {
            net,
            train_images: 100,
            history,
            train_seconds: 1.5,
        };
        let bytes = trained.to_safetensors();
        assert_eq!(TrainedCnn::from_safetensors(&bytes).unwrap(), trained);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/cnn.safetensors");
        trained.save(&path).unwrap();
        assert_eq!(TrainedCnn::load(&path).unwrap(), trained);

        let truncated = &bytes[..bytes.len() - 10];
        assert!(matches!(
            TrainedCnn::from_safetensors(truncated),
            Err(SavedCnnError::Safetensors(_))
        ));
        std::fs::write(&path, truncated).unwrap();
        let err = TrainedCnn::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("cnn.safetensors") && err.contains("not a saved CNN"),
            "{err}"
        );
        let missing = TrainedCnn::load(&dir.path().join("none.safetensors")).unwrap_err();
        assert!(missing.to_string().contains("cannot read"), "{missing}");

        // A network without batch normalisation, shifts or flips, as the first format held.
        let plain = CnnParams {
            batch_norm: false,
            ..tiny(1, 3)
        };
        let (net, history) = plain.train(x.view(), &y, None, |_| {}, || {}).unwrap();
        let old = TrainedCnn {
            net,
            history,
            ..trained.clone()
        };
        // `old`'s file with its metadata edited by `edit`.
        let edited = |edit: &dyn Fn(&mut HashMap<String, String>)| {
            let bytes = old.to_safetensors();
            let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
            let mut meta: HashMap<_, _> = header.metadata().clone().unwrap().into_iter().collect();
            edit(&mut meta);
            let tensors = SafeTensors::deserialize(&bytes).unwrap();
            safetensors::serialize(tensors.tensors(), Some(meta.into_iter().collect())).unwrap()
        };
        // Files of the earlier formats, without the settings later ones added (and, before
        // format 3, without each epoch's seconds): still read, those settings off. A file of
        // this format must have them.
        let without = |format: &str, keys: &[&str]| {
            edited(&|meta| {
                for key in keys {
                    meta.remove(*key).unwrap();
                }
                if format != FORMAT {
                    let history = meta["history"].split(';').map(|entry| {
                        let fields: Vec<&str> = entry.split(',').collect();
                        fields[..4].join(",")
                    });
                    let history = history.collect::<Vec<_>>().join(";");
                    meta.insert("history".into(), history);
                }
                meta.insert("format".into(), format.into());
            })
        };
        let mut untimed = old.clone();
        untimed.history.iter_mut().for_each(|r| r.seconds = None);
        let since_2 = ["batch_norm", "shift", "flip"];
        let since_3 = ["conv3", "erase", "label_smoothing"];
        let first = without(FORMATS[0], &[&since_2[..], &since_3[..]].concat());
        assert_eq!(TrainedCnn::from_safetensors(&first).unwrap(), untimed);
        let second = without(FORMATS[1], &since_3);
        assert_eq!(TrainedCnn::from_safetensors(&second).unwrap(), untimed);
        for key in since_3 {
            let err = TrainedCnn::from_safetensors(&without(FORMAT, &[key])).unwrap_err();
            assert!(err.to_string().contains(&format!("no {key:?}")), "{err}");
        }
        // Numbers a training cannot have written (NaN, negative) are refused, not loaded into
        // a network that would then differ from itself.
        for (key, bad) in [
            ("train_seconds", "NaN"),
            ("history", "1,NaN,0.5,,1"),
            ("history", "1,0.4,0.5,,-2"),
        ] {
            let file = edited(&|meta| {
                meta.insert(key.into(), bad.into());
            });
            assert!(
                TrainedCnn::from_safetensors(&file).is_err(),
                "{key} = {bad}"
            );
        }

        // A file of another network: shapes disagree with its settings.
        let mut other = trained.clone();
        other.net.params.hidden = 9;
        let err = TrainedCnn::from_safetensors(&other.to_safetensors()).unwrap_err();
        assert!(
            matches!(&err, SavedCnnError::Content(what) if what.contains("dense1.weight")),
            "{err}"
        );

        // Settings whose layer sizes would overflow (9 × conv1 past usize::MAX): refused
        // before any size is computed, not an overflow panic (seen while writing the loader's
        // fuzz target; the fuzzer itself did not reach it).
        let mut huge = trained.clone();
        huge.net.params.conv1 = usize::MAX / 4;
        let err = TrainedCnn::from_safetensors(&huge.to_safetensors()).unwrap_err();
        assert!(
            matches!(
                &err,
                SavedCnnError::Params(ModelError::InvalidParams { param: "conv1", .. })
            ),
            "{err}"
        );
    }

    #[test]
    fn bad_parameters_and_inputs_are_errors() {
        let (x, y) = squares(40, 1);
        for bad in [
            CnnParams {
                batch_size: 48,
                ..tiny(1, 1)
            },
            CnnParams {
                dropout: 1.0,
                ..tiny(1, 1)
            },
            CnnParams {
                epochs: 0,
                ..tiny(1, 1)
            },
            CnnParams {
                shift: MAX_SHIFT + 1,
                ..tiny(1, 1)
            },
            CnnParams {
                erase: 1.5,
                ..tiny(1, 1)
            },
            CnnParams {
                erase: f32::NAN,
                ..tiny(1, 1)
            },
            CnnParams {
                label_smoothing: 1.0,
                ..tiny(1, 1)
            },
        ] {
            let err = bad.train(x.view(), &y, None, |_| {}, || {}).unwrap_err();
            assert!(matches!(err, ModelError::InvalidParams { .. }), "{err}");
        }
        let narrow = Array2::<u8>::zeros((40, 100));
        let err = tiny(1, 1)
            .train(narrow.view(), &y, None, |_| {}, || {})
            .unwrap_err();
        assert!(err.to_string().contains("784 pixels"), "{err}");
        let err = tiny(1, 1)
            .train(x.view(), &y[..39], None, |_| {}, || {})
            .unwrap_err();
        assert!(err.to_string().contains("40 rows but 39 labels"), "{err}");
    }

    #[test]
    fn the_fit_interface_takes_pixels_as_f64() {
        let (x, y) = squares(200, 1);
        let model = tiny(3, 2).fit(x.mapv(f64::from).view(), &y).unwrap();
        let direct = model.predict_images(x.view());
        assert_eq!(model.predict(x.mapv(f64::from).view()), direct);
    }
}
