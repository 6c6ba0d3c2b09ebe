//! What the agents and the critic see (DESIGN.md §1.8): the [`ObservationLayout`] (named offsets
//! and bounds of the observation and global-state vectors, the one source for the env and the
//! Python spaces) and the code that fills them.
//!
//! Observation (5), agent-major, `paper` variant: the share of buyers + sellers in each of the N
//! markets, the last clearing price of the agent's market and log2(1 + mean rate to the agent's
//! RSU in Mbit/s); `extended` appends the own valuation u_v, the has-request flag, the slots
//! waited (as a fraction of the TTL) and a one-hot of the agent's RSU.
//!
//! Global state: per RSU [`STATE_PER_RSU`] features (see the `STATE_*` offsets), then t/T.
//!
//! ## Invariants
//! Every feature lies in `[0, high]` with `high` from [`ObservationLayout::observation_high`] /
//! [`ObservationLayout::state_high`]: prices never exceed `bid_max` (individual rationality),
//! valuations never exceed the largest of the size table, and a rate B·log2(1 + SNR) is at most
//! 1024·B for any finite `f64` SNR.

use std::ops::Range;

use super::IovEnv;
use crate::agents::{ObservationKind, ObservationSource};
use crate::error::{Error, Result};
use crate::rsu::NO_RSU;
use crate::Scenario;

/// Features per RSU in the global state.
pub const STATE_PER_RSU: usize = 6;
/// State offset (within an RSU's block) of the buyer count over all vehicles.
pub const STATE_BUYER_SHARE: usize = 0;
/// State offset of the seller share of the market: sellers / (buyers + sellers).
pub const STATE_SELLER_SHARE: usize = 1;
/// State offset of the last clearing price.
pub const STATE_LAST_PRICE: usize = 2;
/// State offset of the mean pending valuation.
pub const STATE_MEAN_VALUATION: usize = 3;
/// State offset of the largest pending valuation.
pub const STATE_MAX_VALUATION: usize = 4;
/// State offset of the mean ask.
pub const STATE_MEAN_ASK: usize = 5;

/// Named offsets and bounds of the observation and global-state vectors of one scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObservationLayout {
    /// Number of RSUs (local markets), N.
    pub rsus: usize,
    /// The observation variant.
    pub kind: ObservationKind,
    /// Largest bid, the bound of every price.
    pub bid_max: f64,
    /// Largest valuation of the size table.
    pub max_valuation: f64,
    /// Bound of the log-rate feature.
    pub max_log_rate: f32,
    /// Largest ask: the cost of a VM's last unit at full power, 1 + κ (capacity − 1).
    pub max_ask: f64,
}

impl ObservationLayout {
    /// The layout of `scenario`, whose size table's largest valuation is `max_valuation`.
    pub fn new(scenario: &Scenario, max_valuation: f64) -> Self {
        let m = &scenario.market;
        Self {
            rsus: scenario.scenario.rsus,
            kind: scenario.agents.observation,
            bid_max: m.bid_max,
            max_valuation,
            max_log_rate: Self::log_rate(scenario.channel.bandwidth_hz * 1024.0),
            max_ask: 1.0 + m.marginal_cost_growth * (m.vm_capacity as f64 - 1.0),
        }
    }

    /// The log-rate feature log2(1 + rate in Mbit/s) of a rate in bit/s.
    #[inline]
    pub fn log_rate(rate_bps: f64) -> f32 {
        (rate_bps / 1e6).ln_1p() as f32 * std::f32::consts::LOG2_E
    }

    /// Length of one agent's observation: N + 2 (paper) or 2N + 5 (extended).
    pub fn obs_dim(&self) -> usize {
        match self.kind {
            ObservationKind::Paper => self.rsus + 2,
            ObservationKind::Extended => 2 * self.rsus + 5,
        }
    }

    /// Length of the global state: 6N + 1.
    pub fn state_dim(&self) -> usize {
        STATE_PER_RSU * self.rsus + 1
    }

    /// Market shares of buyers + sellers, one per RSU.
    pub fn shares(&self) -> Range<usize> {
        0..self.rsus
    }

    /// Last clearing price of the agent's market.
    pub fn price(&self) -> usize {
        self.rsus
    }

    /// log2(1 + mean rate in Mbit/s).
    pub fn rate(&self) -> usize {
        self.rsus + 1
    }

    /// Own valuation (extended only).
    pub fn valuation(&self) -> Option<usize> {
        self.extended().then_some(self.rsus + 2)
    }

    /// Has-request flag (extended only).
    pub fn has_request(&self) -> Option<usize> {
        self.extended().then_some(self.rsus + 3)
    }

    /// Slots waited over the TTL (extended only).
    pub fn waited(&self) -> Option<usize> {
        self.extended().then_some(self.rsus + 4)
    }

    /// One-hot of the agent's RSU (extended only).
    pub fn rsu_one_hot(&self) -> Option<Range<usize>> {
        self.extended().then_some(self.rsus + 5..2 * self.rsus + 5)
    }

    /// State offset of feature `f` (a `STATE_*` constant) of RSU `r`.
    pub fn state_of(&self, r: usize, f: usize) -> usize {
        r * STATE_PER_RSU + f
    }

    /// State offset of the slot fraction t/T.
    pub fn slot_fraction(&self) -> usize {
        STATE_PER_RSU * self.rsus
    }

    fn extended(&self) -> bool {
        self.kind == ObservationKind::Extended
    }

