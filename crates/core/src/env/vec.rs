//! [`VecEnv`]: many envs stepped in one call.

use rayon::prelude::*;

use super::{IovEnv, MultiAgentEnv, StepOutcome};
use crate::error::{Error, Result};
use crate::Scenario;

/// Many envs stepped in one call, in parallel (rayon), results independent of the thread count.
#[derive(Debug)]
pub struct VecEnv {
    envs: Vec<IovEnv>,
}

impl VecEnv {
    /// `n` envs of `scenario`.
    ///
    /// # Errors
    /// As [`IovEnv::new`].
    pub fn new(scenario: &Scenario, n: usize) -> Result<Self> {
        let envs = (0..n)
            .map(|_| IovEnv::new(scenario.clone()))
            .collect::<Result<_>>()?;
        Ok(Self { envs })
    }

    /// The envs.
    pub fn envs(&self) -> &[IovEnv] {
        &self.envs
    }

    /// Mutable access to the envs.
    pub fn envs_mut(&mut self) -> &mut [IovEnv] {
        &mut self.envs
    }

    /// Number of envs.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Whether there are no envs.
    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    /// Resets env i with `seeds[i]`.
    ///
    /// # Errors
    /// As [`MultiAgentEnv::reset`]; wrong seed count.
    pub fn reset(&mut self, seeds: &[u64]) -> Result<()> {
        if seeds.len() != self.envs.len() {
            return Err(Error::Shape {
                what: "seeds",
                expected: self.envs.len(),
                got: seeds.len(),
            });
        }
        self.envs
            .par_iter_mut()
            .zip(seeds)
            .try_for_each(|(e, &s)| e.reset(s))
    }

    /// Steps every env with its slice of `actions` (env-major), returning one outcome per env.
    ///
    /// # Errors
    /// As [`MultiAgentEnv::step`]; wrong action count.
    pub fn step(&mut self, actions: &[f32]) -> Result<Vec<StepOutcome>> {
        let per = self.envs.first().map_or(0, |e| e.num_agents());
        if actions.len() != per * self.envs.len() {
            return Err(Error::Shape {
                what: "actions",
                expected: per * self.envs.len(),
                got: actions.len(),
            });
        }
        self.envs
            .par_iter_mut()
            .zip(actions.par_chunks(per.max(1)))
            .map(|(e, a)| e.step(a))
            .collect()
    }

    /// Writes every env's observations, env-major.
    ///
    /// # Errors
    /// [`Error::Shape`] unless `out` holds `len() × num_agents × obs_dim` values.
    pub fn observe(&self, out: &mut [f32]) -> Result<()> {
        let per = self.per_env("observations", out, |e| e.num_agents() * e.obs_dim())?;
        self.envs
            .par_iter()
            .zip(out.par_chunks_mut(per))
            .try_for_each(|(e, o)| e.observe(o))
    }

    /// Writes every env's global state, env-major.
    ///
    /// # Errors
    /// [`Error::Shape`] unless `out` holds `len() × state_dim` values.
    pub fn state(&self, out: &mut [f32]) -> Result<()> {
        let per = self.per_env("state", out, |e| e.state_dim())?;
        self.envs
            .iter()
            .zip(out.chunks_mut(per))
            .try_for_each(|(e, o)| e.state(o))
    }

    /// Writes every env's active mask, env-major.
    ///
    /// # Errors
    /// [`Error::Shape`] unless `out` holds `len() × num_agents` values.
    pub fn active(&self, out: &mut [f32]) -> Result<()> {
        let per = self.per_env("active", out, |e| e.num_agents())?;
        self.envs
            .iter()
            .zip(out.chunks_mut(per))
            .try_for_each(|(e, o)| e.active(o))
    }

    /// Writes every env's per-agent rewards of the last slot ([`MultiAgentEnv::rewards`]),
    /// env-major.
    ///
    /// # Errors
    /// [`Error::Shape`] unless `out` holds `len() × num_agents` values.
    pub fn rewards(&self, out: &mut [f64]) -> Result<()> {
        let per = self.per_env("rewards", out, |e| e.num_agents())?;
        self.envs
            .iter()
            .zip(out.chunks_mut(per))
            .try_for_each(|(e, o)| e.rewards(o))
    }

    /// The per-env length `f(env)` (at least 1, for chunking), after checking that `out` holds
    /// exactly one such slice per env.
    fn per_env<T>(
        &self,
        what: &'static str,
        out: &[T],
        f: impl Fn(&IovEnv) -> usize,
    ) -> Result<usize> {
        let per = self.envs.first().map_or(0, f);
        if out.len() != per * self.envs.len() {
            return Err(Error::Shape {
                what,
                expected: per * self.envs.len(),
                got: out.len(),
            });
        }
        Ok(per.max(1))
    }
}
