//! Layer normalisation over the features of each row, with a learned gain and bias.

use serde::{Deserialize, Serialize};

use super::{lane_sum, Real};

/// `y = γ ⊙ (x − mean) / sqrt(var + ε) + β` per row; `γ` then `β` in the parameter vector.
///
/// The forward pass keeps the normalised input `x̂` and `1/σ` of every row for the backward pass.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LayerNorm {
    /// Features per row.
    pub dim: usize,
    /// Offset of `γ` in the parameter vector; `β` follows it.
    pub offset: usize,
    /// ε added to the variance (PyTorch's default, 1e-5).
    pub eps: f64,
}

impl LayerNorm {
    /// A layer norm over `dim` features whose parameters start at `offset`.
    pub fn new(dim: usize, offset: usize) -> Self {
        Self {
            dim,
            offset,
            eps: 1e-5,
        }
    }

    /// Number of parameters (`2 · dim`).
    pub fn len(&self) -> usize {
        2 * self.dim
    }

    /// Whether the layer has no parameters.
    pub fn is_empty(&self) -> bool {
        self.dim == 0
    }

    /// Sets `γ = 1`, `β = 0` (PyTorch's initialisation).
    pub fn init<T: Real>(&self, params: &mut [T]) {
        let d = self.dim;
        params[self.offset..self.offset + d].fill(T::ONE);
        params[self.offset + d..self.offset + 2 * d].fill(T::ZERO);
    }

    /// Normalises `rows` rows of `x` into `y`, keeping `x̂` (`rows × dim`) and `1/σ` (`rows`):
    /// [`LayerNorm::normalize`] then [`LayerNorm::scale_shift`].
    #[inline(always)] // reason: inlined into the fused path's instruction-set variants
    pub fn forward<T: Real>(
        &self,
        params: &[T],
        x: &[T],
        rows: usize,
        y: &mut [T],
        xhat: &mut [T],
        rstd: &mut [T],
    ) {
        self.normalize(x, rows, xhat, rstd);
        self.scale_shift(params, xhat, rows, y);
    }

    /// The parameter-free half of [`LayerNorm::forward`]: `x̂ = (x − mean) / sqrt(var + ε)`
    /// (`rows × dim`) and `1/σ` (`rows`) of `rows` rows of `x`. The update normalises its
    /// fixed observations once with this, not once per pass.
    pub fn normalize<T: Real>(&self, x: &[T], rows: usize, xhat: &mut [T], rstd: &mut [T]) {
        let d = self.dim;
        let inv_d = T::from_f64(1.0 / d as f64);
        let eps = T::from_f64(self.eps);
        for r in 0..rows {
            let xr = &x[r * d..(r + 1) * d];
            let mean = lane_sum(xr, xr, |a, _| a) * inv_d;
            let var = lane_sum(xr, xr, |a, _| (a - mean) * (a - mean)) * inv_d;
            let s = T::ONE / (var + eps).sqrt();
            rstd[r] = s;
            for (h, &v) in xhat[r * d..(r + 1) * d].iter_mut().zip(xr) {
                *h = (v - mean) * s;
            }
        }
    }

    /// The learned half of [`LayerNorm::forward`]: `y = γ ⊙ x̂ + β` for `rows` rows of `x̂`.
    #[inline(always)] // reason: inlined into the fused path's instruction-set variants
    pub fn scale_shift<T: Real>(&self, params: &[T], xhat: &[T], rows: usize, y: &mut [T]) {
        let d = self.dim;
        let gamma = &params[self.offset..self.offset + d];
        let beta = &params[self.offset + d..self.offset + 2 * d];
        for (yr, hr) in y[..rows * d].chunks_exact_mut(d).zip(xhat.chunks_exact(d)) {
            for (((o, &n), &g), &b) in yr.iter_mut().zip(hr).zip(gamma).zip(beta) {
                *o = g * n + b;
            }
        }
    }

    /// Accumulates `∂γ`, `∂β` and, if asked, writes `dx` from `dy` and the forward cache
    /// `saved = (x̂, 1/σ)`.
    pub fn backward<T: Real>(
        &self,
        params: &[T],
        saved: (&[T], &[T]),
        dy: &[T],
        rows: usize,
        dx: Option<&mut [T]>,
        grads: &mut [T],
    ) {
        let d = self.dim;
        let (xhat, rstd) = saved;
        let (gg, gb) = grads[self.offset..self.offset + 2 * d].split_at_mut(d);
        for r in 0..rows {
            let hr = &xhat[r * d..(r + 1) * d];
            let dr = &dy[r * d..(r + 1) * d];
            for (((g, b), &h), &e) in gg.iter_mut().zip(gb.iter_mut()).zip(hr).zip(dr) {
                *g += e * h;
                *b += e;
            }
        }
        let Some(dx) = dx else { return };
        let gamma = &params[self.offset..self.offset + d];
        let inv_d = T::from_f64(1.0 / d as f64);
        let mut g = vec![T::ZERO; d];
        for r in 0..rows {
            let hr = &xhat[r * d..(r + 1) * d];
            let dr = &dy[r * d..(r + 1) * d];
            for ((o, &e), &gm) in g.iter_mut().zip(dr).zip(gamma) {
                *o = e * gm;
            }
            let m1 = lane_sum(&g, &g, |a, _| a) * inv_d;
            let m2 = lane_sum(&g, hr, |a, h| a * h) * inv_d;
            let s = rstd[r];
            for ((o, &e), &h) in dx[r * d..(r + 1) * d].iter_mut().zip(&g).zip(hr) {
                *o = s * (e - m1 - h * m2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::check;
    use super::*;

    #[test]
    fn normalises_rows() {
        let ln = LayerNorm::new(4, 0);
        let mut p = vec![0.0; 8];
        ln.init(&mut p);
        let x = [1.0, 2.0, 3.0, 4.0, -1.0, -1.0, 1.0, 1.0];
        let (mut y, mut h, mut s) = (vec![0.0; 8], vec![0.0; 8], vec![0.0; 2]);
        ln.forward(&p, &x, 2, &mut y, &mut h, &mut s);
        for r in y.chunks(4) {
            let mean: f64 = r.iter().sum::<f64>() / 4.0;
            let var: f64 = r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
            assert!(mean.abs() < 1e-12);
            assert!((var - 1.0).abs() < 1e-4, "{var}");
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        let (rows, d) = (3, 5);
        let ln = LayerNorm::new(d, 1);
        // Non-trivial γ, β so their role in dx is tested.
        let p: Vec<f64> = check::random(1 + ln.len(), 4)
            .iter()
            .map(|v| v + 1.0)
            .collect();
        let x: Vec<f64> = check::random(rows * d, 5).iter().map(|v| 3.0 * v).collect();
        let c = check::random(rows * d, 6);
        let loss = |p: &[f64], x: &[f64]| {
            let (mut y, mut h, mut s) = (vec![0.0; rows * d], vec![0.0; rows * d], vec![0.0; rows]);
            ln.forward(p, x, rows, &mut y, &mut h, &mut s);
            check::dot(&c, &y)
        };
        let (mut y, mut h, mut s) = (vec![0.0; rows * d], vec![0.0; rows * d], vec![0.0; rows]);
        ln.forward(&p, &x, rows, &mut y, &mut h, &mut s);
        let mut grads = vec![0.0; p.len()];
        let mut dx = vec![0.0; rows * d];
        ln.backward(&p, (&h, &s), &c, rows, Some(&mut dx), &mut grads);
        check::grad(|q| loss(q, &x), &p, &grads, 1e-6);
        check::grad(|q| loss(&p, q), &x, &dx, 1e-6);
    }
}
