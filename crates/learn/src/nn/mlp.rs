//! The MLP of the reference MAPPO implementation: `LayerNorm(input)`, then per hidden layer
//! `Linear → activation → LayerNorm`, then a linear head.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::aligned::AlignedVec;
use super::{orthogonal, LayerNorm, Linear, Real, Relu, Tanh};

/// Hidden-layer activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// [`Relu`] (the reference's default, and ours).
    Relu,
    /// [`Tanh`] (fast rational approximation).
    Tanh,
}

impl Activation {
    fn forward<T: Real>(self, x: &mut [T]) {
        match self {
            Self::Relu => Relu::forward(x),
            Self::Tanh => Tanh::forward(x),
        }
    }

    fn backward<T: Real>(self, y: &[T], dy: &mut [T]) {
        match self {
            Self::Relu => Relu::backward(y, dy),
            Self::Tanh => Tanh::backward(y, dy),
        }
    }

    /// The orthogonal-init gain of layers feeding this activation (√2 for ReLU, 5/3 for tanh).
    pub fn gain(self) -> f64 {
        match self {
            Self::Relu => std::f64::consts::SQRT_2,
            Self::Tanh => 5.0 / 3.0,
        }
    }
}

/// Layer layout of an MLP inside a flat parameter vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    /// Normalisation of the raw input.
    pub input_norm: LayerNorm,
    /// Hidden blocks: `Linear → activation → LayerNorm`.
    pub hidden: Vec<(Linear, LayerNorm)>,
    /// The output layer.
    pub head: Linear,
    /// Hidden activation.
    pub activation: Activation,
}

impl Mlp {
    /// An MLP `inputs → hidden[0] → … → outputs` whose parameters start at `offset`.
    pub fn new(
        inputs: usize,
        hidden: &[usize],
        outputs: usize,
        offset: usize,
        activation: Activation,
    ) -> Self {
        let input_norm = LayerNorm::new(inputs, offset);
        let mut at = offset + input_norm.len();
        let mut width = inputs;
        let mut blocks = Vec::with_capacity(hidden.len());
        for &h in hidden {
            let lin = Linear::new(width, h, at);
            at += lin.len();
            let norm = LayerNorm::new(h, at);
            at += norm.len();
            blocks.push((lin, norm));
            width = h;
        }
        let head = Linear::new(width, outputs, at);
        Self {
            input_norm,
            hidden: blocks,
            head,
            activation,
        }
    }

    /// Offset of the first parameter.
    pub fn offset(&self) -> usize {
        self.input_norm.offset
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.head.offset + self.head.len() - self.offset()
    }

    /// Whether the MLP has no parameters (never).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Input features.
    pub fn inputs(&self) -> usize {
        self.input_norm.dim
    }

    /// Output features.
    pub fn outputs(&self) -> usize {
        self.head.outputs
    }

    /// Multiply-adds per row of one forward plus one backward pass: every weight matrix once
    /// forward and once for its gradient, and once more for the gradient of its input, except
    /// the first layer's (which the backward pass never forms; see `fused`). The arithmetic
    /// floor the speed of an update is measured against.
    pub fn macs_per_row(&self) -> usize {
        let layers = self.hidden.iter().map(|(l, _)| l).chain([&self.head]);
        let matrix = |l: &Linear| l.inputs * l.outputs;
        let all: usize = layers.map(matrix).sum();
        let first = self.hidden.first().map_or(&self.head, |(l, _)| l);
        3 * all - matrix(first)
    }

    /// Orthogonal init: hidden layers with the activation's gain, the head with `head_gain`,
    /// biases 0, layer norms γ = 1, β = 0.
    pub fn init<T: Real, R: Rng + ?Sized>(&self, params: &mut [T], head_gain: f64, rng: &mut R) {
        let gain = self.activation.gain();
        self.input_norm.init(params);
        let layers = self.hidden.iter().map(|(l, _)| (l, gain));
        for (lin, g) in layers.chain(std::iter::once((&self.head, head_gain))) {
            let w = orthogonal(lin.inputs, lin.outputs, g, rng);
            for (p, x) in lin.weights_mut(params).iter_mut().zip(w) {
                *p = T::from_f64(x);
            }
            let b = lin.offset + lin.inputs * lin.outputs;
            params[b..b + lin.outputs].fill(T::ZERO);
        }
        for (_, norm) in &self.hidden {
            norm.init(params);
        }
    }

