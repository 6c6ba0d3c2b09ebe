//! `train`: MAPPO/IPPO training (`iovmarket-learn`) from Python, GIL released.

use iovmarket::columns::{columns, Cell};
use iovmarket::metrics::EpisodeMetrics;
use iovmarket_learn::TrainOptions;
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;

use crate::error::{invalid_argument, learn_to_py};
use crate::scenario::PyScenario;

/// `{column: array}` of `records`, one array per numeric column of `T` (from its `Serialize`
/// derive, as `template` has them): `int64` for integer fields, `float64` for float fields
/// (`None` is NaN).
fn table<'py, T: Serialize>(
    py: Python<'py>,
    records: &[T],
    template: &T,
) -> PyResult<Bound<'py, PyDict>> {
    let flat = |r: &T| columns(r).map_err(|e| invalid_argument(e.to_string()));
    let rows: Vec<_> = records.iter().map(flat).collect::<PyResult<_>>()?;
    let d = PyDict::new(py);
    for (k, (name, cell)) in flat(template)?.into_iter().enumerate() {
        match cell {
            Cell::Int(_) => {
                let int = |c: &Cell| if let Cell::Int(v) = *c { v } else { 0 };
                let col = rows.iter().map(|r| int(&r[k].1)).collect();
                d.set_item(name, PyArray1::<i64>::from_vec(py, col))?;
            }
            Cell::Float(_) | Cell::Missing => {
                let col = rows.iter().map(|r| r[k].1.as_f64()).collect();
                d.set_item(name, PyArray1::<f64>::from_vec(py, col))?;
            }
            Cell::Text(_) => {}
        }
    }
    Ok(d)
}

/// Trains `scenario`'s learner (`train` table) for `epochs` (default `train.epochs`), then plays
/// `eval_episodes` held-out episodes from `eval_seed` with the deterministic policy. Returns
/// `{"curve": {column: (epochs,)}, "evaluation": {column: (eval_episodes,)}}`.
#[pyfunction]
#[pyo3(signature = (scenario, epochs, eval_episodes, eval_seed))]
pub fn train<'py>(
    py: Python<'py>,
    scenario: &PyScenario,
    epochs: Option<usize>,
    eval_episodes: usize,
    eval_seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    if epochs == Some(0) {
        return Err(invalid_argument("epochs must be >= 1"));
    }
    let s = &scenario.inner;
    let options = TrainOptions {
        epochs,
        ..TrainOptions::default()
    };
    let (result, evaluation) = py
        .detach(|| -> Result<_, iovmarket_learn::Error> {
            let result = iovmarket_learn::train(s, &options, |_| {})?;
            let evaluation = if eval_episodes > 0 {
                iovmarket_learn::evaluate(s, &result.policy, eval_episodes, eval_seed)?
            } else {
                Vec::new()
            };
            Ok((result, evaluation))
        })
        .map_err(learn_to_py)?;
    let curve = match result.curve.first() {
        Some(first) => table(py, &result.curve, first)?,
        None => PyDict::new(py),
    };
    let eval = table(py, &evaluation, &EpisodeMetrics::default())?;
    let out = PyDict::new(py);
    out.set_item("curve", curve)?;
    out.set_item("evaluation", eval)?;
    Ok(out)
}
