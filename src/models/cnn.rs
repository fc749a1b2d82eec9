//! A small convolutional network for the 28 × 28 images: the method the study's abstract names
//! and its body never trains.
//!
//! Architecture (channels-last throughout):
//!
//! ```text
//! 28×28×1 ─ conv 3×3, 32 ─ ReLU ─ max-pool 2 ─ conv 3×3, 64 ─ ReLU ─ max-pool 2 ─ 7×7×64
//!         ─ dense 128 ─ ReLU ─ dropout 0.5 ─ dense n_classes ─ softmax
//! ```
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
//! 205 s, then 150 s, then 137 s, each time the same weights to the bit). candle also
//! added 5 minutes to a cold build and has no seeded CPU generator for dropout. The convolution
//! here is the textbook lowering (im2col, one GEMM, col2im for the gradient), with faer's GEMM,
//! already a dependency, doing the arithmetic (through this crate's `linalg` module, which
//! clears the vector state faer's kernels leave behind).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

/// Mixed into the seed for the dropout masks' generator.
const DROPOUT_STREAMS: u64 = 0x5eed_d20f;

/// The most filters or units a layer may have (the section's network has 32, 64 and 128).
pub const MAX_UNITS: usize = 1 << 16;

/// Hyperparameters of the network and its training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CnnParams {
    /// Filters of the first convolution.
    pub conv1: usize,
    /// Filters of the second convolution.
    pub conv2: usize,
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
    /// Seed of the starting weights, the shuffles and the dropout masks.
    pub seed: u64,
}

/// Epochs of the default network ([`CnnParams::default`]): fixed before any training run by the
/// time budget (training within 15 minutes on 2 cores, with margin); the test images never
/// chose it.
pub const DEFAULT_EPOCHS: usize = 12;

impl Default for CnnParams {
    /// The network above, trained for [`DEFAULT_EPOCHS`] epochs with seed 42.
    fn default() -> Self {
        CnnParams::new(DEFAULT_EPOCHS, 42)
    }
}

super::linfa_estimator!(CnnParams => CnnValidParams, Cnn);

impl CnnParams {
    /// The network above, trained for `epochs` epochs in batches of 128 at step size 0.001.
    pub fn new(epochs: usize, seed: u64) -> Self {
        CnnParams {
            conv1: 32,
            conv2: 64,
            hidden: 128,
            dropout: 0.5,
            epochs,
            batch_size: 128,
            learning_rate: 1e-3,
            seed,
        }
    }