    /// Runs `rows` rows of `x` through the network; the output (`rows × outputs`) is
    /// `cache.output(rows)`.
    ///
    /// # Panics
    /// If `rows` exceeds the cache capacity.
    pub fn forward<T: Real>(&self, params: &[T], x: &[T], rows: usize, cache: &mut MlpCache<T>) {
        let d = self.inputs();
        let c = &mut *cache;
        self.input_norm
            .normalize(&x[..rows * d], rows, &mut c.xhat0, &mut c.rstd0);
        self.forward_normalized(params, rows, cache);
    }

    /// [`Mlp::forward`] from inputs already normalised into `cache` (the parameter-free half of
    /// the input LayerNorm, [`LayerNorm::normalize`], written to
    /// [`MlpCache::normalized_inputs_mut`]): the update's observations are fixed for a whole
    /// update, so it normalises them once instead of once per pass.
    ///
    /// # Panics
    /// If `rows` exceeds the cache capacity.
    pub fn forward_normalized<T: Real>(&self, params: &[T], rows: usize, cache: &mut MlpCache<T>) {
        assert!(
            rows <= cache.capacity,
            "MLP cache holds {} rows",
            cache.capacity
        );
        if cache.fused {
            return super::simd::forward(super::simd::Isa::current(), self, params, rows, cache);
        }
        self.input_norm
            .scale_shift(params, &cache.xhat0, rows, &mut cache.h0);
        for (i, (lin, norm)) in self.hidden.iter().enumerate() {
            let (before, rest) = cache.blocks.split_at_mut(i);
            let input: &[T] = before.last().map_or(&cache.h0, |b| &b.h);
            let b = &mut rest[0];
            let n = rows * lin.outputs;
            lin.forward(params, input, rows, &mut b.a);
            self.activation.forward(&mut b.a[..n]);
            norm.forward(params, &b.a, rows, &mut b.h, &mut b.xhat, &mut b.rstd);
        }
        let last: &[T] = cache.blocks.last().map_or(&cache.h0, |b| &b.h);
        self.head.forward(params, last, rows, &mut cache.out);
    }

    /// Accumulates the parameter gradients of `Σ dout ⊙ output` for the rows of the last
    /// `forward`.
    pub fn backward<T: Real>(
        &self,
        params: &[T],
        cache: &mut MlpCache<T>,
        dout: &[T],
        rows: usize,
        grads: &mut [T],
    ) {
        if cache.fused {
            let isa = super::simd::Isa::current();
            return super::simd::backward(isa, self, params, cache, dout, rows, grads);
        }
        let MlpCache {
            h0,
            xhat0,
            rstd0,
            blocks,
            d1,
            d2,
            ..
        } = cache;
        // d1 holds ∂/∂(input of the current layer), d2 is scratch.
        let last: &[T] = blocks.last().map_or(h0, |b| &b.h);
        self.head
            .backward(params, last, dout, rows, Some(&mut d1[..]), grads);
        for (i, (lin, norm)) in self.hidden.iter().enumerate().rev() {
            let b = &blocks[i];
            let n = rows * lin.outputs;
            norm.backward(
                params,
                (&b.xhat, &b.rstd),
                d1,
                rows,
                Some(&mut d2[..]),
                grads,
            );
            self.activation.backward(&b.a[..n], &mut d2[..n]);
            let input: &[T] = if i == 0 { h0 } else { &blocks[i - 1].h };
            lin.backward(params, input, d2, rows, Some(&mut d1[..]), grads);
        }
        self.input_norm
            .backward(params, (xhat0, rstd0), d1, rows, None, grads);
    }
}

/// Activations of one hidden block.
#[derive(Debug, Clone)]
pub(super) struct BlockCache<T> {
    /// Activation output.
    pub(super) a: AlignedVec<T>,
    /// Normalised `a`.
    pub(super) xhat: AlignedVec<T>,
    /// `1/σ` per row.
    pub(super) rstd: AlignedVec<T>,
    /// Block output.
    pub(super) h: AlignedVec<T>,
}

