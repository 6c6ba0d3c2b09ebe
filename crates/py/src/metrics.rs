//! Slot and episode metrics as named columns for Python (floats as `float64`, counts as `int64`).
//!
//! The field lists here are the single source of the column names the Python layer shows: the
//! per-agent infos of the ParallelEnv, the `infos` arrays of the VecEnv and the tables of
//! `simulate` and `sweep`.

use iovmarket::metrics::{EpisodeMetrics, SlotMetrics};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Float columns of [`SlotMetrics`], in the order of [`slot_floats`].
pub const SLOT_FLOATS: [&str; 8] = [
    "reward",
    "welfare",
    "welfare_gains",
    "welfare_participants",
    "welfare_paper_eq1",
    "budget",
    "latency_ms",
    "mean_buyer_utility",
];

/// Integer columns of [`SlotMetrics`], in the order of [`slot_ints`].
pub const SLOT_INTS: [&str; 7] = [
    "slot",
    "trades",
    "buyers",
    "sellers",
    "dropped",
    "ir_violations",
    "clamped_actions",
];

/// Float columns of [`EpisodeMetrics`], in the order of [`episode_floats`].
pub const EPISODE_FLOATS: [&str; 7] = [
    "reward",
    "welfare",
    "welfare_gains",
    "welfare_participants",
    "welfare_paper_eq1",
    "budget",
    "latency_ms",
];

/// Integer columns of [`EpisodeMetrics`], in the order of [`episode_ints`].
pub const EPISODE_INTS: [&str; 6] = [
    "episode",
    "slots",
    "trades",
    "buyers",
    "dropped",
    "ir_violations",
];

/// The float fields of a slot.
pub fn slot_floats(m: &SlotMetrics) -> [f64; 8] {
    [
        m.reward,
        m.welfare,
        m.welfare_gains,
        m.welfare_participants,
        m.welfare_paper_eq1,
        m.budget,
        m.latency_ms,
        m.mean_buyer_utility,
    ]
}

/// The integer fields of a slot.
pub fn slot_ints(m: &SlotMetrics) -> [i64; 7] {
    [
        m.slot as i64,
        m.trades as i64,
        m.buyers as i64,
        m.sellers as i64,
        m.dropped as i64,
        m.ir_violations as i64,
        m.clamped_actions as i64,
    ]
}

/// The float fields of an episode.
pub fn episode_floats(m: &EpisodeMetrics) -> [f64; 7] {
    [
        m.reward,
        m.welfare,
        m.welfare_gains,
        m.welfare_participants,
        m.welfare_paper_eq1,
        m.budget,
        m.latency_ms,
    ]
}

/// The integer fields of an episode.
pub fn episode_ints(m: &EpisodeMetrics) -> [i64; 6] {
    [
        m.episode as i64,
        m.slots as i64,
        m.trades as i64,
        m.buyers as i64,
        m.dropped as i64,
        m.ir_violations as i64,
    ]
}

/// A slot's metrics as a `dict` of Python floats and ints.
pub fn slot_dict<'py>(py: Python<'py>, m: &SlotMetrics) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in SLOT_FLOATS.iter().zip(slot_floats(m)) {
        d.set_item(k, v)?;
    }
    for (k, v) in SLOT_INTS.iter().zip(slot_ints(m)) {
        d.set_item(k, v)?;
    }
    Ok(d)
}
