//! The RSU-to-vehicle radio channel (M2–M4): path loss, shadowing, fast fading, SNR and rate.
//!
//! Each VM transmits on its own orthogonal band, so links do not interfere. The per-slot cost is
//! kept low by folding everything but the VM's power and the link's fading into one linear gain
//! per (vehicle, serving RSU): SNR = p_m · g_v · |h|².
//!
//! ## Limitations
//! Shadowing is tracked for each vehicle's serving RSU (the only link whose rate the model uses).
//! When a vehicle changes RSU, the new pair starts from a fresh draw of the stationary
//! N(0, σ²) distribution, which is what a pair state that evolved unobserved converges to.

use rand::Rng;
use rand_distr::{Exp1, StandardNormal};

use serde::{Deserialize, Serialize};

use crate::check::{finite, non_negative, positive};
use crate::error::Result;

/// `[channel]`: the RSU-to-vehicle radio link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelConfig {
    /// Bandwidth of each VM's orthogonal band in Hz. By default, 1e6.
    pub bandwidth_hz: f64,
    /// Log-normal shadowing standard deviation in dB. By default, 8.
    pub shadowing_std_db: f64,
    /// Shadowing decorrelation distance in metres. By default, 50.
    pub decorrelation_m: f64,
    /// RSU antenna height in metres. By default, 25.
    pub rsu_height_m: f64,
    /// Vehicle antenna height in metres. By default, 1.5.
    pub vehicle_height_m: f64,
    /// RSU antenna gain in dBi. By default, 8.
    pub rsu_antenna_gain_dbi: f64,
    /// Vehicle antenna gain in dBi. By default, 3.
    pub vehicle_antenna_gain_dbi: f64,
    /// Vehicle receiver noise figure in dB. By default, 9.
    pub vehicle_noise_figure_db: f64,
    /// Thermal noise power spectral density in dBm/Hz. By default, -174.
    pub noise_psd_dbm_hz: f64,
    /// Upper bound of the VM transmit power p_m ~ U(0, max] in W. By default, 10.
    pub vm_power_max_w: f64,
    /// Coherence time of the block-fading transfer model (M10) in ms: every block of this length
    /// draws a fresh |h|². By default, 2.5 (0.423 / f_D with f_D = v f_c / c at 90 km/h and a
    /// 2 GHz carrier).
    pub coherence_ms: f64,
    /// Delivery deadline of one transfer in ms (M10): a transfer still running then counts as a
    /// late delivery with this latency. By default, 1000 (the default slot length).
    pub latency_cap_ms: f64,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            bandwidth_hz: 1e6,
            shadowing_std_db: 8.0,
            decorrelation_m: 50.0,
            rsu_height_m: 25.0,
            vehicle_height_m: 1.5,
            rsu_antenna_gain_dbi: 8.0,
            vehicle_antenna_gain_dbi: 3.0,
            vehicle_noise_figure_db: 9.0,
            noise_psd_dbm_hz: -174.0,
            vm_power_max_w: 10.0,
            coherence_ms: 2.5,
            latency_cap_ms: 1000.0,
        }
    }
}

impl ChannelConfig {
    /// Checks every value against its allowed range.
    ///
    /// # Errors
    /// [`crate::Error::Config`] naming the first offending `channel.*` key.
    pub fn validate(&self) -> Result<()> {
        let c = self;
        positive("channel.bandwidth_hz", c.bandwidth_hz)?;
        non_negative("channel.shadowing_std_db", c.shadowing_std_db)?;
        positive("channel.decorrelation_m", c.decorrelation_m)?;
        non_negative("channel.rsu_height_m", c.rsu_height_m)?;
        non_negative("channel.vehicle_height_m", c.vehicle_height_m)?;
        finite("channel.rsu_antenna_gain_dbi", c.rsu_antenna_gain_dbi)?;
        finite(
            "channel.vehicle_antenna_gain_dbi",
            c.vehicle_antenna_gain_dbi,
        )?;
        finite("channel.vehicle_noise_figure_db", c.vehicle_noise_figure_db)?;
        finite("channel.noise_psd_dbm_hz", c.noise_psd_dbm_hz)?;
        positive("channel.vm_power_max_w", c.vm_power_max_w)?;
        positive("channel.coherence_ms", c.coherence_ms)?;
        positive("channel.latency_cap_ms", c.latency_cap_ms)?;
        Ok(())
    }
}