/// Forward activations and backward scratch for up to `capacity` rows of one [`Mlp`].
#[derive(Debug, Clone)]
pub struct MlpCache<T> {
    capacity: usize,
    /// Whether the network runs on the fused path ([`super::fused`]).
    pub(super) fused: bool,
    pub(super) h0: AlignedVec<T>,
    pub(super) xhat0: AlignedVec<T>,
    pub(super) rstd0: AlignedVec<T>,
    pub(super) blocks: Vec<BlockCache<T>>,
    pub(super) out: AlignedVec<T>,
    pub(super) d1: AlignedVec<T>,
    pub(super) d2: AlignedVec<T>,
    /// Fused path: transposed weights (`H × H`, or the head's `outputs × H`).
    pub(super) wt: AlignedVec<T>,
    /// Fused path: the backward pass's head scratch and `M` (see [`super::fused`]).
    pub(super) scratch: AlignedVec<T>,
}

impl<T: Real> MlpCache<T> {
    /// Buffers for `mlp` and batches of up to `capacity` rows.
    pub fn new(mlp: &Mlp, capacity: usize) -> Self {
        let c = capacity;
        let widest = mlp
            .hidden
            .iter()
            .map(|(l, _)| l.outputs)
            .chain([mlp.inputs(), mlp.outputs()])
            .max()
            .unwrap_or(0);
        let blocks = mlp
            .hidden
            .iter()
            .map(|(l, _)| BlockCache {
                a: AlignedVec::new(T::ZERO, c * l.outputs),
                xhat: AlignedVec::new(T::ZERO, c * l.outputs),
                rstd: AlignedVec::new(T::ZERO, c),
                h: AlignedVec::new(T::ZERO, c * l.outputs),
            })
            .collect();
        let fused = super::fused::eligible(mlp);
        let (h, o) = (super::fused::WIDTH, mlp.outputs());
        let (wt, scratch) = if fused {
            (h * h.max(o), 2 * h * o + o + mlp.inputs() * h)
        } else {
            (0, 0)
        };
        Self {
            capacity,
            fused,
            wt: AlignedVec::new(T::ZERO, wt),
            scratch: AlignedVec::new(T::ZERO, scratch),
            h0: AlignedVec::new(T::ZERO, c * mlp.inputs()),
            xhat0: AlignedVec::new(T::ZERO, c * mlp.inputs()),
            rstd0: AlignedVec::new(T::ZERO, c),
            blocks,
            out: AlignedVec::new(T::ZERO, c * mlp.outputs()),
            d1: AlignedVec::new(T::ZERO, c * widest),
            d2: AlignedVec::new(T::ZERO, c * widest),
        }
    }

    /// The normalised inputs `x̂` (`capacity × inputs`) that [`Mlp::forward_normalized`] starts
    /// from. (Their `1/σ` would only be needed for the gradient of the inputs, which no
    /// backward pass computes.)
    pub fn normalized_inputs_mut(&mut self) -> &mut [T] {
        &mut self.xhat0
    }

    /// The normalised inputs of the last forward pass ([`MlpCache::normalized_inputs_mut`]).
    pub fn normalized_inputs(&self) -> &[T] {
        &self.xhat0
    }

    /// Rows the cache can hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The output of the last forward pass (`rows × outputs`, row-major).
    pub fn output(&self) -> &[T] {
        &self.out
    }

