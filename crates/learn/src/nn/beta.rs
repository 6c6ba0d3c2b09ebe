//! The Beta bid distribution: `a ~ Beta(α, β)` on [0, 1] with `α = 1 + softplus(h₁)`,
//! `β = 1 + softplus(h₂)` from two head outputs (so the density is unimodal and finite).
//!
//! Log-probability and entropy are exact (closed forms with `ln Γ`, `ψ`, `ψ'`, evaluated in
//! `f64`). Sampled actions are clamped into [1e-6, 1 − 1e-6] so that `ln a` and `ln(1 − a)` stay
//! finite; the stored action is the clamped one, so old and new log-probabilities refer to the
//! same point.

use rand::Rng;
use rand_distr::Distribution;

use super::special::{digamma, ln_gamma, trigamma};
use super::Real;

/// Smallest distance of a stored action from 0 or 1.
pub const EDGE: f64 = 1e-6;

/// Per-sample functions of the Beta head.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Beta;

/// `softplus(h) = ln(1 + eʰ)`, stable, and its derivative `sigmoid(h)`.
#[inline]
fn softplus(h: f64) -> (f64, f64) {
    let e = (-h.abs()).exp();
    let sp = h.max(0.0) + e.ln_1p();
    let sig = if h >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    (sp, sig)
}

impl Beta {
    /// `(α, β, ∂α/∂h₁, ∂β/∂h₂)` from the two head outputs.
    #[inline]
    pub fn params<T: Real>(h1: T, h2: T) -> (f64, f64, f64, f64) {
        let (a, da) = softplus(h1.to_f64());
        let (b, db) = softplus(h2.to_f64());
        (1.0 + a, 1.0 + b, da, db)
    }

    /// `log p(a)` and its derivatives with respect to α and β.
    pub fn log_prob(a: f64, alpha: f64, beta: f64) -> (f64, f64, f64) {
        let (la, lb) = (a.ln(), (1.0 - a).ln());
        let lbeta = ln_gamma(alpha) + ln_gamma(beta) - ln_gamma(alpha + beta);
        let psi_ab = digamma(alpha + beta);
        (
            (alpha - 1.0) * la + (beta - 1.0) * lb - lbeta,
            la - digamma(alpha) + psi_ab,
            lb - digamma(beta) + psi_ab,
        )
    }

    /// The entropy and its derivatives with respect to α and β.
    pub fn entropy(alpha: f64, beta: f64) -> (f64, f64, f64) {
        let s = alpha + beta;
        let lbeta = ln_gamma(alpha) + ln_gamma(beta) - ln_gamma(s);
        let h = lbeta - (alpha - 1.0) * digamma(alpha) - (beta - 1.0) * digamma(beta)
            + (s - 2.0) * digamma(s);
        let t = (s - 2.0) * trigamma(s);
        (
            h,
            t - (alpha - 1.0) * trigamma(alpha),
            t - (beta - 1.0) * trigamma(beta),
        )
    }

    /// A sample, clamped into [EDGE, 1 − EDGE].
    pub fn sample<R: Rng + ?Sized>(alpha: f64, beta: f64, rng: &mut R) -> f64 {
        let d = rand_distr::Beta::new(alpha, beta).expect("α, β ≥ 1 are valid Beta parameters");
        d.sample(rng).clamp(EDGE, 1.0 - EDGE)
    }

    /// The deterministic action: the mean `α / (α + β)`.
    #[inline]
    pub fn mean(alpha: f64, beta: f64) -> f64 {
        alpha / (alpha + beta)
    }
}

#[cfg(test)]
mod tests {
    use super::super::check;
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn density_integrates_to_one_and_entropy_matches_integral() {
        for (al, be) in [(1.0, 1.0), (2.5, 1.3), (7.0, 3.0)] {
            let n = 200_000;
            let (mut mass, mut ent) = (0.0, 0.0);
            for i in 0..n {
                let a = (i as f64 + 0.5) / n as f64;
                let lp = Beta::log_prob(a, al, be).0;
                mass += lp.exp() / n as f64;
                ent -= lp.exp() * lp / n as f64;
            }
            assert!((mass - 1.0).abs() < 1e-4, "{al} {be}: {mass}");
            let h = Beta::entropy(al, be).0;
            assert!((ent - h).abs() < 1e-4, "{al} {be}: {ent} vs {h}");
        }
        // Beta(1, 1) is uniform: entropy 0.
        assert!(Beta::entropy(1.0, 1.0).0.abs() < 1e-12);
    }

    #[test]
    fn gradients_match_finite_differences() {
        for (a, al, be) in [(0.3, 1.5, 2.0), (0.9, 4.0, 1.2), (1e-3, 1.1, 6.0)] {
            let (_, da, db) = Beta::log_prob(a, al, be);
            check::grad(
                |p| Beta::log_prob(a, p[0], p[1]).0,
                &[al, be],
                &[da, db],
                1e-7,
            );
            let (_, da, db) = Beta::entropy(al, be);
            check::grad(|p| Beta::entropy(p[0], p[1]).0, &[al, be], &[da, db], 1e-7);
        }
        for (h1, h2) in [(0.0, 0.0), (-3.0, 2.0), (25.0, -40.0)] {
            let (_, _, da, db) = Beta::params(h1, h2);
            check::grad(
                |p| Beta::params(p[0], p[1]).0 + 2.0 * Beta::params(p[0], p[1]).1,
                &[h1, h2],
                &[da, 2.0 * db],
                1e-7,
            );
        }
    }

    #[test]
    fn samples_stay_inside_and_average_to_the_mean() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let n = 20_000;
        let mean: f64 = (0..n)
            .map(|_| {
                let a = Beta::sample(2.0, 3.0, &mut rng);
                assert!((EDGE..=1.0 - EDGE).contains(&a));
                a
            })
            .sum::<f64>()
            / n as f64;
        assert!((mean - Beta::mean(2.0, 3.0)).abs() < 0.01);
    }
}
