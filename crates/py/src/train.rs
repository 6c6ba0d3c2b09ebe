//! `train`: MAPPO/IPPO training (`iovmarket-learn`) from Python, GIL released.

use iovmarket::metrics::EpisodeMetrics;
use iovmarket_learn::{EpochStats, TrainOptions};
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::{invalid_argument, learn_to_py};
use crate::scenario::PyScenario;

/// A named column read from a per-epoch or per-episode record.
type Column<T> = (&'static str, fn(&T) -> f64);

/// Per-epoch columns of the training curve.
const CURVE: [Column<EpochStats>; 12] = [
    ("reward", |e| e.reward),
    ("welfare", |e| e.welfare),
    ("welfare_gains", |e| e.welfare_gains),
    ("welfare_participants", |e| e.welfare_participants),
    ("welfare_paper_eq1", |e| e.welfare_paper_eq1),
    ("budget", |e| e.budget),
    ("latency_ms", |e| e.latency_ms),
    ("trades", |e| e.trades),
    ("dropped", |e| e.dropped),
    ("policy_loss", |e| e.policy_loss),
    ("value_loss", |e| e.value_loss),
    ("entropy", |e| e.entropy),
];

/// Per-episode columns of the evaluation.
const EVAL: [Column<EpisodeMetrics>; 9] = [
    ("reward", |e| e.reward),
    ("welfare", |e| e.welfare),
    ("welfare_gains", |e| e.welfare_gains),
    ("welfare_participants", |e| e.welfare_participants),
    ("welfare_paper_eq1", |e| e.welfare_paper_eq1),
    ("budget", |e| e.budget),
    ("latency_ms", |e| e.latency_ms),
    ("trades", |e| e.trades as f64),
    ("dropped", |e| e.dropped as f64),
];

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
    let curve = PyDict::new(py);
    let epochs: Vec<i64> = result.curve.iter().map(|e| e.epoch as i64).collect();
    curve.set_item("epoch", PyArray1::from_vec(py, epochs))?;
    for (name, f) in CURVE {
        curve.set_item(
            name,
            PyArray1::from_vec(py, result.curve.iter().map(f).collect()),
        )?;
    }
    let eval = PyDict::new(py);
    for (name, f) in EVAL {
        eval.set_item(
            name,
            PyArray1::from_vec(py, evaluation.iter().map(f).collect()),
        )?;
    }
    let out = PyDict::new(py);
    out.set_item("curve", curve)?;
    out.set_item("evaluation", eval)?;
    Ok(out)
}
