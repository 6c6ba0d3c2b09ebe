//! Adam (Kingma & Ba), with PyTorch's bias correction and ε placement.

use serde::{Deserialize, Serialize};

use super::Real;

/// Adam state for one flat parameter vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay β₁. By default, 0.9.
    pub beta1: f64,
    /// Second-moment decay β₂. By default, 0.999.
    pub beta2: f64,
    /// ε added to the denominator (the reference implementation's 1e-5).
    pub eps: f64,
    /// Steps taken.
    pub t: u64,
    /// First moments.
    #[serde(with = "super::bits")]
    pub m: Vec<f32>,
    /// Second moments.
    #[serde(with = "super::bits")]
    pub v: Vec<f32>,
}

impl Adam {
    /// Fresh state for `n` parameters.
    pub fn new(n: usize, lr: f64) -> Self {
        Self {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-5,
            t: 0,
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    /// One step: `p ← p − lr/(1−β₁ᵗ) · m / (sqrt(v)/sqrt(1−β₂ᵗ) + ε)`.
    ///
    /// # Panics
    /// If `params`, `grads` and the state differ in length.
    pub fn step<T: Real>(&mut self, params: &mut [T], grads: &[T]) {
        assert_eq!(params.len(), self.m.len(), "Adam: parameter count");
        assert_eq!(grads.len(), self.m.len(), "Adam: gradient count");
        self.t += 1;
        let t = self.t as i32;
        let b1 = self.beta1 as f32;
        let b2 = self.beta2 as f32;
        let step = T::from_f64(self.lr / (1.0 - self.beta1.powi(t)));
        let inv_bc2 = (1.0 / (1.0 - self.beta2.powi(t)).sqrt()) as f32;
        let eps = self.eps as f32;
        for i in 0..params.len() {
            let g = grads[i].to_f64() as f32;
            let m = b1 * self.m[i] + (1.0 - b1) * g;
            let v = b2 * self.v[i] + (1.0 - b2) * g * g;
            self.m[i] = m;
            self.v[i] = v;
            let denom = v.sqrt() * inv_bc2 + eps;
            params[i] -= step * T::from_f64((m / denom) as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_steps_match_hand_computation() {
        let mut adam = Adam::new(2, 0.1);
        let mut p = [1.0f32, -1.0];
        adam.step(&mut p, &[0.5, -2.0]);
        // After one step m̂ = g, v̂ = g², so each parameter moves by lr · g/(|g| + ε) ≈ lr·sign(g).
        assert!((p[0] - (1.0 - 0.1 * 0.5 / (0.5 + 1e-5))).abs() < 1e-6);
        assert!((p[1] - (-1.0 + 0.1 * 2.0 / (2.0 + 1e-5))).abs() < 1e-6);
        adam.step(&mut p, &[0.5, 0.0]);
        // Second step, parameter 1: m = 0.9·(−0.2) = −0.18 → m̂ = −0.18/0.19;
        // v = 0.999·0.004 = 0.003996 → v̂ = 0.003996/0.001999.
        let mhat = -0.18 / 0.19;
        let vhat = 0.003_996f64 / (1.0 - 0.999f64.powi(2));
        let expect = -1.0 + 0.1 * 2.0 / (2.0 + 1e-5) - 0.1 * mhat / (vhat.sqrt() + 1e-5);
        assert!((p[1] as f64 - expect).abs() < 1e-5, "{} vs {expect}", p[1]);
        assert_eq!(adam.t, 2);
    }
}
