//! The PPO losses and their gradients, per sample and per chunk of rows.
//!
//! Actor: `L_π = (1/n)·Σ_active [−min(r·Â, clip(r, 1−ε, 1+ε)·Â) − c_H·H]`, with
//! `r = exp(log π(a) − log π_old(a))`, over the active samples only (agents without a request add
//! nothing). Critic: `L_V = c_V·(1/n)·Σ max(huber(R̂ − V), huber(R̂ − V_clip))` with
//! `V_clip = V_old + clip(V − V_old, −ε, ε)`, in normalised value space.
//!
//! Unlike the reference implementation's `huber_loss` (which drops the linear branch for large
//! negative errors), [`huber`] is the textbook Huber loss.
//!
//! The chunk functions are generic over [`Real`] so that the whole loss can be checked against
//! finite differences in `f64`; training runs them on `f32`.

use crate::config::{BidDistribution, TrainConfig};

use crate::nn::simd::{run_on, Isa, RowLoop};
use crate::nn::{Beta, Mlp, MlpCache, Real, SquashedGaussian};

/// Loss coefficients (from `[train]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coefs {
    /// PPO clip ε (ratio and value clipping).
    pub clip: f64,
    /// Entropy coefficient c_H.
    pub entropy: f64,
    /// Value-loss coefficient c_V.
    pub value: f64,
    /// Huber δ.
    pub huber_delta: f64,
}

impl From<&TrainConfig> for Coefs {
    fn from(cfg: &TrainConfig) -> Self {
        Self {
            clip: cfg.clip,
            entropy: cfg.entropy_coef,
            value: cfg.value_coef,
            huber_delta: cfg.huber_delta,
        }
    }
}

/// One sample's clipped surrogate: `(−min(r·Â, clip(r)·Â), ∂/∂log π)`.
#[inline]
pub fn ppo_term(ratio: f64, adv: f64, clip: f64) -> (f64, f64) {
    let s1 = ratio * adv;
    let s2 = ratio.clamp(1.0 - clip, 1.0 + clip) * adv;
    if s1 <= s2 {
        // Unclipped branch (also every ratio inside the clip range): ∂(r·Â)/∂log π = r·Â.
        (-s1, -s1)
    } else {
        (-s2, 0.0)
    }
}

/// Huber loss and its derivative.
#[inline]
pub fn huber(e: f64, delta: f64) -> (f64, f64) {
    if e.abs() <= delta {
        (0.5 * e * e, e)
    } else {
        (delta * (e.abs() - 0.5 * delta), delta * e.signum())
    }
}

/// One value's clipped Huber loss `max(huber(R̂ − V), huber(R̂ − V_clip))` and `∂/∂V`.
#[inline]
pub fn value_term(v: f64, v_old: f64, target: f64, clip: f64, delta: f64) -> (f64, f64) {
    let dv = v - v_old;
    let v_clip = v_old + dv.clamp(-clip, clip);
    let (l1, g1) = huber(target - v, delta);
    let (l2, g2) = huber(target - v_clip, delta);
    if l1 >= l2 {
        (l1, -g1)
    } else {
        (l2, if dv.abs() <= clip { -g2 } else { 0.0 })
    }
}

/// Rows of the actor update (their observations are in the network's cache, normalised: see
/// [`actor_chunk`]).
#[derive(Debug, Clone, Copy)]
pub struct ActorRows<'a, T> {
    /// Stored samples: pre-squash `u` (Gaussian) or the action `a` (Beta).
    pub sample: &'a [T],
    /// Log-probabilities under the rollout policy (Gaussian part only for the squashed
    /// Gaussian: the Jacobian cancels in the ratio).
    pub logp_old: &'a [T],
    /// Normalised advantages.
    pub adv: &'a [T],
}

/// Sums over a chunk of the actor loss terms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ActorSums {
    /// Σ −min(r·Â, clip(r)·Â).
    pub policy: f64,
    /// Σ H (only when asked for, for the squashed Gaussian).
    pub entropy: f64,
    /// Samples whose ratio lies outside [1 − ε, 1 + ε] (the "clip fraction" numerator).
    pub clipped: usize,
}

