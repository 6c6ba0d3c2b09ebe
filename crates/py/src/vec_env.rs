//! `iovmarket._core.VecEnv`: many envs stepped in one call, into numpy buffers it owns.
//!
//! ## Performance
//! `step` borrows the actions array as a slice, releases the GIL, steps every env in parallel
//! (rayon) and writes observations, states, active masks, rewards, truncations and metrics
//! straight into preallocated numpy arrays: no allocation and no copy per step. The Python
//! wrapper hands out read-only views of these buffers, so they are overwritten by the next
//! `reset`/`step`; copy what you keep.

use iovmarket::env::{MultiAgentEnv, VecEnv};
use numpy::{
    PyArray1, PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;

use crate::error::{invalid_argument, IntoPyResult};
use crate::metrics::{slot_float_names, slot_int_names, slot_values};
use crate::scenario::PyScenario;

/// `n_envs` copies of one scenario, stepped together.
#[pyclass(name = "VecEnv", module = "iovmarket._core")]
#[derive(Debug)]
pub struct PyVecEnv {
    inner: VecEnv,
    n_agents: usize,
    obs_dim: usize,
    state_dim: usize,
    episode_slots: usize,
    obs: Py<PyArray3<f32>>,
    state: Py<PyArray2<f32>>,
    active: Py<PyArray2<f32>>,
    rewards: Py<PyArray1<f64>>,
    truncations: Py<PyArray1<bool>>,
    /// `(len(SLOT_FLOAT_FIELDS), n_envs)`.
    floats: Py<PyArray2<f64>>,
    /// `(len(SLOT_INT_FIELDS), n_envs)`.
    ints: Py<PyArray2<i64>>,
}

/// Mutable slices of every output buffer, taken while holding the GIL.
struct Outputs<'a> {
    obs: &'a mut [f32],
    state: &'a mut [f32],
    active: &'a mut [f32],
    rewards: &'a mut [f64],
    truncations: &'a mut [bool],
    floats: &'a mut [f64],
    ints: &'a mut [i64],
}

impl Outputs<'_> {
    /// Observations, states and active masks of every env.
    fn observe(&mut self, env: &VecEnv) -> iovmarket::Result<()> {
        env.observe(self.obs)?;
        env.state(self.state)?;
        env.active(self.active)
    }
}

#[pymethods]
impl PyVecEnv {
    #[new]
    fn new(py: Python<'_>, scenario: &PyScenario, n_envs: usize) -> PyResult<Self> {
        if n_envs == 0 {
            return Err(invalid_argument("n_envs must be >= 1"));
        }
        let inner = VecEnv::new(&scenario.inner, n_envs).py()?;
        let first = &inner.envs()[0];
        let (n_agents, obs_dim, state_dim) =
            (first.num_agents(), first.obs_dim(), first.state_dim());
        let episode_slots = first.episode_slots();
        Ok(Self {
            n_agents,
            obs_dim,
            state_dim,
            episode_slots,
            obs: PyArray3::zeros(py, [n_envs, n_agents, obs_dim], false).unbind(),
            state: PyArray2::zeros(py, [n_envs, state_dim], false).unbind(),
            active: PyArray2::zeros(py, [n_envs, n_agents], false).unbind(),
            rewards: PyArray1::zeros(py, n_envs, false).unbind(),
            truncations: PyArray1::zeros(py, n_envs, false).unbind(),
            floats: PyArray2::zeros(py, [slot_float_names().len(), n_envs], false).unbind(),
            ints: PyArray2::zeros(py, [slot_int_names().len(), n_envs], false).unbind(),
            inner,
        })
    }

    /// Number of envs.
    #[getter]
    fn n_envs(&self) -> usize {
        self.inner.len()
    }

    /// Agents per env.
    #[getter]
    fn num_agents(&self) -> usize {
        self.n_agents
    }

    /// Length of one agent's observation.
    #[getter]
    fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Length of one env's global state.
    #[getter]
    fn state_dim(&self) -> usize {
        self.state_dim
    }

    /// Slots per episode (all envs truncate together).
    #[getter]
    fn episode_slots(&self) -> usize {
        self.episode_slots
    }

