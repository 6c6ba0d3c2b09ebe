//! Memory a scenario needs, estimated from its config before anything is allocated, and the
//! limit it is checked against.
//!
//! Without a cap, 10 M vehicles ran out of memory slowly and 1e9 vehicles (or 1e8 RSUs) aborted
//! in the allocator (SIGABRT). [`check`] refuses such a scenario up front with a config error
//! that names the estimate and the limit.
//!
//! The estimate counts the arrays whose length grows with the scenario, with the byte counts of
//! their element types (struct-of-arrays state, see `env`, `mobility`, `workload`, `market`):
//!
//! | per | bytes | what |
//! |---|---|---|
//! | vehicle | [`PER_VEHICLE_BYTES`] = 181 | positions 25, grid state 23, serving RSU, distance, member index and shadowing 28, request 17, RSU member list and link gain 12, order-book entry 32 (16 + 16 sort key), action 4, 40 of growth slack |
//! | vehicle × VM | [`PER_LINK_BYTES`] = 8 | fast-fading power of each VM → member link |
//! | RSU | [`PER_RSU_BYTES`] = 400 | one market's vectors and book (~270), RSU position and cell index (~60), clearing price, growth slack |
//! | VM unit | [`PER_VM_UNIT_BYTES`] = 56 | power, ask, order-book entry |
//!
//! plus [`FIXED_BYTES`] of small fixed heap (layout, mechanism, size table handles; the process's
//! code and stacks, a few MB, are left to the margin of the limit). A learned bidder adds its
//! observation buffer and network activations per vehicle ([`policy_bytes`]); training adds, per
//! parallel episode, a whole episode of observations, states and samples ([`training_bytes`]).
//!
//! ## Limitations
//! An estimate, not an accounting: the test in `tests/memory.rs` holds it within a factor 2 of
//! the measured peak heap of building, resetting and stepping an env (measured: paper 28.8 kB vs
//! 28.6 kB estimated; 100 000 vehicles, 100 RSUs 19.2 MB vs 22.2 MB). Mobility traces are not
//! counted (their size is the file's); the learner's terms are counted from its buffer shapes,
//! not measured.

use crate::config::{ObservationKind, Scenario};
use crate::error::{Error, Result};

/// The learner's buffer shapes that the estimate needs (from `iovmarket_learn::TrainConfig`,
/// which this crate does not parse: the `[train]` table belongs to the learner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LearnerShape {
    /// Hidden units per layer (`train.hidden`).
    pub hidden: usize,
    /// Parallel episodes (`train.n_envs`).
    pub n_envs: usize,
    /// Minibatches per update (`train.minibatches`).
    pub minibatches: usize,
}

/// Bytes per vehicle of one simulation (see the module table).
pub const PER_VEHICLE_BYTES: f64 = 181.0;
/// Bytes per vehicle per VM of its RSU (fast fading of each link).
pub const PER_LINK_BYTES: f64 = 8.0;
/// Bytes per RSU of one simulation.
pub const PER_RSU_BYTES: f64 = 400.0;
/// Bytes per VM unit (a VM sells `market.vm_capacity` units).
pub const PER_VM_UNIT_BYTES: f64 = 56.0;
/// Heap bytes that do not grow with the scenario (measured: the paper's 80-vehicle env peaks at
/// 28.8 kB, of which the per-vehicle and per-RSU terms are about 20 kB).
pub const FIXED_BYTES: f64 = 8.0 * 1024.0;

/// One simulation (an env stepped by a fixed bidder).
pub fn simulation_bytes(s: &Scenario) -> f64 {
    let c = &s.scenario;
    let (v, r) = (c.vehicles as f64, c.rsus as f64);
    let units = r * c.vms_per_rsu as f64 * s.market.vm_capacity as f64;
    FIXED_BYTES
        + v * (PER_VEHICLE_BYTES + PER_LINK_BYTES * c.vms_per_rsu as f64)
        + r * PER_RSU_BYTES
        + units * PER_VM_UNIT_BYTES
}

/// Length of one agent's observation (as `MultiAgentEnv::obs_dim`).
fn obs_dim(s: &Scenario) -> f64 {
    let r = s.scenario.rsus as f64;
    match s.agents.observation {
        ObservationKind::Paper => r + 2.0,
        ObservationKind::Extended => 2.0 * r + 5.0,
    }
}

/// Activations of the actor for one agent: input and its normalisation, three values per hidden
/// unit of two layers, the heads (f32).
fn actor_row_bytes(s: &Scenario, l: &LearnerShape) -> f64 {
    4.0 * (2.0 * obs_dim(s) + 6.0 * l.hidden as f64 + 4.0)
}

/// Extra bytes of a learned bidder playing one simulation: observations and activations of
/// every vehicle.
pub fn policy_bytes(s: &Scenario, l: &LearnerShape) -> f64 {
    let v = s.scenario.vehicles as f64;
    v * (4.0 * obs_dim(s) + actor_row_bytes(s, l))
}

