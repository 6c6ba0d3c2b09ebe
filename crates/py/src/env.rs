//! `iovmarket._core.Env`: one [`IovEnv`] with numpy in and out.
//!
//! The Python `ParallelEnv` is a thin class over this. Every output is a fresh numpy array that
//! Rust fills in place (no intermediate copy), so arrays handed to the user are never
//! overwritten later.

use iovmarket::agents::BidderKind;
use iovmarket::env::{IovEnv, MultiAgentEnv};
use iovmarket::rsu::NO_RSU;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::{invalid_argument, IntoPyResult};
use crate::metrics::slot_dict;
use crate::scenario::PyScenario;

/// One market simulation (PettingZoo-parallel semantics over numpy arrays).
#[pyclass(name = "Env", module = "iovmarket._core")]
#[derive(Debug)]
pub struct PyEnv {
    inner: IovEnv,
    scratch: Vec<f32>,
}

/// The bidder called `name`, or a `ValueError` for unknown (`ConfigError`) or learned bidders.
pub fn parse_bidder(name: &str) -> PyResult<Box<dyn iovmarket::agents::Bidder>> {
    name.parse::<BidderKind>().py()?.build().ok_or_else(|| {
        invalid_argument("bidder `learned` needs a trained policy; use iovmarket.train / evaluate")
    })
}

#[pymethods]
impl PyEnv {
    #[new]
    fn new(scenario: &PyScenario) -> PyResult<Self> {
        Ok(Self {
            inner: IovEnv::new(scenario.inner.clone()).py()?,
            scratch: Vec::new(),
        })
    }

    /// The scenario.
    #[getter]
    fn scenario(&self) -> PyScenario {
        PyScenario {
            inner: self.inner.scenario().clone(),
        }
    }

    /// Number of agents.
    #[getter]
    fn num_agents(&self) -> usize {
        self.inner.num_agents()
    }

    /// Length of one agent's observation.
    #[getter]
    fn obs_dim(&self) -> usize {
        self.inner.obs_dim()
    }

    /// Length of the global state.
    #[getter]
    fn state_dim(&self) -> usize {
        self.inner.state_dim()
    }

    /// Slots per episode.
    #[getter]
    fn episode_slots(&self) -> usize {
        self.inner.episode_slots()
    }

    /// Slots played in this episode.
    #[getter]
    fn slot(&self) -> u64 {
        self.inner.slot()
    }

    /// Whether the episode has ended.
    #[getter]
    fn done(&self) -> bool {
        self.inner.is_done()
    }

    /// Upper bounds of an observation (the lower bounds are 0), from the core's
    /// `ObservationLayout`.
    fn observation_high<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_vec(py, self.inner.layout().observation_high())
    }

    /// Upper bounds of the state (the lower bounds are 0), from the core's `ObservationLayout`.
    fn state_high<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_vec(py, self.inner.layout().state_high())
    }

    /// Starts an episode of run `seed`.
    fn reset(&mut self, py: Python<'_>, seed: u64) -> PyResult<()> {
        let env = &mut self.inner;
        py.detach(|| env.reset(seed)).py()
    }

    /// Plays one slot with `actions` (float32, one per agent, in [0, 1]; values outside are
    /// clamped). Returns `(reward, truncated)`; the slot's metrics are in [`Self::metrics`].
    fn step(
        &mut self,
        py: Python<'_>,
        actions: PyReadonlyArray1<'_, f32>,
    ) -> PyResult<(f64, bool)> {
        let actions = actions.as_slice()?;
        let env = &mut self.inner;
        let out = py.detach(|| env.step(actions)).py()?;
        Ok((out.reward, out.truncated))
    }

    /// The last slot's metrics as a dict.
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        slot_dict(py, self.inner.last_metrics())
    }

    /// All observations, `(num_agents, obs_dim)` float32.
    fn observe<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let arr = PyArray2::zeros(py, [self.inner.num_agents(), self.inner.obs_dim()], false);
        self.inner.observe(arr.readwrite().as_slice_mut()?).py()?;
        Ok(arr)
    }

    /// The global state, `(state_dim,)` float32.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let arr = PyArray1::zeros(py, self.inner.state_dim(), false);
        self.inner.state(arr.readwrite().as_slice_mut()?).py()?;
        Ok(arr)
    }

    /// Each agent's reward of the last slot, `(num_agents,)` float64: the shared R(t) for every
    /// agent (`reward.kind = "shared"`) or each buyer's own utility (`"individual"`).
    fn rewards<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let arr = PyArray1::zeros(py, self.inner.num_agents(), false);
        self.inner.rewards(arr.readwrite().as_slice_mut()?).py()?;
        Ok(arr)
    }

    /// 1 for agents whose action matters this slot (pending request, in range), else 0.
    fn active<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let arr = PyArray1::zeros(py, self.inner.num_agents(), false);
        self.inner.active(arr.readwrite().as_slice_mut()?).py()?;
        Ok(arr)
    }

    /// The actions the non-learned `bidder` (`truthful`, `random`, `shaded:F`) takes now, drawn
    /// from the same random stream `simulate` uses, so stepping with them reproduces it.
    fn bidder_actions<'py>(
        &mut self,
        py: Python<'py>,
        bidder: &str,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let mut b = parse_bidder(bidder)?;
        self.inner
            .bidder_actions(b.as_mut(), &mut self.scratch)
            .py()?;
        Ok(PyArray1::from_slice(py, &self.scratch))
    }

    /// Vehicle positions `(num_agents, 2)` in metres.
    fn positions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let p = self.inner.positions();
        let arr = PyArray2::zeros(py, [p.len(), 2], false);
        {
            let mut rw = arr.readwrite();
            let out = rw.as_slice_mut()?;
            for (i, o) in out.chunks_exact_mut(2).enumerate() {
                o[0] = p.x[i];
                o[1] = p.y[i];
            }
        }
        Ok(arr)
    }

    /// Serving RSU of each vehicle, -1 when out of coverage or inactive.
    fn serving<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let v: Vec<i64> = self
            .inner
            .serving()
            .iter()
            .map(|&r| if r == NO_RSU { -1 } else { i64::from(r) })
            .collect();
        PyArray1::from_vec(py, v)
    }

    /// Whether each vehicle has a pending request.
    fn pending<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        PyArray1::from_slice(py, &self.inner.requests().pending)
    }

    /// RSU positions `(rsus, 2)` in metres.
    fn rsu_positions(&self) -> Vec<(f64, f64)> {
        let r = self.inner.rsus();
        r.x.iter().copied().zip(r.y.iter().copied()).collect()
    }

    /// RSU coverage radius in metres.
    #[getter]
    fn coverage_m(&self) -> f64 {
        self.inner.rsus().coverage_m
    }

    /// Road centre lines as polylines of `(x, y)` points (for rendering).
    fn roads(&self) -> Vec<Vec<(f64, f64)>> {
        self.inner
            .mobility()
            .roads()
            .into_iter()
            .map(|l| l.into_iter().map(|[x, y]| (x, y)).collect())
            .collect()
    }

    /// Last clearing price of each RSU's market.
    fn clearing_prices(&self) -> Vec<f64> {
        self.inner.clearing_prices()
    }
}
