//! `iovmarket._core.simulate`: episodes with a fixed (non-learned) bidder, in parallel.

use iovmarket::agents::BidderKind;
use iovmarket::env::{IovEnv, MultiAgentEnv};
use iovmarket::metrics::{EpisodeMetrics, SlotMetrics};
use iovmarket::simulation::{episode_seed, run_episode};
use iovmarket::Scenario;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rayon::prelude::*;

use crate::env::parse_bidder;
use crate::error::IntoPyResult;
use crate::metrics::{
    episode_float_names, episode_int_names, episode_values, slot_float_names, slot_int_names,
    slot_values,
};
use crate::scenario::PyScenario;

/// One episode's totals and, when asked, its slots.
type Episode = (EpisodeMetrics, Vec<SlotMetrics>);

fn run(
    scenario: &Scenario,
    bidder: BidderKind,
    episode: usize,
    seed: u64,
    per_slot: bool,
) -> iovmarket::Result<Episode> {
    let mut env = IovEnv::new(scenario.clone())?;
    let mut bidder = bidder
        .build()
        .expect("learned bidders are rejected up front");
    let mut slots = Vec::with_capacity(if per_slot { env.episode_slots() } else { 0 });
    let total = run_episode(&mut env, bidder.as_mut(), episode, seed, |_, m| {
        if per_slot {
            slots.push(*m);
        }
    })?;
    Ok((total, slots))
}

/// Runs `episodes` episodes (episode i with run seed `seed + i`, see [`episode_seed`]) with
/// `bidder` and returns per-episode totals as numpy columns, plus per-slot columns
/// `(episodes, T)` under `"per_slot"` when `per_slot`. Episodes run in parallel with the GIL released; results do not depend on the
/// thread count.
#[pyfunction]
#[pyo3(signature = (scenario, episodes, seed, bidder, per_slot = false))]
pub fn simulate<'py>(
    py: Python<'py>,
    scenario: &PyScenario,
    episodes: usize,
    seed: u64,
    bidder: &str,
    per_slot: bool,
) -> PyResult<Bound<'py, PyDict>> {
    if episodes == 0 {
        return Err(PyValueError::new_err("episodes must be >= 1"));
    }
    parse_bidder(bidder)?;
    let kind = BidderKind::parse(bidder).map_err(PyValueError::new_err)?;
    let s = &scenario.inner;
    let runs: Vec<Episode> = py
        .detach(|| {
            (0..episodes)
                .into_par_iter()
                .map(|e| run(s, kind, e, episode_seed(seed, e), per_slot))
                .collect::<iovmarket::Result<Vec<_>>>()
        })
        .py()?;

    let d = PyDict::new(py);
    let seeds: Vec<u64> = (0..episodes).map(|e| episode_seed(seed, e)).collect();
    d.set_item("seed", PyArray1::from_vec(py, seeds))?;
    let (fnames, inames) = (episode_float_names(), episode_int_names());
    let mut floats = vec![Vec::with_capacity(episodes); fnames.len()];
    let mut ints = vec![Vec::with_capacity(episodes); inames.len()];
    for (m, _) in &runs {
        episode_values(m, |k, v| floats[k].push(v), |k, v| ints[k].push(v));
    }
    for (name, col) in fnames.into_iter().zip(floats) {
        d.set_item(name, PyArray1::from_vec(py, col))?;
    }
    for (name, col) in inames.into_iter().zip(ints) {
        d.set_item(name, PyArray1::from_vec(py, col))?;
    }
    if per_slot {
        let t = runs.first().map_or(0, |(_, s)| s.len());
        let (fnames, inames) = (slot_float_names(), slot_int_names());
        let mut floats = vec![Vec::with_capacity(episodes * t); fnames.len()];
        let mut ints = vec![Vec::with_capacity(episodes * t); inames.len()];
        for (_, s) in &runs {
            for m in s {
                slot_values(m, |k, v| floats[k].push(v), |k, v| ints[k].push(v));
            }
        }
        let slots = PyDict::new(py);
        for (name, col) in fnames.into_iter().zip(floats) {
            slots.set_item(name, PyArray1::from_vec(py, col).reshape([episodes, t])?)?;
        }
        for (name, col) in inames.into_iter().zip(ints) {
            slots.set_item(name, PyArray1::from_vec(py, col).reshape([episodes, t])?)?;
        }
        d.set_item("per_slot", slots)?;
    }
    Ok(d)
}