/// Training: `train.n_envs` simulations with learned bidders, each keeping one episode of
/// observations, states, samples and values, plus the activations of one update minibatch.
pub fn training_bytes(s: &Scenario, t: &LearnerShape) -> f64 {
    let (v, slots) = (s.scenario.vehicles as f64, s.scenario.episode_slots as f64);
    let state = 4.0 * (6.0 * s.scenario.rsus as f64 + 1.0);
    let rollout = slots * (v * 4.0 * (obs_dim(s) + 3.0) + state + 16.0);
    let envs = t.n_envs as f64;
    let minibatch_rows = envs * slots * v / t.minibatches as f64;
    envs * (simulation_bytes(s) + policy_bytes(s, t) + rollout)
        + minibatch_rows * 2.0 * actor_row_bytes(s, t)
}

/// Where the memory limit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitSource {
    /// `scenario.max_memory_gb`.
    Config,
    /// The machine's available memory (`MemAvailable` of `/proc/meminfo`).
    Available,
}

/// The memory limit in bytes: `scenario.max_memory_gb` if set (> 0), otherwise the machine's
/// available memory; `None` where neither is known (no `/proc/meminfo`), in which case only
/// estimates beyond the address space are refused.
pub fn limit_bytes(s: &Scenario) -> Option<(f64, LimitSource)> {
    if s.scenario.max_memory_gb > 0.0 {
        return Some((s.scenario.max_memory_gb * 1e9, LimitSource::Config));
    }
    available_bytes().map(|b| (b as f64, LimitSource::Available))
}

/// `MemAvailable` of `/proc/meminfo` in bytes (Linux), or `None`.
pub fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo(&text)
}

/// The `MemAvailable:  N kB` line of `/proc/meminfo`, in bytes.
fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// Checks that `needed` bytes (an estimate of this module, for `what`) fit the limit of
/// [`limit_bytes`].
///
/// # Errors
/// [`Error::Config`] on `scenario.max_memory_gb` naming the estimate, the limit and its source.
pub fn check(s: &Scenario, needed: f64, what: &str) -> Result<()> {
    let (limit, source) = match limit_bytes(s) {
        Some((limit, source)) => (limit, Some(source)),
        None => (isize::MAX as f64, None),
    };
    if needed <= limit {
        return Ok(());
    }
    let source = match source {
        Some(LimitSource::Config) => "scenario.max_memory_gb",
        Some(LimitSource::Available) => {
            "the machine's available memory; set scenario.max_memory_gb to override"
        }
        None => "the address space",
    };
    Err(Error::config(
        "scenario.max_memory_gb",
        format!(
            "{what} with {} vehicles and {} RSUs needs about {} of memory, more than the limit \
             of {} ({source})",
            s.scenario.vehicles,
            s.scenario.rsus,
            gb(needed),
            gb(limit)
        ),
    ))
}

/// Bytes as MB below 1 GB, as GB above (`{:e}` past a million GB).
fn gb(bytes: f64) -> String {
    let g = bytes / 1e9;
    if g < 1.0 {
        format!("{:.3} MB", bytes / 1e6)
    } else if g < 1e6 {
        format!("{g:.3} GB")
    } else {
        format!("{g:.2e} GB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(vehicles: usize, rsus: usize, max_gb: f64) -> Scenario {
        let mut s = Scenario::paper();
        s.scenario.vehicles = vehicles;
        s.scenario.rsus = rsus;
        s.scenario.max_memory_gb = max_gb;
        s
    }

    #[test]
    fn estimate_grows_with_vehicles_and_rsus() {
        let small = simulation_bytes(&scenario(80, 4, 0.0));
        let big = simulation_bytes(&scenario(1_000_000, 4, 0.0));
        assert!(big > 1e8 && big < 1e9, "{big}");
        assert!(small < 1e7, "{small}");
        let many_rsus = simulation_bytes(&scenario(80, 100_000_000, 0.0));
        assert!(many_rsus > 1e10, "{many_rsus}");
        let s = scenario(1000, 4, 0.0);
        let learner = LearnerShape {
            hidden: 64,
            n_envs: 8,
            minibatches: 4,
        };
        assert!(training_bytes(&s, &learner) > 8.0 * simulation_bytes(&s));
    }

    #[test]
    fn the_configured_limit_is_checked_and_named() {
        let s = scenario(1_000_000, 4, 0.1);
        let e = check(&s, simulation_bytes(&s), "simulate")
            .unwrap_err()
            .to_string();
        assert!(e.contains("scenario.max_memory_gb"), "{e}");
        assert!(
            e.contains("100.000 MB") && e.contains("1000000 vehicles"),
            "{e}"
        );
        let s = scenario(1_000, 4, 0.1);
        check(&s, simulation_bytes(&s), "simulate").unwrap();
        let s = scenario(1_000_000_000, 4, 0.0);
        let e = check(&s, simulation_bytes(&s), "simulate")
            .unwrap_err()
            .to_string();
        assert!(e.contains("GB"), "{e}");
    }

    #[test]
    fn meminfo_parses() {
        let text = "MemTotal:       32000000 kB\nMemFree:  100 kB\nMemAvailable:   23748316 kB\n";
        assert_eq!(parse_meminfo(text), Some(23_748_316 * 1024));
        assert_eq!(parse_meminfo("MemTotal: 1 kB\n"), None);
    }
}