    /// The parameters as one line, stored with saved weights to recognise them later.
    pub fn describe(&self) -> String {
        format!(
            "conv {}-{}, dense {}, dropout {}, {}, batch {}, Adam {} (cosine), seed {}",
            self.conv1,
            self.conv2,
            self.hidden,
            self.dropout,
            self.epochs_text(),
            self.batch_size,
            self.learning_rate,
            self.seed
        )
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
        require(self.epochs >= 1, "epochs", || {
            "must be at least 1, got 0".into()
        })?;
        require((0.0..1.0).contains(&self.dropout), "dropout", || {
            format!("must be in [0, 1), got {}", self.dropout)
        })?;
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

    /// The layers' shapes for `classes` output classes.
    fn layers(&self, classes: usize) -> [LayerShape; 4] {
        let pooled = (SIDE / 4) * (SIDE / 4);
        [
            LayerShape::new(9, self.conv1),
            LayerShape::new(9 * self.conv1, self.conv2),
            LayerShape::new(pooled * self.conv2, self.hidden),
            LayerShape::new(self.hidden, classes),
        ]
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
        let mut net = Cnn {
            params: *self,
            mean,
            sd,
            layers: initial_layers(self.layers(super::n_classes(labels)), self.seed),
        };
        let mut adam = Adam::new(&net.layers);
        let steps_per_epoch = n.div_ceil(self.batch_size);
        let total_steps = steps_per_epoch * self.epochs;
        let mut order: Vec<usize> = (0..n).collect();
        let mut workspaces: Vec<Workspace> = (0..self.batch_size / SHARD)
            .map(|_| Workspace::default())
            .collect();
        let mut history = Vec::with_capacity(self.epochs);
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
                workspaces[..shards]
                    .par_iter_mut()
                    .zip(batch.par_chunks(SHARD))
                    .enumerate()
                    .for_each(|(s, (ws, rows))| {
                        let mut masks = ChaCha8Rng::seed_from_u64(self.seed ^ DROPOUT_STREAMS);
                        masks.set_stream((step * self.batch_size / SHARD + s) as u64);
                        net.shard_gradient(ws, &inputs, rows, labels, batch.len(), &mut masks);
                    });
                // Summed in shard order, whatever the scheduling.
                let (first, rest) = workspaces[..shards]
                    .split_first_mut()
                    .expect("a batch has at least one shard");
                for ws in rest.iter() {
                    for (g, o) in first.grads.iter_mut().zip(&ws.grads) {
                        g.add(o);
                    }
                    first.loss += ws.loss;
                    first.correct += ws.correct;
                }
                loss += first.loss;
                correct += first.correct;
                adam.step(&mut net.layers, &first.grads, lr);
                on_step();
            }
            let monitor_accuracy = monitor.map(|(x, y)| {
                let predicted = net.predict_images(x);
                predicted.iter().zip(y).filter(|(p, y)| p == y).count() as f64 / y.len() as f64
            });
            let record = EpochRecord {
                epoch: epoch + 1,
                loss: loss / n as f64,
                train_accuracy: correct as f64 / n as f64,
                monitor_accuracy,
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
    pub(crate) bias: Vec<f32>,
}

impl Layer {
    fn zeros(shape: LayerShape) -> Self {
        Layer {
            shape,
            weight: vec![0.0; shape.fan_in * shape.fan_out],
            bias: vec![0.0; shape.fan_out],
        }
    }

    fn clear(&mut self) {
        self.weight.fill(0.0);
        self.bias.fill(0.0);
    }

    fn add(&mut self, other: &Layer) {
        self.weight
            .iter_mut()
            .zip(&other.weight)
            .for_each(|(a, b)| *a += b);
        self.bias
            .iter_mut()
            .zip(&other.bias)
            .for_each(|(a, b)| *a += b);
    }

    fn weight(&self) -> MatRef<'_, f32> {
        MatRef::from_row_major_slice(&self.weight, self.shape.fan_in, self.shape.fan_out)
    }
}

fn initial_layers(shapes: [LayerShape; 4], seed: u64) -> Vec<Layer> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
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
            layer
        })
        .collect()
}

/// A trained convolutional network.
#[derive(Debug, Clone, PartialEq)]
pub struct Cnn {
    params: CnnParams,
    mean: f32,
    sd: f32,
    layers: Vec<Layer>,
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

