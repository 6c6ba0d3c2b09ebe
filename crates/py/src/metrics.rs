//! Slot and episode metrics as named columns for Python (floats as `float64`, integers as
//! `int64`).
//!
//! The columns are read from the records' `Serialize` derive ([`iovmarket::columns`]), never
//! listed here: every numeric field of [`SlotMetrics`] but `episode` (an env does not know which
//! episode it plays; the field is 0) and every numeric field of [`EpisodeMetrics`], in
//! declaration order. They name the per-agent infos of the ParallelEnv, the `infos` arrays of the
//! VecEnv and the tables of `simulate` and `sweep`.

use iovmarket::columns::{for_each_column, names_of, Cell};
use iovmarket::metrics::{EpisodeMetrics, SlotMetrics};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;

/// Fields of [`SlotMetrics`] that are not columns.
const SLOT_HIDDEN: [&str; 1] = ["episode"];

fn names<T: Serialize + Default>(float: bool, hidden: &[&str]) -> Vec<&'static str> {
    let mut n = names_of(&T::default(), float).expect("metrics are flat records");
    n.retain(|c| !hidden.contains(c));
    n
}

/// Float columns of [`SlotMetrics`], in the order of [`slot_values`].
pub fn slot_float_names() -> Vec<&'static str> {
    names::<SlotMetrics>(true, &SLOT_HIDDEN)
}

/// Integer columns of [`SlotMetrics`], in the order of [`slot_values`].
pub fn slot_int_names() -> Vec<&'static str> {
    names::<SlotMetrics>(false, &SLOT_HIDDEN)
}

/// Float columns of [`EpisodeMetrics`], in the order of [`episode_values`].
pub fn episode_float_names() -> Vec<&'static str> {
    names::<EpisodeMetrics>(true, &[])
}

/// Integer columns of [`EpisodeMetrics`], in the order of [`episode_values`].
pub fn episode_int_names() -> Vec<&'static str> {
    names::<EpisodeMetrics>(false, &[])
}

/// Calls `float(k, v)` for the k-th float column and `int(k, v)` for the k-th integer column
/// of `record`, skipping `hidden` fields; allocates nothing.
fn values<T: Serialize>(
    record: &T,
    hidden: &[&str],
    mut float: impl FnMut(usize, f64),
    mut int: impl FnMut(usize, i64),
) {
    let (mut kf, mut ki) = (0, 0);
    for_each_column(record, |name, cell| {
        if hidden.contains(&name) {
            return;
        }
        match cell {
            Cell::Float(v) => {
                float(kf, v);
                kf += 1;
            }
            Cell::Int(v) => {
                int(ki, v);
                ki += 1;
            }
            Cell::Text(_) | Cell::Missing => {}
        }
    })
    .expect("metrics are flat records");
}

/// The columns of a slot: `float(k, v)` for the k-th of [`slot_float_names`], `int(k, v)` for
/// the k-th of [`slot_int_names`].
pub fn slot_values(m: &SlotMetrics, float: impl FnMut(usize, f64), int: impl FnMut(usize, i64)) {
    values(m, &SLOT_HIDDEN, float, int);
}

/// The columns of an episode: `float(k, v)` for the k-th of [`episode_float_names`],
/// `int(k, v)` for the k-th of [`episode_int_names`].
pub fn episode_values(
    m: &EpisodeMetrics,
    float: impl FnMut(usize, f64),
    int: impl FnMut(usize, i64),
) {
    values(m, &[], float, int);
}

/// A slot's metrics as a `dict` of Python floats and ints.
pub fn slot_dict<'py>(py: Python<'py>, m: &SlotMetrics) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let mut result = Ok(());
    for_each_column(m, |name, cell| {
        if SLOT_HIDDEN.contains(&name) || result.is_err() {
            return;
        }
        result = match cell {
            Cell::Float(v) => d.set_item(name, v),
            Cell::Int(v) => d.set_item(name, v),
            Cell::Text(_) | Cell::Missing => Ok(()),
        };
    })
    .expect("metrics are flat records");
    result.map(|()| d)
}