    /// Fills every buffer with NaN, for tests that a pass reads nothing it did not write.
    #[cfg(test)]
    pub(crate) fn poison(&mut self) {
        let nan = T::from_f64(f64::NAN);
        let blocks = self
            .blocks
            .iter_mut()
            .flat_map(|b| [&mut b.a, &mut b.xhat, &mut b.rstd, &mut b.h]);
        let rest = [
            &mut self.h0,
            &mut self.xhat0,
            &mut self.rstd0,
            &mut self.out,
            &mut self.d1,
            &mut self.d2,
            &mut self.wt,
            &mut self.scratch,
        ];
        for v in blocks.chain(rest) {
            v.fill(nan);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::check;
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn layout_counts_parameters() {
        let m = Mlp::new(13, &[64, 64], 1, 0, Activation::Relu);
        assert_eq!(
            m.len(),
            26 + (13 * 64 + 64) + 128 + (64 * 64 + 64) + 128 + 65
        );
        let m2 = Mlp::new(13, &[64, 64], 1, 7, Activation::Relu);
        assert_eq!(m2.len(), m.len());
        assert_eq!(m2.offset(), 7);
    }

    #[test]
    fn backward_matches_finite_differences() {
        for act in [Activation::Relu, Activation::Tanh] {
            let (rows, inp, out) = (6, 5, 2);
            let mlp = Mlp::new(inp, &[7, 4], out, 3, act);
            let mut p = check::random(3 + mlp.len(), 11);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
            mlp.init(&mut p, 0.5, &mut rng);
            // Perturb γ, β and biases away from their init so that every path is exercised.
            for (x, r) in p.iter_mut().zip(check::random(3 + mlp.len(), 12)) {
                *x += 0.3 * r;
            }
            let x: Vec<f64> = check::random(rows * inp, 13)
                .iter()
                .map(|v| 2.0 * v)
                .collect();
            let c = check::random(rows * out, 14);
            let mut cache = MlpCache::new(&mlp, rows);
            let loss = |q: &[f64]| {
                let mut cache = MlpCache::new(&mlp, rows);
                mlp.forward(q, &x, rows, &mut cache);
                check::dot(&c, cache.output())
            };
            mlp.forward(&p, &x, rows, &mut cache);
            let mut grads = vec![0.0; p.len()];
            mlp.backward(&p, &mut cache, &c, rows, &mut grads);
            assert!(grads[..3].iter().all(|&g| g == 0.0), "outside the MLP");
            // Tanh's backward uses 1 − y², the derivative of the exact tanh, while the forward
            // is a rational approximation (nn/tanh.rs); the finite difference follows the
            // approximation, so small tanh gradients differ by ~2e-4 relative (2e-8 absolute).
            let tol = if act == Activation::Relu { 1e-6 } else { 1e-4 };
            check::grad(loss, &p, &grads, tol);
        }
    }

    /// A ReLU MLP on the fused path with parameters perturbed away from their init.
    fn fused_net(inputs: usize, blocks: usize, outputs: usize) -> (Mlp, Vec<f64>) {
        let mlp = Mlp::new(inputs, &vec![64; blocks], outputs, 2, Activation::Relu);
        let mut p = check::random(2 + mlp.len(), 21);
        mlp.init(&mut p, 0.5, &mut rand_chacha::ChaCha8Rng::seed_from_u64(3));
        for (x, r) in p.iter_mut().zip(check::random(2 + mlp.len(), 22)) {
            *x += 0.3 * r;
        }
        (mlp, p)
    }

    #[test]
    fn fused_backward_matches_finite_differences() {
        // One, two and three hidden blocks; one and two outputs; rows not a multiple of the
        // kernels' tiles.
        for (inputs, blocks, outputs, rows) in [(13, 2, 1, 5), (3, 1, 2, 3), (6, 3, 1, 2)] {
            let (mlp, p) = fused_net(inputs, blocks, outputs);
            let x: Vec<f64> = check::random(rows * inputs, 23)
                .iter()
                .map(|v| 2.0 * v)
                .collect();
            let c = check::random(rows * outputs, 24);
            let mut cache = MlpCache::new(&mlp, rows);
            assert!(cache.fused);
            mlp.forward(&p, &x, rows, &mut cache);
            let mut grads = vec![0.0; p.len()];
            mlp.backward(&p, &mut cache, &c, rows, &mut grads);
            assert!(grads[..2].iter().all(|&g| g == 0.0), "outside the MLP");
            let loss = |q: &[f64]| {
                let mut cache = MlpCache::new(&mlp, rows);
                mlp.forward(q, &x, rows, &mut cache);
                check::dot(&c, cache.output())
            };
            check::grad(loss, &p, &grads, 1e-6);
        }
    }

    #[test]
    fn macs_per_row_count_each_product_of_a_pass() {
        // The paper's actor, 13 → 64 → 64 → 2: 5,056 forward; 5,056 weight gradients;
        // 4,096 + 128 input gradients (none for the first layer).
        let mlp = Mlp::new(13, &[64, 64], 2, 0, Activation::Relu);
        assert_eq!(mlp.macs_per_row(), 5056 + 5056 + 4096 + 128);
        assert_eq!(
            Mlp::new(3, &[], 2, 0, Activation::Relu).macs_per_row(),
            2 * 6
        );
    }

    #[test]
    fn fused_path_agrees_with_the_layered_path() {
        // Two outputs (a separate head pass) and one (the head computed with the last block).
        for outputs in [2, 1] {
            let (rows, inputs) = (7, 13);
            let (mlp, p) = fused_net(inputs, 2, outputs);
            let x = check::random(rows * inputs, 25);
            let c = check::random(rows * outputs, 26);
            let run = |fused: bool| {
                let mut cache = MlpCache::new(&mlp, rows);
                cache.fused = fused;
                mlp.forward(&p, &x, rows, &mut cache);
                let out = cache.output()[..rows * outputs].to_vec();
                let mut grads = vec![0.5; p.len()];
                mlp.backward(&p, &mut cache, &c, rows, &mut grads);
                (out, grads)
            };
            let (fast, slow) = (run(true), run(false));
            for (a, b) in fast
                .0
                .iter()
                .chain(&fast.1)
                .zip(slow.0.iter().chain(&slow.1))
            {
                assert!((a - b).abs() < 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        use crate::nn::simd::{self, Isa};
        // Row counts that reach every tiling: one row, a partial tile, one tile, a pair of
        // tiles, pairs + a tile + a tail; input widths with every remainder of the 6-row
        // weight-gradient tiles (6 and 12: none; 13: one); one and two outputs.
        for (rows, inputs, blocks, outputs) in [
            (37, 13, 2, 1),
            (1, 13, 2, 1),
            (5, 6, 1, 2),
            (6, 12, 2, 1),
            (12, 7, 3, 1),
            (23, 24, 2, 2),
        ] {
            let (mlp, p64) = fused_net(inputs, blocks, outputs);
            let p: Vec<f32> = p64.iter().map(|&v| v as f32).collect();
            let x: Vec<f32> = check::random(rows * inputs, 27)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let c: Vec<f32> = check::random(rows * outputs, 28)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let run = |isa: Isa| {
                let mut cache = MlpCache::new(&mlp, rows);
                let mut rstd = vec![0.0; rows];
                mlp.input_norm
                    .normalize(&x, rows, cache.normalized_inputs_mut(), &mut rstd);
                simd::forward(isa, &mlp, &p, rows, &mut cache);
                let out = cache.output()[..rows * outputs].to_vec();
                let mut grads = vec![0.25f32; p.len()];
                simd::backward(isa, &mlp, &p, &mut cache, &c, rows, &mut grads);
                (out, grads)
            };
            let base = run(Isa::Portable);
            for isa in Isa::available() {
                let got = run(isa);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                let case = format!("{isa:?}, {rows} rows, {inputs} inputs, {blocks} blocks");
                assert_eq!(bits(&got.0), bits(&base.0), "{case}: forward");
                assert_eq!(bits(&got.1), bits(&base.1), "{case}: gradients");
            }
            // A row's output does not depend on its batch: the last row alone gives the same
            // bits.
            let r = rows - 1;
            let mut one = MlpCache::new(&mlp, 1);
            mlp.forward(&p, &x[r * inputs..(r + 1) * inputs], 1, &mut one);
            assert_eq!(
                one.output()[..outputs]
                    .iter()
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>(),
                base.0[r * outputs..(r + 1) * outputs]
                    .iter()
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn smaller_batches_reuse_a_larger_cache() {
        let mlp = Mlp::new(3, &[8, 8], 1, 0, Activation::Relu);
        let mut p = vec![0.0f32; mlp.len()];
        mlp.init(&mut p, 1.0, &mut rand_chacha::ChaCha8Rng::seed_from_u64(2));
        let x: Vec<f32> = (0..12).map(|i| i as f32 * 0.1).collect();
        let mut big = MlpCache::new(&mlp, 10);
        let mut small = MlpCache::new(&mlp, 4);
        mlp.forward(&p, &x, 4, &mut big);
        mlp.forward(&p, &x, 4, &mut small);
        assert_eq!(big.output()[..4], small.output()[..4]);
    }
}
