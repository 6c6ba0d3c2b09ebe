//! Bounds of the observation and state vectors, for the Box spaces of the Python env.
//!
//! The layouts are those of `IovEnv::observe` and `IovEnv::state` (DESIGN.md §1.8). Every bound
//! is finite and provably holds: prices never exceed `bid_max` (individual rationality), a
//! valuation ln(1 + c_s/1000) is at most ln(1 + u32::MAX/1000), and a rate B·log2(1 + SNR) is at
//! most 1024·B for any finite `f64` SNR. The tests in `crates/py/tests` check real observations
//! against them.

use iovmarket::config::ObservationKind;
use iovmarket::Scenario;

/// Largest possible buyer valuation: sizes are `u32` bytes.
fn max_valuation() -> f32 {
    (f64::from(u32::MAX) / 1000.0).ln_1p() as f32
}

/// Upper bounds of one agent's observation (lower bounds are all 0).
pub fn observation_high(s: &Scenario) -> Vec<f32> {
    let n = s.scenario.rsus;
    let bid_max = s.market.bid_max as f32;
    let max_rate_mbps = s.channel.bandwidth_hz / 1e6 * 1024.0;
    let log_rate = max_rate_mbps.ln_1p() as f32 * std::f32::consts::LOG2_E;
    let mut high = vec![1.0f32; n];
    high.push(bid_max);
    high.push(log_rate);
    if s.agents.observation == ObservationKind::Extended {
        high.push(max_valuation());
        high.push(1.0); // has request
        high.push(1.0); // slots waited / ttl
        high.resize(high.len() + n, 1.0); // RSU one-hot
    }
    high
}

/// Upper bounds of the global state (lower bounds are all 0).
pub fn state_high(s: &Scenario) -> Vec<f32> {
    let bid_max = s.market.bid_max as f32;
    let cap = s.market.vm_capacity as f64;
    let max_ask = (1.0 + s.market.marginal_cost_growth * (cap - 1.0)) as f32;
    let per_rsu = [1.0, 1.0, bid_max, max_valuation(), max_valuation(), max_ask];
    let mut high: Vec<f32> = (0..s.scenario.rsus).flat_map(|_| per_rsu).collect();
    high.push(1.0); // t / T
    high
}