    /// Each agent's reward of the last slot in every env, `(n_envs, num_agents)` float64 (a new
    /// array): the shared R(t), or each buyer's own utility with `reward.kind = "individual"`.
    fn agent_rewards<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let arr = PyArray2::zeros(py, [self.inner.len(), self.n_agents], false);
        self.inner.rewards(arr.readwrite().as_slice_mut()?).py()?;
        Ok(arr)
    }

    /// The owned buffers: `(obs, state, active, rewards, truncations, floats, ints)`.
    #[allow(clippy::type_complexity)] // reason: a fixed tuple is the Python-facing shape
    fn buffers<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Bound<'py, PyArray3<f32>>,
        Bound<'py, PyArray2<f32>>,
        Bound<'py, PyArray2<f32>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<bool>>,
        Bound<'py, PyArray2<f64>>,
        Bound<'py, PyArray2<i64>>,
    ) {
        (
            self.obs.bind(py).clone(),
            self.state.bind(py).clone(),
            self.active.bind(py).clone(),
            self.rewards.bind(py).clone(),
            self.truncations.bind(py).clone(),
            self.floats.bind(py).clone(),
            self.ints.bind(py).clone(),
        )
    }

    /// Resets env i with `seeds[i]` and fills the observation, state and active buffers.
    fn reset(&mut self, py: Python<'_>, seeds: Vec<u64>) -> PyResult<()> {
        let (mut o, mut s, mut a) = (
            self.obs.bind(py).readwrite(),
            self.state.bind(py).readwrite(),
            self.active.bind(py).readwrite(),
        );
        let (mut r, mut t, mut f, mut i) = (
            self.rewards.bind(py).readwrite(),
            self.truncations.bind(py).readwrite(),
            self.floats.bind(py).readwrite(),
            self.ints.bind(py).readwrite(),
        );
        let mut out = Outputs {
            obs: o.as_slice_mut()?,
            state: s.as_slice_mut()?,
            active: a.as_slice_mut()?,
            rewards: r.as_slice_mut()?,
            truncations: t.as_slice_mut()?,
            floats: f.as_slice_mut()?,
            ints: i.as_slice_mut()?,
        };
        let inner = &mut self.inner;
        py.detach(|| {
            inner.reset(&seeds)?;
            out.observe(inner)?;
            out.rewards.fill(0.0);
            out.truncations.fill(false);
            out.floats.fill(0.0);
            out.ints.fill(0);
            Ok(())
        })
        .py()
    }

    /// Steps every env with `actions` (`(n_envs, num_agents)` float32, C-contiguous) and
    /// refreshes every buffer.
    fn step(&mut self, py: Python<'_>, actions: PyReadonlyArray2<'_, f32>) -> PyResult<()> {
        let shape = actions.shape();
        if shape != [self.inner.len(), self.n_agents] {
            return Err(invalid_argument(format!(
                "actions: expected shape ({}, {}), got {:?}",
                self.inner.len(),
                self.n_agents,
                shape
            )));
        }
        let actions = actions.as_slice()?;
        let (mut o, mut s, mut a) = (
            self.obs.bind(py).readwrite(),
            self.state.bind(py).readwrite(),
            self.active.bind(py).readwrite(),
        );
        let (mut r, mut t, mut f, mut i) = (
            self.rewards.bind(py).readwrite(),
            self.truncations.bind(py).readwrite(),
            self.floats.bind(py).readwrite(),
            self.ints.bind(py).readwrite(),
        );
        let mut out = Outputs {
            obs: o.as_slice_mut()?,
            state: s.as_slice_mut()?,
            active: a.as_slice_mut()?,
            rewards: r.as_slice_mut()?,
            truncations: t.as_slice_mut()?,
            floats: f.as_slice_mut()?,
            ints: i.as_slice_mut()?,
        };
        let inner = &mut self.inner;
        let n = inner.len();
        py.detach(|| {
            let outcomes = inner.step(actions)?;
            out.observe(inner)?;
            for (e, o) in outcomes.iter().enumerate() {
                out.rewards[e] = o.reward;
                out.truncations[e] = o.truncated;
                let (floats, ints) = (&mut out.floats, &mut out.ints);
                slot_values(
                    &o.metrics,
                    |k, v| floats[k * n + e] = v,
                    |k, v| ints[k * n + e] = v,
                );
            }
            Ok(())
        })
        .py()
    }
}