/// Where the actor's parameters sit: the MLP at offset 0, then (squashed Gaussian) log σ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActorLayout {
    /// Bid distribution.
    pub distribution: BidDistribution,
    /// Index of log σ (squashed Gaussian) in the parameter vector.
    pub log_std: usize,
}

/// Accumulates into `grads` the gradient of `inv_n · Σ_rows [−min(r·Â, clip(r)·Â) − c_H·H]`
/// for one chunk of rows and returns the chunk's sums.
///
/// The rows' observations must already be normalised into `cache`
/// ([`MlpCache::normalized_inputs_mut`], see [`Mlp::forward_normalized`]).
/// `dhead` is scratch of at least `rows × outputs`.
#[allow(clippy::too_many_arguments)] // reason: a hot kernel; a struct would only rename these
pub fn actor_chunk<T: Real>(
    net: &Mlp,
    layout: ActorLayout,
    params: &[T],
    rows: ActorRows<'_, T>,
    inv_n: f64,
    coefs: Coefs,
    entropy_value: bool,
    cache: &mut MlpCache<T>,
    dhead: &mut [T],
    grads: &mut [T],
) -> ActorSums {
    let n = rows.sample.len();
    net.forward_normalized(params, n, cache);
    let out = &cache.output()[..n * net.outputs()];
    let loss = LossRows {
        layout,
        params,
        out,
        rows,
        inv_n,
        coefs,
        entropy_value,
        dhead,
        grads,
    };
    // The per-row loop runs on the kernels' instruction set (the same bits; see `run_on`).
    let sums = run_on(Isa::current(), loss);
    net.backward(params, cache, dhead, n, grads);
    sums
}

/// The per-row part of [`actor_chunk`]: the PPO and entropy terms of each row, their sums, and
/// the gradient of the loss with respect to the head's outputs (`dhead`) and `log σ`.
struct LossRows<'a, T> {
    layout: ActorLayout,
    params: &'a [T],
    out: &'a [T],
    rows: ActorRows<'a, T>,
    inv_n: f64,
    coefs: Coefs,
    entropy_value: bool,
    dhead: &'a mut [T],
    grads: &'a mut [T],
}

