//! A model-averaged single-hidden-layer network, as R caret's `avNNet`: several `nnet`s that
//! differ only in their random starting weights, their class probabilities averaged.
//!
//! Each net is R `nnet`'s: logistic hidden units, a softmax output, and the objective of
//! `nnet(softmax = TRUE)`: the summed cross-entropy plus `decay · Σ w²` over every weight,
//! biases included, minimised by quasi-Newton (the crate's L-BFGS; `nnet` uses BFGS) for at most
//! `max_iterations` (`nnet`'s `maxit`, 100). Inputs are centred and scaled with the training
//! rows' statistics (caret's `preProcess = c("center", "scale")`).
//!
//! Starting weights are drawn uniformly from `±0.7/√fan-in` by a ChaCha generator seeded from
//! the model's seed and the net's index, so a fit repeats exactly. (`nnet` draws from `±0.7`;
//! on 187 scaled inputs that saturates every hidden unit from the start.)
//!
//! Written here rather than with candle-nn or burn: a 187–12–10 network is two small matrix
//! products each way, full-batch quasi-Newton needs the loss and gradient as one flat vector,
//! which neither framework's optimisers provide, and either would add minutes to a cold build
//! for what is here a hundred lines.

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::{Classifier, Fit, ModelError};
use crate::preprocess::Standardizer;

/// Hyperparameters of the averaged network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetParams {
    /// Hidden units (the study chose 12).
    pub size: usize,
    /// Weight decay, at least 0 (the study chose 0.01).
    pub decay: f64,
    /// Nets averaged (caret's `avNNet` default: 5).
    pub repeats: usize,
    /// Cap on quasi-Newton iterations per net (`nnet`'s `maxit`).
    pub max_iterations: usize,
    /// Seed of the starting weights.
    pub seed: u64,
}

impl Default for NetParams {
    /// The study's final network: 12 hidden units, decay 0.01, five nets, seed 42.
    fn default() -> Self {
        NetParams::new(12, 0.01, 42)
    }
}

super::linfa_estimator!(NetParams => NetValidParams, AveragedNet);

impl NetParams {
    /// Checks every setting, naming the first one out of range.
    pub fn validate(&self) -> Result<(), ModelError> {
        super::require(self.size >= 1, "size", || {
            "must be at least 1, got 0".into()
        })?;
        super::require(self.repeats >= 1, "repeats", || {
            "must be at least 1, got 0".into()
        })?;
        super::require(self.decay.is_finite() && self.decay >= 0.0, "decay", || {
            format!("must be a finite number >= 0, got {}", self.decay)
        })
    }

    /// `size` hidden units and decay `decay`, five nets, at most 100 iterations each.
    pub fn new(size: usize, decay: f64, seed: u64) -> Self {
        NetParams {
            size,
            decay,
            repeats: 5,
            max_iterations: 100,
            seed,
        }
    }
}

/// The weights of one net, viewed in a flat parameter vector.
#[derive(Debug, Clone, Copy)]
struct Shape {
    inputs: usize,
    hidden: usize,
    classes: usize,
}

impl Shape {
    fn len(self) -> usize {
        (self.inputs + 1) * self.hidden + (self.hidden + 1) * self.classes
    }

    /// `(W1 with the bias as last row, W2 with the bias as last row)`.
    fn split(self, w: ArrayView1<'_, f64>) -> (ArrayView2<'_, f64>, ArrayView2<'_, f64>) {
        let first = (self.inputs + 1) * self.hidden;
        let w1 = w
            .slice_move(s![..first])
            .into_shape_with_order((self.inputs + 1, self.hidden))
            .expect("contiguous");
        let w2 = w
            .slice_move(s![first..])
            .into_shape_with_order((self.hidden + 1, self.classes))
            .expect("contiguous");
        (w1, w2)
    }
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// Hidden activations and output logits of `x` (scaled rows).
fn forward(
    shape: Shape,
    w: ArrayView1<'_, f64>,
    x: ArrayView2<'_, f64>,
) -> (Array2<f64>, Array2<f64>) {
    let (w1, w2) = shape.split(w);
    let mut hidden = x.dot(&w1.slice(s![..shape.inputs, ..]));
    hidden += &w1.row(shape.inputs);
    hidden.mapv_inplace(sigmoid);
    let mut logits = hidden.dot(&w2.slice(s![..shape.hidden, ..]));
    logits += &w2.row(shape.hidden);
    (hidden, logits)
}

/// The penalised cross-entropy and its gradient.
fn objective(
    shape: Shape,
    w: &Array1<f64>,
    x: ArrayView2<'_, f64>,
    y: &[u8],
    decay: f64,
) -> (f64, Array1<f64>) {
    let (hidden, mut p) = forward(shape, w.view(), x);
    let loss = super::cross_entropy(&mut p, y, decay * w.dot(w));
    let d_out = p;
    let (_, w2) = shape.split(w.view());
    // Back through the output layer to the hidden units' inputs.
    let mut d_hidden = d_out.dot(&w2.slice(s![..shape.hidden, ..]).t());
    d_hidden.zip_mut_with(&hidden, |d, &h| *d *= h * (1.0 - h));

    let mut grad = w * (2.0 * decay);
    let first = (shape.inputs + 1) * shape.hidden;
    {
        let mut g1 = grad
            .slice_mut(s![..first])
            .into_shape_with_order((shape.inputs + 1, shape.hidden))
            .expect("contiguous");
        g1.slice_mut(s![..shape.inputs, ..])
            .scaled_add(1.0, &x.t().dot(&d_hidden));
        g1.row_mut(shape.inputs)
            .scaled_add(1.0, &d_hidden.sum_axis(Axis(0)));
    }
    let mut g2 = grad
        .slice_mut(s![first..])
        .into_shape_with_order((shape.hidden + 1, shape.classes))
        .expect("contiguous");
    g2.slice_mut(s![..shape.hidden, ..])
        .scaled_add(1.0, &hidden.t().dot(&d_out));
    g2.row_mut(shape.hidden)
        .scaled_add(1.0, &d_out.sum_axis(Axis(0)));
    (loss, grad)
}

/// Starting weights of net `index`: uniform on ±0.7/√fan-in, from the seed.
fn initial_weights(shape: Shape, seed: u64, index: usize) -> Array1<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    let first = (shape.inputs + 1) * shape.hidden;
    let r1 = 0.7 / ((shape.inputs + 1) as f64).sqrt();
    let r2 = 0.7 / ((shape.hidden + 1) as f64).sqrt();
    Array1::from_shape_fn(shape.len(), |i| {
        let r = if i < first { r1 } else { r2 };
        rng.gen_range(-r..=r)
    })
}

