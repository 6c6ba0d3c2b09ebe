//! Shared helpers of the integration tests.

#![allow(dead_code)] // reason: each test binary uses a subset

use iovmarket::Scenario;
use iovmarket_learn::{EpochStats, Snapshot};

/// A small paper-like scenario: 12 vehicles, 15 slots, 2 envs, 3 PPO epochs, 2 minibatches.
pub fn small(extra: &[(&str, &str)]) -> Scenario {
    let mut kv: Vec<(String, String)> = [
        ("scenario.vehicles", "12"),
        ("scenario.episode_slots", "15"),
        ("train.n_envs", "2"),
        ("train.ppo_epochs", "3"),
        ("train.minibatches", "2"),
        ("train.hidden", "16"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    kv.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Scenario::from_toml("", &kv).unwrap()
}

/// The snapshot with wall-clock figures zeroed, for bit-exact comparisons.
pub fn deterministic(mut s: Snapshot) -> Snapshot {
    for e in &mut s.curve {
        e.agent_steps_per_s = 0.0;
    }
    s
}

/// Curve rows with wall-clock figures zeroed.
pub fn curve(c: &[EpochStats]) -> Vec<EpochStats> {
    c.iter()
        .cloned()
        .map(|mut e| {
            e.agent_steps_per_s = 0.0;
            e
        })
        .collect()
}