impl<T: Real> RowLoop for LossRows<'_, T> {
    type Output = ActorSums;

    #[inline(always)]
    fn run(self) -> ActorSums {
        let LossRows {
            layout,
            params,
            out,
            rows,
            inv_n,
            coefs,
            entropy_value,
            dhead,
            grads,
        } = self;
        let n = rows.sample.len();
        let mut sums = ActorSums::default();
        let c_h = coefs.entropy;
        match layout.distribution {
            BidDistribution::SquashedGaussian => {
                let ls = params[layout.log_std];
                let sigma = ls.exp();
                // The same expression as in `log_prob_pre` (used by the rollout), so the first pass
                // reproduces the rollout's log-probabilities exactly.
                let inv_var = (T::from_f64(-2.0) * ls).exp();
                let mut dls = 0.0f64;
                let (eh_mu, eh_ls) = (T::from_f64(c_h * inv_n), c_h * inv_n);
                let (mut dmu_h8, mut dls_h8) = ([T::ZERO; 8], [T::ZERO; 8]);
                let mut h8 = [0.0f64; 8];
                for r in 0..n {
                    // The entropy gradients (and values) of eight rows at once (see
                    // `entropy_grad_with8`).
                    if r % 8 == 0 {
                        let mut mu8 = [T::ZERO; 8];
                        let m = 8.min(n - r);
                        mu8[..m].copy_from_slice(&out[r..r + m]);
                        (dmu_h8, dls_h8) = SquashedGaussian::entropy_grad_with8(&mu8, sigma);
                        if entropy_value {
                            h8 = SquashedGaussian::entropy8(&mu8, sigma, ls);
                        }
                    }
                    let (dmu_h, dls_h) = (dmu_h8[r % 8], dls_h8[r % 8]);
                    let mu = out[r];
                    let (lp, dmu_lp, dls_lp) =
                        SquashedGaussian::log_prob_pre_with(rows.sample[r], mu, ls, inv_var);
                    let ratio = (lp - rows.logp_old[r]).to_f64().exp();
                    let adv = rows.adv[r].to_f64();
                    let (loss, g) = ppo_term(ratio, adv, coefs.clip);
                    sums.policy += loss;
                    sums.clipped += ((ratio - 1.0).abs() > coefs.clip) as usize;
                    let g = T::from_f64(g * inv_n);
                    dhead[r] = g * dmu_lp - eh_mu * dmu_h;
                    dls += (g * dls_lp).to_f64() - eh_ls * dls_h.to_f64();
                    if entropy_value {
                        sums.entropy += h8[r % 8];
                    }
                }
                grads[layout.log_std] += T::from_f64(dls);
            }
            BidDistribution::Beta => {
                for r in 0..n {
                    let (alpha, beta, da_dh, db_dh) = Beta::params(out[2 * r], out[2 * r + 1]);
                    let (lp, da_lp, db_lp) = Beta::log_prob(rows.sample[r].to_f64(), alpha, beta);
                    let ratio = (lp - rows.logp_old[r].to_f64()).exp();
                    let (loss, g) = ppo_term(ratio, rows.adv[r].to_f64(), coefs.clip);
                    sums.policy += loss;
                    sums.clipped += ((ratio - 1.0).abs() > coefs.clip) as usize;
                    let (h, da_h, db_h) = Beta::entropy(alpha, beta);
                    sums.entropy += h;
                    dhead[2 * r] = T::from_f64((g * da_lp - c_h * da_h) * da_dh * inv_n);
                    dhead[2 * r + 1] = T::from_f64((g * db_lp - c_h * db_h) * db_dh * inv_n);
                }
            }
        }
        sums
    }
}

/// Rows of the critic update (their inputs, global states or local observations, are in the
/// network's cache, normalised: see [`critic_chunk`]).
#[derive(Debug, Clone, Copy)]
pub struct CriticRows<'a, T> {
    /// Normalised value predictions of the rollout.
    pub value_old: &'a [T],
    /// Normalised returns.
    pub target: &'a [T],
}