/// A fitted averaged network.
#[derive(Debug, Clone)]
pub struct AveragedNet {
    scaler: Standardizer,
    shape: Shape,
    nets: Vec<Array1<f64>>,
    iterations: Vec<usize>,
}

impl AveragedNet {
    /// Quasi-Newton iterations each net took (at most the `max_iterations` it was fitted with).
    pub fn iterations(&self) -> &[usize] {
        &self.iterations
    }
}

impl Fit for NetParams {
    type Model = AveragedNet;

    fn fit(&self, x: ArrayView2<'_, f64>, y: &[u8]) -> Result<AveragedNet, ModelError> {
        super::check_training(x, y)?;
        self.validate()?;
        let scaler = Standardizer::fit(x);
        let scaled = scaler.transform(x);
        let shape = Shape {
            inputs: x.ncols(),
            hidden: self.size,
            classes: super::n_classes(y),
        };
        let tolerance = 1e-5 * x.nrows() as f64;
        let fits: Vec<_> = (0..self.repeats)
            .into_par_iter()
            .map(|i| {
                crate::optim::lbfgs(
                    |w| objective(shape, w, scaled.view(), y, self.decay),
                    initial_weights(shape, self.seed, i),
                    tolerance,
                    self.max_iterations.max(1),
                )
            })
            .collect();
        Ok(AveragedNet {
            scaler,
            shape,
            iterations: fits.iter().map(|m| m.iterations).collect(),
            nets: fits.into_iter().map(|m| m.x).collect(),
        })
    }
}

impl Classifier for AveragedNet {
    fn predict(&self, x: ArrayView2<'_, f64>) -> Vec<u8> {
        let p = self.predict_proba(x).expect("a network has probabilities");
        super::argmax_rows(p.view())
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        assert_eq!(x.ncols(), self.shape.inputs, "same features as at fit time");
        let scaled = self.scaler.transform(x);
        let mut mean = Array2::zeros((x.nrows(), self.shape.classes));
        for w in &self.nets {
            let (_, mut p) = forward(self.shape, w.view(), scaled.view());
            super::softmax_rows(&mut p);
            mean += &p;
        }
        mean /= self.nets.len() as f64;
        Some(mean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::N_CLASSES;
    use ndarray::array;

    #[test]
    fn the_gradient_matches_finite_differences() {
        let x = array![
            [0.5, -1.0, 0.2],
            [1.5, 0.3, -0.4],
            [-0.7, 0.2, 0.9],
            [0.1, 0.9, 0.0]
        ];
        let y = [0, 3, 3, 9];
        let shape = Shape {
            inputs: 3,
            hidden: 4,
            classes: N_CLASSES,
        };
        let w = initial_weights(shape, 3, 0) * 3.0;
        let (_, g) = objective(shape, &w, x.view(), &y, 0.3);
        let h = 1e-6;
        for i in [0, 5, 13, 16, 20, shape.len() - 1] {
            let mut wp = w.clone();
            wp[i] += h;
            let mut wm = w.clone();
            wm[i] -= h;
            let numeric = (objective(shape, &wp, x.view(), &y, 0.3).0
                - objective(shape, &wm, x.view(), &y, 0.3).0)
                / (2.0 * h);
            assert!((numeric - g[i]).abs() < 1e-6, "{i}: {numeric} vs {}", g[i]);
        }
    }

    #[test]
    fn learns_a_non_linear_rule_and_repeats_exactly() {
        // XOR of the signs: no linear model separates it.
        let x = Array2::from_shape_fn((200, 2), |(i, j)| {
            (((i * 7 + j * 13) % 41) as f64 - 20.0) / 10.0 + if j == 0 { 0.05 } else { -0.05 }
        });
        let y: Vec<u8> = x
            .rows()
            .into_iter()
            .map(|r| if (r[0] > 0.0) == (r[1] > 0.0) { 2 } else { 6 })
            .collect();
        let params = NetParams {
            max_iterations: 300,
            ..NetParams::new(6, 1e-3, 11)
        };
        let model = params.fit(x.view(), &y).unwrap();
        let pred = model.predict(x.view());
        let right = pred.iter().zip(&y).filter(|(p, t)| p == t).count();
        assert!(right >= 190, "{right} of 200");
        let again = params.fit(x.view(), &y).unwrap();
        assert_eq!(
            model.predict_proba(x.view()),
            again.predict_proba(x.view()),
            "same seed, same probabilities"
        );
        let p = model.predict_proba(x.view()).unwrap();
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-9));
        assert!(NetParams::new(0, 0.1, 0).fit(x.view(), &y).is_err());
        assert!(NetParams::new(3, -1.0, 0).fit(x.view(), &y).is_err());
    }
}