    /// Upper bounds of one agent's observation (lower bounds are all 0).
    pub fn observation_high(&self) -> Vec<f32> {
        let mut high = vec![1.0f32; self.obs_dim()];
        high[self.price()] = self.bid_max as f32;
        high[self.rate()] = self.max_log_rate;
        if let Some(i) = self.valuation() {
            high[i] = self.max_valuation as f32;
        }
        high
    }

    /// Upper bounds of the global state (lower bounds are all 0).
    pub fn state_high(&self) -> Vec<f32> {
        let mut high = vec![1.0f32; self.state_dim()];
        for r in 0..self.rsus {
            high[self.state_of(r, STATE_LAST_PRICE)] = self.bid_max as f32;
            high[self.state_of(r, STATE_MEAN_VALUATION)] = self.max_valuation as f32;
            high[self.state_of(r, STATE_MAX_VALUATION)] = self.max_valuation as f32;
            high[self.state_of(r, STATE_MEAN_ASK)] = self.max_ask as f32;
        }
        high
    }
}

/// `Ok` if `out` has length `expected`.
fn check_len(what: &'static str, out: &[f32], expected: usize) -> Result<()> {
    if out.len() == expected {
        Ok(())
    } else {
        Err(Error::Shape {
            what,
            expected,
            got: out.len(),
        })
    }
}

impl IovEnv {
    /// Mean rate (bit/s) from vehicle `v`'s RSU's VMs to `v`, 0 if unserved.
    pub(super) fn mean_rate(&self, v: usize) -> f64 {
        let r = self.serving[v];
        if r == NO_RSU {
            return 0.0;
        }
        self.markets[r as usize].mean_rate(&self.link, self.member_index[v] as usize)
    }

    pub(super) fn write_observations(&self, out: &mut [f32]) -> Result<()> {
        let l = &self.layout;
        let dim = l.obs_dim();
        check_len("observations", out, self.num_vehicles() * dim)?;
        let vms = self.scenario.scenario.vms_per_rsu;
        let total: usize = self.markets.iter().map(|m| m.pending + vms).sum();
        let shares: Vec<f32> = self
            .markets
            .iter()
            .map(|m| ((m.pending + vms) as f64 / total as f64) as f32)
            .collect();
        let ttl = self.scenario.workload.request_ttl as f32;
        for (v, o) in out.chunks_exact_mut(dim).enumerate() {
            let r = self.serving[v];
            o[l.shares()].copy_from_slice(&shares);
            o[l.price()] = if r == NO_RSU {
                0.0
            } else {
                self.markets[r as usize].last_price as f32
            };
            o[l.rate()] = ObservationLayout::log_rate(self.mean_rate(v));
            if let (Some(value), Some(flag), Some(waited), Some(hot)) =
                (l.valuation(), l.has_request(), l.waited(), l.rsu_one_hot())
            {
                o[value] = self.requests.value[v] as f32;
                o[flag] = self.requests.pending[v] as u8 as f32;
                o[waited] = self.requests.waited[v] as f32 / ttl;
                let hot = &mut o[hot];
                hot.fill(0.0);
                if r != NO_RSU {
                    hot[r as usize] = 1.0;
                }
            }
        }
        Ok(())
    }

    pub(super) fn write_state(&self, out: &mut [f32]) -> Result<()> {
        let l = &self.layout;
        check_len("state", out, l.state_dim())?;
        let v_total = self.num_vehicles().max(1) as f64;
        for (m, o) in self.markets.iter().zip(out.chunks_exact_mut(STATE_PER_RSU)) {
            let (mut sum, mut max) = (0.0f64, 0.0f64);
            for &v in &m.members {
                if self.requests.pending[v as usize] {
                    let u = self.requests.value[v as usize];
                    sum += u;
                    max = max.max(u);
                }
            }
            let mean_ask = if m.asks.is_empty() {
                0.0
            } else {
                m.asks.iter().sum::<f64>() / m.asks.len() as f64
            };
            o[STATE_BUYER_SHARE] = (m.pending as f64 / v_total) as f32;
            let sellers = m.power_w.len() as f64;
            o[STATE_SELLER_SHARE] = (sellers / (m.pending as f64 + sellers)) as f32;
            o[STATE_LAST_PRICE] = m.last_price as f32;
            o[STATE_MEAN_VALUATION] = if m.pending == 0 {
                0.0
            } else {
                (sum / m.pending as f64) as f32
            };
            o[STATE_MAX_VALUATION] = max as f32;
            o[STATE_MEAN_ASK] = mean_ask as f32;
        }
        out[l.slot_fraction()] =
            (self.slot as f64 / self.scenario.scenario.episode_slots as f64) as f32;
        Ok(())
    }

    pub(super) fn write_active(&self, out: &mut [f32]) -> Result<()> {
        check_len("active", out, self.num_vehicles())?;
        for (v, o) in out.iter_mut().enumerate() {
            *o = (self.requests.pending[v] && self.serving[v] != NO_RSU) as u8 as f32;
        }
        Ok(())
    }
}

impl ObservationSource for IovEnv {
    fn obs_dim(&self) -> usize {
        self.layout.obs_dim()
    }

    fn observe(&self, out: &mut [f32]) -> Result<()> {
        self.write_observations(out)
    }

    fn mean_rate_bps(&self, v: usize) -> f64 {
        self.mean_rate(v)
    }
}