/// Accumulates into `grads` the gradient of `c_V · inv_n · Σ_rows value_term` for one chunk
/// and returns the chunk's Σ value_term (without `c_V`). The rows' inputs must already be
/// normalised into `cache`, as in [`actor_chunk`].
#[allow(clippy::too_many_arguments)] // reason: as `actor_chunk`
pub fn critic_chunk<T: Real>(
    net: &Mlp,
    params: &[T],
    rows: CriticRows<'_, T>,
    inv_n: f64,
    coefs: Coefs,
    cache: &mut MlpCache<T>,
    dout: &mut [T],
    grads: &mut [T],
) -> f64 {
    let n = rows.target.len();
    net.forward_normalized(params, n, cache);
    let out = cache.output();
    let mut total = 0.0;
    let scale = coefs.value * inv_n;
    for r in 0..n {
        let (l, g) = value_term(
            out[r].to_f64(),
            rows.value_old[r].to_f64(),
            rows.target[r].to_f64(),
            coefs.clip,
            coefs.huber_delta,
        );
        total += l;
        dout[r] = T::from_f64(g * scale);
    }
    net.backward(params, cache, dout, n, grads);
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::check;
    use crate::nn::Activation;
    use rand::SeedableRng;

    #[test]
    fn ppo_term_by_hand() {
        // Inside the clip range: −r·Â and its derivative −r·Â.
        assert_eq!(ppo_term(1.1, 2.0, 0.2), (-2.2, -2.2));
        // Positive advantage, ratio above 1 + ε: the clipped branch wins, gradient 0.
        let (l, g) = ppo_term(1.5, 2.0, 0.2);
        assert!((l + 2.4).abs() < 1e-12 && g == 0.0);
        // Negative advantage, ratio above 1 + ε: min picks r·Â = −3, still pushes back.
        assert_eq!(ppo_term(1.5, -2.0, 0.2), (3.0, 3.0));
        // Negative advantage, ratio below 1 − ε: clipped, no gradient.
        let (l, g) = ppo_term(0.5, -2.0, 0.2);
        assert!((l - 1.6).abs() < 1e-12 && g == 0.0);
    }

    #[test]
    fn value_term_by_hand() {
        // Huber: quadratic inside δ, linear outside.
        assert_eq!(huber(0.5, 1.0), (0.125, 0.5));
        assert_eq!(huber(-3.0, 1.0), (2.5, -1.0));
        // V moved from 0 to 1 with ε = 0.2, target 2: V_clip = 0.2; the clipped error 1.8 is
        // larger (loss 1.62), and its gradient is cut because V left the clip range.
        let (l, g) = value_term(1.0, 0.0, 2.0, 0.2, 10.0);
        assert!((l - 1.62).abs() < 1e-12 && g == 0.0);
        // Target 0: the unclipped error −1 is larger; ∂/∂V of ½(0 − V)² is V = 1.
        assert_eq!(value_term(1.0, 0.0, 0.0, 0.2, 10.0), (0.5, 1.0));
        // Inside the clip range both errors agree.
        assert_eq!(value_term(0.1, 0.0, 1.1, 0.2, 10.0), (0.5, -1.0));
    }

    fn full_actor_loss_matches_finite_differences(distribution: BidDistribution) {
        let (rows, d) = (9, 4);
        let outs = if distribution == BidDistribution::Beta {
            2
        } else {
            1
        };
        let net = Mlp::new(d, &[6, 5], outs, 0, Activation::Relu);
        let layout = ActorLayout {
            distribution,
            log_std: net.len(),
        };
        let mut p = check::random(net.len() + 1, 21);
        net.init(&mut p, 1.0, &mut rand_chacha::ChaCha8Rng::seed_from_u64(4));
        p[net.len()] = -0.4;
        let obs = check::random(rows * d, 22);
        let noise = check::random(rows, 23);
        let adv = check::random(rows, 24);
        // Samples and old log-probs near the current policy: some ratios clipped, some not.
        let mut cache = MlpCache::new(&net, rows);
        net.forward(&p, &obs, rows, &mut cache);
        let out = cache.output().to_vec();
        let (mut sample, mut logp_old) = (vec![0.0; rows], vec![0.0; rows]);
        for r in 0..rows {
            match distribution {
                BidDistribution::SquashedGaussian => {
                    sample[r] = out[r] + 0.7 * noise[r];
                    logp_old[r] = SquashedGaussian::log_prob_pre(sample[r], out[r], p[net.len()]).0
                        + 0.6 * check::random(rows, 25)[r];
                }
                BidDistribution::Beta => {
                    sample[r] = 0.5 + 0.45 * noise[r];
                    let (a, b, _, _) = Beta::params(out[2 * r], out[2 * r + 1]);
                    logp_old[r] =
                        Beta::log_prob(sample[r], a, b).0 + 0.6 * check::random(rows, 25)[r];
                }
            }
        }
        let coefs = Coefs {
            clip: 0.2,
            entropy: 0.3,
            value: 0.5,
            huber_delta: 10.0,
        };
        let inv_n = 1.0 / rows as f64;
        let loss = |q: &[f64]| {
            let mut cache = MlpCache::new(&net, rows);
            net.forward(q, &obs, rows, &mut cache);
            let out = cache.output();
            let mut total = 0.0;
            for r in 0..rows {
                let (lp, h) = match distribution {
                    BidDistribution::SquashedGaussian => (
                        SquashedGaussian::log_prob_pre(sample[r], out[r], q[net.len()]).0,
                        SquashedGaussian::entropy(out[r], q[net.len()]),
                    ),
                    BidDistribution::Beta => {
                        let (a, b, _, _) = Beta::params(out[2 * r], out[2 * r + 1]);
                        (Beta::log_prob(sample[r], a, b).0, Beta::entropy(a, b).0)
                    }
                };
                total +=
                    ppo_term((lp - logp_old[r]).exp(), adv[r], coefs.clip).0 - coefs.entropy * h;
            }
            total * inv_n
        };
        let mut grads = vec![0.0; p.len()];
        let mut dhead = vec![0.0; rows * outs];
        let sums = actor_chunk(
            &net,
            layout,
            &p,
            // The observations are in `cache`, normalised by the forward pass above.
            ActorRows {
                sample: &sample,
                logp_old: &logp_old,
                adv: &adv,
            },
            inv_n,
            coefs,
            true,
            &mut cache,
            &mut dhead,
            &mut grads,
        );
        assert!(sums.clipped > 0 && sums.clipped < rows, "{sums:?}");
        assert!(((sums.policy - coefs.entropy * sums.entropy) * inv_n - loss(&p)).abs() < 1e-12);
        if distribution == BidDistribution::Beta {
            grads[net.len()] = 0.0; // log σ is unused by the Beta head.
        }
        // The Gaussian entropy gradient uses fast_tanh (within 5e-7 of tanh).
        check::grad(loss, &p, &grads, 1e-5);
    }

    #[test]
    fn full_actor_loss_gradient_squashed_gaussian() {
        full_actor_loss_matches_finite_differences(BidDistribution::SquashedGaussian);
    }

    #[test]
    fn full_actor_loss_gradient_beta() {
        full_actor_loss_matches_finite_differences(BidDistribution::Beta);
    }

    #[test]
    fn full_critic_loss_matches_finite_differences() {
        let (rows, d) = (12, 5);
        let net = Mlp::new(d, &[6, 6], 1, 0, Activation::Relu);
        let mut p = vec![0.0; net.len()];
        net.init(&mut p, 1.0, &mut rand_chacha::ChaCha8Rng::seed_from_u64(5));
        let input = check::random(rows * d, 31);
        let mut cache = MlpCache::new(&net, rows);
        net.forward(&p, &input, rows, &mut cache);
        let out = cache.output().to_vec();
        // Old values scattered around the current ones (some beyond ε), targets anywhere, two
        // beyond δ so the linear Huber branch is exercised.
        let value_old: Vec<f64> = check::random(rows, 32)
            .iter()
            .zip(&out)
            .map(|(n, v)| v + 0.5 * n)
            .collect();
        let mut target: Vec<f64> = check::random(rows, 33).iter().map(|x| 2.0 * x).collect();
        target[0] = 30.0;
        target[1] = -30.0;
        let coefs = Coefs {
            clip: 0.2,
            entropy: 0.0,
            value: 0.5,
            huber_delta: 10.0,
        };
        let inv_n = 1.0 / rows as f64;
        let loss = |q: &[f64]| {
            let mut cache = MlpCache::new(&net, rows);
            net.forward(q, &input, rows, &mut cache);
            let out = cache.output();
            (0..rows)
                .map(|r| value_term(out[r], value_old[r], target[r], 0.2, 10.0).0)
                .sum::<f64>()
                * coefs.value
                * inv_n
        };
        let mut grads = vec![0.0; p.len()];
        let mut dout = vec![0.0; rows];
        // The inputs are in `cache`, normalised by the forward pass above.
        let rows_ = CriticRows {
            value_old: &value_old,
            target: &target,
        };
        let total = critic_chunk(
            &net, &p, rows_, inv_n, coefs, &mut cache, &mut dout, &mut grads,
        );
        assert!((total * coefs.value * inv_n - loss(&p)).abs() < 1e-12);
        check::grad(loss, &p, &grads, 1e-5);
    }
}
