//! Running normalisation of value targets (the reference implementation's `ValueNorm`).

use serde::{Deserialize, Serialize};

/// Exponentially weighted mean and mean square of the returns with a debiasing term, so early
/// estimates are not pulled towards 0: `mean = m / d`, `var = max(m₂/d − mean², 0.01)`.
///
/// The critic predicts normalised values; GAE and the reported values use
/// [`ValueNorm::denormalize`]. Like the reference, `update` is called with each minibatch's
/// returns before its value loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueNorm {
    /// Weight of the old statistics per update. By default, 0.99999.
    pub beta: f64,
    /// Floor of the debiasing term. By default, 1e-5.
    pub eps: f64,
    /// Running mean (biased).
    pub mean: f64,
    /// Running mean of squares (biased).
    pub mean_sq: f64,
    /// Debiasing term `1 − βⁿ`.
    pub debias: f64,
}

impl Default for ValueNorm {
    fn default() -> Self {
        Self {
            beta: 0.99999,
            eps: 1e-5,
            mean: 0.0,
            mean_sq: 0.0,
            debias: 0.0,
        }
    }
}

impl ValueNorm {
    /// Folds the batch mean and mean square of `xs` into the running statistics.
    pub fn update(&mut self, xs: &[f64]) {
        if xs.is_empty() {
            return;
        }
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let m2 = xs.iter().map(|x| x * x).sum::<f64>() / n;
        let w = self.beta;
        self.mean = w * self.mean + (1.0 - w) * m;
        self.mean_sq = w * self.mean_sq + (1.0 - w) * m2;
        self.debias = w * self.debias + (1.0 - w);
    }

    /// Debiased mean and variance.
    pub fn mean_var(&self) -> (f64, f64) {
        let d = self.debias.max(self.eps);
        let mean = self.mean / d;
        let var = (self.mean_sq / d - mean * mean).max(1e-2);
        (mean, var)
    }

    /// `(x − mean) / std`.
    pub fn normalize(&self, x: f64) -> f64 {
        let (m, v) = self.mean_var();
        (x - m) / v.sqrt()
    }

    /// `x · std + mean`.
    pub fn denormalize(&self, x: f64) -> f64 {
        let (m, v) = self.mean_var();
        x * v.sqrt() + m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debiased_statistics_of_one_batch_are_the_batch_statistics() {
        let mut vn = ValueNorm::default();
        vn.update(&[1.0, 2.0, 3.0]);
        let (m, v) = vn.mean_var();
        assert!((m - 2.0).abs() < 1e-9);
        assert!((v - 2.0 / 3.0).abs() < 1e-6);
        assert!(vn.normalize(2.0).abs() < 1e-9);
        assert!((vn.denormalize(vn.normalize(3.7)) - 3.7).abs() < 1e-12);
    }

    #[test]
    fn variance_has_a_floor_and_fresh_stats_are_identity_like() {
        let vn = ValueNorm::default();
        // No data yet: mean 0, variance floor 0.01 → std 0.1.
        assert!((vn.normalize(1.0) - 10.0).abs() < 1e-9);
        let mut vn = ValueNorm::default();
        vn.update(&[5.0, 5.0]);
        assert!((vn.mean_var().1 - 0.01).abs() < 1e-6);
    }
}