    /// The standardised pixels of `rows`, one image after another, into `x`.
    fn gather(&self, rows: impl Iterator<Item = usize>, x: &mut Vec<f32>) {
        let (mean, scale) = (self.mean, 1.0 / self.sd);
        x.clear();
        for r in rows {
            x.extend(
                self.images
                    .row(r)
                    .iter()
                    .map(|&p| (f32::from(p) / 255.0 - mean) * scale),
            );
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
    /// The pooled second block, flattened (`b × 49·conv2`).
    p2: Vec<f32>,
    /// Dense hidden units after ReLU and dropout (`b × hidden`).
    h: Vec<f32>,
    /// The dropout factor of each hidden unit (0 or `1/(1-p)`), empty without dropout.
    keep: Vec<f32>,
    /// Class scores (`b × classes`), then their gradient.
    logits: Vec<f32>,
    /// Gradients flowing back through the layers; reused down the network.
    d_small: Vec<f32>,
    d_large: Vec<f32>,
    d_col: Vec<f32>,
    /// This shard's parameter gradients.
    grads: Vec<Layer>,
    /// This shard's summed cross-entropy.
    loss: f64,
    /// This shard's correct predictions.
    correct: usize,
}

impl Cnn {
    /// The parameters it was trained with.
    pub fn params(&self) -> &CnnParams {
        &self.params
    }

    /// How many classes it tells apart (the output layer's width).
    pub fn classes(&self) -> usize {
        self.layers[3].shape.fan_out
    }

    /// Forward pass over the `b` standardised images in `ws.x`; with a generator, dropout is
    /// applied.
    fn forward(&self, ws: &mut Workspace, b: usize, dropout: Option<&mut ChaCha8Rng>) {
        let p = &self.params;
        let (s, h2) = (SIDE, SIDE / 2);
        let [l1, l2, l3, l4] = [
            &self.layers[0],
            &self.layers[1],
            &self.layers[2],
            &self.layers[3],
        ];

        im2col(&ws.x, b, s, s, 1, &mut ws.col1);
        dense(&ws.col1, b * s * s, l1, &mut ws.a1);
        relu(&mut ws.a1);
        max_pool(&ws.a1, b, s, s, p.conv1, &mut ws.p1, &mut ws.arg1);

        im2col(&ws.p1, b, h2, h2, p.conv1, &mut ws.col2);
        dense(&ws.col2, b * h2 * h2, l2, &mut ws.a2);
        relu(&mut ws.a2);
        max_pool(&ws.a2, b, h2, h2, p.conv2, &mut ws.p2, &mut ws.arg2);

        dense(&ws.p2, b, l3, &mut ws.h);
        relu(&mut ws.h);
        ws.keep.clear();
        if let Some(rng) = dropout.filter(|_| p.dropout > 0.0) {
            let kept = 1.0 / (1.0 - p.dropout);
            let drop = p.dropout;
            ws.keep
                .extend((0..ws.h.len()).map(|_| if rng.gen::<f32>() < drop { 0.0 } else { kept }));
            ws.h.iter_mut().zip(&ws.keep).for_each(|(v, k)| *v *= k);
        }
        dense(&ws.h, b, l4, &mut ws.logits);
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
        let (s, h2) = (SIDE, SIDE / 2);
        inputs.gather(rows.iter().copied(), &mut ws.x);
        self.forward(ws, b, Some(masks));
        if ws.grads.is_empty() {
            ws.grads = self.layers.iter().map(|l| Layer::zeros(l.shape)).collect();
        }
        ws.grads.iter_mut().for_each(Layer::clear);

        // Softmax cross-entropy: d(mean loss)/d(logits) = (softmax − one-hot) / batch size.
        let (mut loss, mut correct) = (0.0f64, 0usize);
        let scale = 1.0 / batch_len as f32;
        for (row, &r) in ws.logits.chunks_exact_mut(self.classes()).zip(rows) {
            let label = usize::from(labels[r]);
            let best = argmax(row.iter());
            correct += usize::from(best == label);
            let m = row[best];
            let sum: f32 = row.iter().map(|v| (v - m).exp()).sum();
            loss += f64::from(sum.ln() + m - row[label]);
            row.iter_mut()
                .for_each(|v| *v = (*v - m).exp() / sum * scale);
            row[label] -= scale;
        }
        ws.loss = loss;
        ws.correct = correct;

        let [l1, l2, l3, l4] = [
            &self.layers[0],
            &self.layers[1],
            &self.layers[2],
            &self.layers[3],
        ];
        let [g1, g2, g3, g4] = &mut ws.grads[..] else {
            unreachable!("a CNN has four layers")
        };
        dense_backward(&ws.h, &ws.logits, b, l4, g4, Some(&mut ws.d_small));
        if !ws.keep.is_empty() {
            ws.d_small
                .iter_mut()
                .zip(&ws.keep)
                .for_each(|(g, k)| *g *= k);
        }
        relu_backward(&mut ws.d_small, &ws.h);
        dense_backward(&ws.p2, &ws.d_small, b, l3, g3, Some(&mut ws.d_large));
        max_pool_backward(&ws.d_large, &ws.arg2, b, h2, h2, p.conv2, &mut ws.d_small);
        relu_backward(&mut ws.d_small, &ws.a2);
        let rows2 = b * h2 * h2;
        dense_backward(&ws.col2, &ws.d_small, rows2, l2, g2, Some(&mut ws.d_col));
        col2im(&ws.d_col, b, h2, h2, p.conv1, &mut ws.d_large);
        max_pool_backward(&ws.d_large, &ws.arg1, b, s, s, p.conv1, &mut ws.d_small);
        relu_backward(&mut ws.d_small, &ws.a1);
        dense_backward(&ws.col1, &ws.d_small, b * s * s, l1, g1, None);
    }

    /// Class scores (`n × classes`) of images given as pixels, in parallel chunks.
    fn logits(&self, images: ArrayView2<'_, u8>) -> Vec<f32> {
        assert_eq!(images.ncols(), PIXELS, "a CNN takes 28 × 28 images");
        let inputs = Inputs::new(images, self.mean, self.sd);
        let rows: Vec<usize> = (0..images.nrows()).collect();
        let chunks: Vec<Vec<f32>> = rows
            .par_chunks(4 * SHARD)
            .map_init(Workspace::default, |ws, chunk| {
                inputs.gather(chunk.iter().copied(), &mut ws.x);
                self.forward(ws, chunk.len(), None);
                ws.logits.clone()
            })
            .collect();
        chunks.concat()
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

/// Empties `buf` and fills it with `len` zeros, keeping its allocation.
fn zeroed<T: Copy + Default>(buf: &mut Vec<T>, len: usize) -> &mut [T] {
    buf.clear();
    buf.resize(len, T::default());
    buf
}

/// `buf` at length `len`, its contents left as they were: for outputs written in full.
fn sized<T: Copy + Default>(buf: &mut Vec<T>, len: usize) -> &mut [T] {
    buf.resize(len, T::default());
    buf
}

/// `out = x · W + b` for `rows` rows of `x`.
fn dense(x: &[f32], rows: usize, layer: &Layer, out: &mut Vec<f32>) {
    let LayerShape { fan_in, fan_out } = layer.shape;
    linalg::matmul_seq(
        mat_mut(sized(out, rows * fan_out), rows, fan_out),
        Accum::Replace,
        mat(x, rows, fan_in),
        layer.weight(),
    );
    for row in out.chunks_exact_mut(fan_out) {
        row.iter_mut().zip(&layer.bias).for_each(|(o, b)| *o += b);
    }
}

/// Adds the gradients of `layer`'s weights and bias, given its input `x` and the gradient `dy`
/// of its output, to `grad`; writes the gradient of its input to `dx` when given.
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
        Accum::Add,
        mat(x, rows, fan_in).transpose(),
        mat(dy, rows, fan_out),
    );
    for row in dy.chunks_exact(fan_out) {
        grad.bias.iter_mut().zip(row).for_each(|(g, d)| *g += d);
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
fn im2col(x: &[f32], b: usize, h: usize, w: usize, c: usize, col: &mut Vec<f32>) {
    let col = sized(col, b * h * w * 9 * c);
    for (pixel, row) in col.chunks_exact_mut(9 * c).enumerate() {
        let (n, y, x0) = (pixel / (h * w), pixel / w % h, pixel % w);
        for (k, patch) in row.chunks_exact_mut(c).enumerate() {
            match (tap(y, k / 3, h), tap(x0, k % 3, w)) {
                (Some(sy), Some(sx)) => {
                    let src = &x[((n * h + sy) * w + sx) * c..][..c];
                    // Element by element: for one channel, a call to memcpy costs more.
                    patch.iter_mut().zip(src).for_each(|(d, &s)| *d = s);
                }
                _ => patch.fill(0.0),
            }
        }
    }
}

/// The adjoint of [`im2col`]: sums each patch gradient back onto the pixels it came from.
fn col2im(col: &[f32], b: usize, h: usize, w: usize, c: usize, x: &mut Vec<f32>) {
    let x = zeroed(x, b * h * w * c);
    for (pixel, row) in col.chunks_exact(9 * c).enumerate() {
        let (n, y, x0) = (pixel / (h * w), pixel / w % h, pixel % w);
        for ky in 0..3 {
            let Some(sy) = tap(y, ky, h) else { continue };
            for kx in 0..3 {
                let Some(sx) = tap(x0, kx, w) else { continue };
                let dst = ((n * h + sy) * w + sx) * c;
                x[dst..dst + c]
                    .iter_mut()
                    .zip(&row[(ky * 3 + kx) * c..][..c])
                    .for_each(|(a, g)| *a += g);
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

/// Routes each pooled gradient back to the position that won, zero elsewhere.
fn max_pool_backward(
    d: &[f32],
    arg: &[u32],
    b: usize,
    h: usize,
    w: usize,
    c: usize,
    dx: &mut Vec<f32>,
) {
    let (ho, wo) = (h / 2, w / 2);
    let dx = zeroed(dx, b * h * w * c);
    for (o, (g, a)) in d.chunks_exact(c).zip(arg.chunks_exact(c)).enumerate() {
        let (n, y, x0) = (o / (ho * wo), o / wo % ho, o % wo);
        let top = ((n * h + 2 * y) * w + 2 * x0) * c;
        let winners = [top, top + c, top + w * c, top + w * c + c];
        for (ch, (&g, &a)) in g.iter().zip(a).enumerate() {
            dx[winners[a as usize] + ch] = g;
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
        let zeros = || layers.iter().map(|l| Layer::zeros(l.shape)).collect();
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

/// The name of each layer's tensors in a saved file.
const LAYER_NAMES: [&str; 4] = ["conv1", "conv2", "dense1", "dense2"];
/// The metadata value that marks a file as ours, with its version.
const FORMAT: &str = "fmnist-cnn/1";

impl TrainedCnn {
    /// The file's bytes: safetensors, little-endian `f32`.
    pub fn to_safetensors(&self) -> Vec<u8> {
        let net = &self.net;
        let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (name, layer) in LAYER_NAMES.iter().zip(&net.layers) {
            let LayerShape { fan_in, fan_out } = layer.shape;
            tensors.push((
                format!("{name}.weight"),
                vec![fan_in, fan_out],
                bytes(&layer.weight),
            ));
            tensors.push((format!("{name}.bias"), vec![fan_out], bytes(&layer.bias)));
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
                format!("{},{},{},{}", r.epoch, r.loss, r.train_accuracy, monitor)
            })
            .collect();
        let metadata: HashMap<String, String> = [
            ("format", FORMAT.to_string()),
            ("conv1", p.conv1.to_string()),
            ("conv2", p.conv2.to_string()),
            ("hidden", p.hidden.to_string()),
            ("dropout", p.dropout.to_string()),
            ("epochs", p.epochs.to_string()),
            ("batch_size", p.batch_size.to_string()),
            ("learning_rate", p.learning_rate.to_string()),
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
        if get("format")? != FORMAT {
            return Err(format!("format {:?}, expected {FORMAT:?}", get("format")?).into());
        }
        let num = |key: &str| -> Result<usize, String> { parse(key, get(key)?) };
        let params = CnnParams {
            conv1: num("conv1")?,
            conv2: num("conv2")?,
            hidden: num("hidden")?,
            dropout: parse("dropout", get("dropout")?)?,
            epochs: num("epochs")?,
            batch_size: num("batch_size")?,
            learning_rate: parse("learning_rate", get("learning_rate")?)?,
            seed: parse("seed", get("seed")?)?,
        };
        params.validate()?;
        let history = get("history")?
            .split(';')
            .filter(|s| !s.is_empty())
            .map(|line| {
                let f: Vec<&str> = line.split(',').collect();
                let [epoch, loss, train, monitor] = f[..] else {
                    return Err(format!("history entry {line:?} does not have four fields"));
                };
                Ok(EpochRecord {
                    epoch: parse("history", epoch)?,
                    loss: parse("history", loss)?,
                    train_accuracy: parse("history", train)?,
                    monitor_accuracy: match monitor {
                        "" => None,
                        m => Some(parse("history", m)?),
                    },
                })
            })
            .collect::<Result<Vec<_>, String>>()?;

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
        let layers = LAYER_NAMES
            .iter()
            .zip(params.layers(classes))
            .map(|(name, shape)| {
                Ok(Layer {
                    shape,
                    weight: read(&format!("{name}.weight"), &[shape.fan_in, shape.fan_out])?,
                    bias: read(&format!("{name}.bias"), &[shape.fan_out])?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let [mean, sd] = read("input.mean_sd", &[2])?[..] else {
            unreachable!("shape checked")
        };
        if layers
            .iter()
            .flat_map(|l| l.weight.iter().chain(&l.bias))
            .chain([&mean, &sd])
            .any(|v| !v.is_finite())
            || sd <= 0.0
        {
            return Err("non-finite weights or a non-positive standard deviation".into());
        }
        Ok(TrainedCnn {
            net: Cnn {
                params,
                mean,
                sd,
                layers,
            },
            train_images: num("train_images")?,
            history,
            train_seconds: parse("train_seconds", get("train_seconds")?)?,
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
    use super::*;
    use crate::data::N_CLASSES;

    /// A narrow network, no dropout unless asked, for fast tests.
    fn tiny(epochs: usize, seed: u64) -> CnnParams {
        CnnParams {
            conv1: 3,
            conv2: 4,
            hidden: 8,
            dropout: 0.0,
            epochs,
            batch_size: 2 * SHARD,
            learning_rate: 3e-3,
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
    fn im2col_pads_with_zeros() {
        // One 2 × 2 single-channel image: the top-left pixel's patch sees only the image's
        // four pixels, in the bottom-right of its 3 × 3 window.
        let mut col = Vec::new();
        im2col(&[1.0, 2.0, 3.0, 4.0], 1, 2, 2, 1, &mut col);
        assert_eq!(&col[..9], &[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0]);
    }

    #[test]
    fn max_pool_routes_the_gradient_to_the_winner() {
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
        max_pool_backward(&[1.0, 2.0, 3.0, 4.0], &arg, 1, 2, 4, 2, &mut dx);
        let mut expected = [0.0; 16];
        expected[8] = 1.0; // channel 0 of the bottom-left pixel of window 1
        expected[11] = 2.0;
        expected[4] = 3.0;
        expected[13] = 4.0;
        assert_eq!(dx, expected);
    }

    /// The mean cross-entropy of `rows` (no dropout), in f64.
    fn loss(net: &Cnn, inputs: &Inputs<'_>, rows: &[usize], labels: &[u8]) -> f64 {
        let mut ws = Workspace::default();
        inputs.gather(rows.iter().copied(), &mut ws.x);
        net.forward(&mut ws, rows.len(), None);
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
                lse - f64::from(z[usize::from(labels[r])])
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
        let params = tiny(1, 3);
        let (images, labels) = squares(2, 4);
        let (mean, sd) = pixel_moments(images.view());
        let inputs = Inputs::new(images.view(), mean, sd);
        let mut net = Cnn {
            params,
            mean,
            sd,
            layers: initial_layers(params.layers(N_CLASSES), 5),
        };
        for l in &mut net.layers {
            l.bias
                .iter_mut()
                .enumerate()
                .for_each(|(i, b)| *b = 0.05 * i as f32);
        }
        let rows = [0, 1];
        let mut ws = Workspace::default();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        net.shard_gradient(&mut ws, &inputs, &rows, &labels, rows.len(), &mut rng);
        let h = 3e-4f32;
        let numeric = |layer: usize, bias: bool, i: usize| {
            let nudged = |step: f32| {
                let mut n = net.clone();
                let l = &mut n.layers[layer];
                let p = if bias {
                    &mut l.bias[i]
                } else {
                    &mut l.weight[i]
                };
                *p += step;
                loss(&n, &inputs, &rows, &labels)
            };
            (nudged(h) - nudged(-h)) / (2.0 * f64::from(h))
        };
        for layer in 0..4 {
            let g = &ws.grads[layer];
            let checks: Vec<(bool, usize)> = (0..g.weight.len())
                .step_by(g.weight.len().div_ceil(60))
                .map(|i| (false, i))
                .chain((0..g.bias.len()).map(|i| (true, i)))
                .collect();
            let agree = checks
                .iter()
                .filter(|&&(bias, i)| {
                    let analytic = f64::from(if bias { g.bias[i] } else { g.weight[i] });
                    (numeric(layer, bias, i) - analytic).abs() < 1e-3 + 0.02 * analytic.abs()
                })
                .count();
            let needed = if layer == 3 {
                checks.len()
            } else {
                checks.len() * 9 / 10
            };
            assert!(
                agree >= needed,
                "layer {layer}: {agree} of {} parameters agree",
                checks.len()
            );
        }
    }

    #[test]
    fn it_learns_where_the_square_is() {
        let (x, y) = squares(600, 1);
        let (xt, yt) = squares(200, 2);
        let mut epochs_seen = 0;
        let params = CnnParams {
            learning_rate: 1e-2,
            ..tiny(10, 7)
        };
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
        assert!(accuracy > 0.9, "test accuracy {accuracy}");
        assert_eq!(history[9].monitor_accuracy, Some(accuracy));
        let p = net.predict_proba_images(xt.view());
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-9));
    }

    #[test]
    fn same_seed_same_weights_whatever_the_thread_count() {
        let (x, y) = squares(300, 1);
        let params = CnnParams {
            dropout: 0.5,
            ..tiny(2, 11)
        };
        let fit = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| params.train(x.view(), &y, None, |_| {}, || {}).unwrap())
        };
        let (one, h1) = fit(1);
        let (three, h3) = fit(3);
        assert_eq!(one, three, "the same bits on one thread and on three");
        assert_eq!(h1, h3);
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