/// M2: 3GPP TR 36.885 V2I path loss in dB at 3-D distance `d3_m` metres:
/// PL = 128.1 + 37.6 · log10(d₃ / 1000).
#[inline]
pub fn path_loss_db(d3_m: f64) -> f64 {
    // Below 1 m the formula leaves its domain; the antenna height difference keeps d₃ ≥ 23.5 m
    // in practice, the clamp only guards degenerate configs.
    128.1 + 37.6 * (d3_m.max(1.0) / 1000.0).log10()
}

/// 3-D distance between an RSU antenna and a vehicle antenna at ground distance `d_m` (M2).
#[inline]
pub fn distance_3d(d_m: f64, rsu_height_m: f64, vehicle_height_m: f64) -> f64 {
    let dh = rsu_height_m - vehicle_height_m;
    (d_m * d_m + dh * dh).sqrt()
}

/// M3: one Gudmundson step of log-normal shadowing (dB) after moving `delta_m` metres:
/// S ← e^(−Δ/d_c) S + sqrt(1 − e^(−2Δ/d_c)) · σ · z, with z ~ N(0, 1).
#[inline]
pub fn gudmundson_step(
    s_db: f64,
    delta_m: f64,
    decorrelation_m: f64,
    sigma_db: f64,
    z: f64,
) -> f64 {
    let rho = (-delta_m / decorrelation_m).exp();
    rho * s_db + (1.0 - rho * rho).max(0.0).sqrt() * sigma_db * z
}

/// M4: Rayleigh fading power gain |h|² ~ Exp(1).
#[inline]
pub fn rayleigh_power(rng: &mut impl Rng) -> f64 {
    rng.sample(Exp1)
}

/// A stationary shadowing sample, N(0, σ²) dB.
#[inline]
pub fn shadowing_sample(rng: &mut impl Rng, sigma_db: f64) -> f64 {
    sigma_db * rng.sample::<f64, _>(StandardNormal)
}

/// Shannon rate B · log2(1 + SNR) in bit/s (§1.4).
#[inline]
pub fn shannon_rate(bandwidth_hz: f64, snr_linear: f64) -> f64 {
    bandwidth_hz * snr_linear.ln_1p() * std::f64::consts::LOG2_E
}

/// M10: the time in ms to deliver `bits` over a block-fading link, and whether it missed the
/// deadline.
///
/// The link keeps `first_rate_bps` for one coherence time of `coherence_ms`; every later block
/// runs at a fresh rate from `next_rate` (a new |h|² draw), until the bits are delivered. A
/// transfer still running at `cap_ms` is late: its latency is `cap_ms`. With a single fading
/// draw per transfer the latency 8 c_s / R has an infinite mean (E[1/|h|²] diverges); blocks
/// make it finite and the cap bounds it.
pub fn block_fading_latency_ms(
    bits: f64,
    first_rate_bps: f64,
    coherence_ms: f64,
    cap_ms: f64,
    mut next_rate: impl FnMut() -> f64,
) -> (f64, bool) {
    let (mut elapsed_ms, mut left, mut rate) = (0.0, bits, first_rate_bps);
    loop {
        let need_ms = left / rate * 1000.0;
        if need_ms <= coherence_ms {
            let total = elapsed_ms + need_ms;
            return if total > cap_ms {
                (cap_ms, true)
            } else {
                (total, false)
            };
        }
        elapsed_ms += coherence_ms;
        if elapsed_ms >= cap_ms {
            return (cap_ms, true);
        }
        left -= rate * coherence_ms / 1000.0;
        rate = next_rate();
    }
}

/// dBm of a power in watts.
#[inline]
pub fn watts_to_dbm(p_w: f64) -> f64 {
    10.0 * (p_w * 1000.0).log10()
}

/// Converts dB to a linear ratio.
#[inline]
pub fn db_to_linear(db: f64) -> f64 {
    10f64.powf(db / 10.0)
}

/// The fixed part of the link budget (§1.4), precomputed from the config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkBudget {
    /// G_rsu + G_veh − NF_veh − N₀ in dB, where N₀ = PSD + 10·log10(B) dBm.
    pub fixed_db: f64,
    /// Bandwidth B in Hz.
    pub bandwidth_hz: f64,
    /// RSU antenna height.
    pub rsu_height_m: f64,
    /// Vehicle antenna height.
    pub vehicle_height_m: f64,
}

impl LinkBudget {
    /// The budget of `cfg`.
    pub fn new(cfg: &ChannelConfig) -> Self {
        let noise_dbm = cfg.noise_psd_dbm_hz + 10.0 * cfg.bandwidth_hz.log10();
        Self {
            fixed_db: cfg.rsu_antenna_gain_dbi + cfg.vehicle_antenna_gain_dbi
                - cfg.vehicle_noise_figure_db
                - noise_dbm,
            bandwidth_hz: cfg.bandwidth_hz,
            rsu_height_m: cfg.rsu_height_m,
            vehicle_height_m: cfg.vehicle_height_m,
        }
    }

    /// Received SNR in dB: P_tx(dBm) + G_rsu + G_veh − NF − PL − S + 10·log10|h|² − N₀.
    pub fn snr_db(
        &self,
        p_tx_w: f64,
        ground_distance_m: f64,
        shadowing_db: f64,
        fading_power: f64,
    ) -> f64 {
        let d3 = distance_3d(ground_distance_m, self.rsu_height_m, self.vehicle_height_m);
        watts_to_dbm(p_tx_w) + self.fixed_db - path_loss_db(d3) - shadowing_db
            + 10.0 * fading_power.log10()
    }

    /// Linear gain g such that SNR = p_tx(mW) · g · |h|² (everything but power and fading).
    pub fn link_gain(&self, ground_distance_m: f64, shadowing_db: f64) -> f64 {
        let d3 = distance_3d(ground_distance_m, self.rsu_height_m, self.vehicle_height_m);
        // 10^(x/10) as one exp: this runs for every vehicle every slot.
        let db = self.fixed_db - path_loss_db(d3) - shadowing_db;
        (db * (std::f64::consts::LN_10 / 10.0)).exp()
    }

    /// Rate in bit/s for transmit power `p_tx_w`, link gain `gain` and fading power `h2`.
    #[inline]
    pub fn rate(&self, p_tx_w: f64, gain: f64, h2: f64) -> f64 {
        shannon_rate(self.bandwidth_hz, p_tx_w * 1000.0 * gain * h2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Stream};

    #[test]
    fn block_fading_delivers_across_blocks_and_caps_late_transfers() {
        // 8000 bits at 8 Mbit/s fit in the first 2.5 ms block: 1 ms, no draw.
        let (l, late) = block_fading_latency_ms(8000.0, 8e6, 2.5, 1000.0, || unreachable!());
        assert!((l - 1.0).abs() < 1e-12 && !late);
        // At 1 Mbit/s the first block carries 2500 bits; the rest (5500) at 11 Mbit/s takes 0.5 ms.
        let (l, late) = block_fading_latency_ms(8000.0, 1e6, 2.5, 1000.0, || 11e6);
        assert!((l - 3.0).abs() < 1e-12 && !late);
        // A link that never recovers is capped and counted late.
        let mut draws = 0;
        let (l, late) = block_fading_latency_ms(8000.0, 1.0, 2.5, 10.0, || {
            draws += 1;
            1.0
        });
        assert_eq!((l, late, draws), (10.0, true, 3));
    }

    #[test]
    fn block_fading_latency_has_a_finite_mean_whose_ci_shrinks_like_one_over_root_n() {
        // Single-draw latency 8c/R has E = ∞: its sample CI does not shrink. Under block fading
        // the half-width of the 95 % CI of the mean, over n and 4n transfers, halves.
        use crate::rng::{stream, Stream};
        let link = |h2: f64| shannon_rate(1e6, 0.5 * h2);
        let half_width = |n: usize, seed: u64| {
            let mut rng = stream(seed, Stream::User, 0, 0);
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    let first = link(rayleigh_power(&mut rng));
                    let mut next = stream(seed, Stream::BlockFading, 0, 0);
                    block_fading_latency_ms(2000.0 * 8.0, first, 2.5, 1000.0, || {
                        link(rayleigh_power(&mut next))
                    })
                    .0
                })
                .collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            assert!(xs.iter().all(|&x| x <= 1000.0), "never above the cap");
            1.96 * (var / n as f64).sqrt()
        };
        let (a, b) = (half_width(20_000, 1), half_width(80_000, 2));
        let ratio = a / b;
        assert!((1.6..2.5).contains(&ratio), "CI ratio {ratio} (n vs 4n)");
    }

    #[test]
    fn path_loss_at_reference_distances() {
        assert!((path_loss_db(1000.0) - 128.1).abs() < 1e-12);
        assert!((path_loss_db(100.0) - (128.1 - 37.6)).abs() < 1e-12);
        assert!((path_loss_db(10_000.0) - (128.1 + 37.6)).abs() < 1e-12);
        let d3 = distance_3d(300.0, 25.0, 1.5);
        assert!((d3 - (300f64.powi(2) + 23.5f64.powi(2)).sqrt()).abs() < 1e-12);
        assert!((path_loss_db(d3) - (128.1 + 37.6 * (d3 / 1000.0).log10())).abs() < 1e-12);
    }

    #[test]
    fn shadowing_has_sigma_8db_and_exponential_lag_correlation() {
        let mut rng = stream(11, Stream::User, 0, 0);
        let (sigma, dc, delta) = (8.0, 50.0, 25.0);
        let n = 200_000;
        let mut s = shadowing_sample(&mut rng, sigma);
        let mut xs = Vec::with_capacity(n);
        for _ in 0..n {
            let z: f64 = rng.sample(StandardNormal);
            s = gudmundson_step(s, delta, dc, sigma, z);
            xs.push(s);
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((var.sqrt() - 8.0).abs() < 0.1, "std {}", var.sqrt());
        let cov = xs
            .windows(2)
            .map(|w| (w[0] - mean) * (w[1] - mean))
            .sum::<f64>()
            / (n - 1) as f64;
        let rho = cov / var;
        assert!(
            (rho - (-0.5f64).exp()).abs() < 0.01,
            "lag correlation {rho}"
        );
    }

    #[test]
    fn rayleigh_power_has_unit_mean() {
        let mut rng = stream(5, Stream::User, 0, 0);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| rayleigh_power(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.03, "var {var}");
    }

    #[test]
    fn gain_form_matches_the_db_link_budget() {
        let lb = LinkBudget::new(&ChannelConfig::default());
        // N₀ = −174 + 60 = −114 dBm; fixed = 8 + 3 − 9 + 114 = 116 dB.
        assert!((lb.fixed_db - 116.0).abs() < 1e-9);
        for (p, d, s, h) in [(5.0, 300.0, 3.0, 0.7), (0.1, 700.0, -6.0, 2.0)] {
            let via_db = shannon_rate(1e6, db_to_linear(lb.snr_db(p, d, s, h)));
            let via_gain = lb.rate(p, lb.link_gain(d, s), h);
            assert!((via_db - via_gain).abs() / via_db < 1e-9);
        }
        // 5 W at 300 m ground distance, no shadowing, unit fading. With the antenna heights
        // (25 m − 1.5 m) the 3-D distance is 300.92 m: PL = 128.1 + 37.6·log10(0.30092) =
        // 108.490 dB and SNR = 36.990 + 116 − 108.490 = 44.500 dB (≈ 14.8 Mbit/s). Without the
        // heights it would be 44.549 dB, so the tolerance must stay well below 0.05 dB.
        let snr = lb.snr_db(5.0, 300.0, 0.0, 1.0);
        assert!((snr - 44.500).abs() < 0.005, "snr {snr}");
    }
}
