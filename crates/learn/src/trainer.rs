//! The MAPPO/IPPO trainer: rollout, GAE, then `ppo_epochs` passes of clipped PPO.
//!
//! One call of [`Trainer::run_epoch`] is one PPO iteration (DESIGN.md §2.1):
//! 1. every worker plays one episode of T slots in parallel ([`crate::rollout`]);
//! 2. values are denormalised, GAE(γ, λ) gives advantages and returns per (env, slot) — one
//!    value per slot for the centralised critic with shared rewards, per (env, slot, agent) for
//!    the local one and, with individual rewards (`reward.kind = "individual"`), for the
//!    centralised one, which then sees the global state followed by the agent's observation;
//!    each agent's GAE runs on its own rewards ([`MultiAgentEnv::rewards`]);
//! 3. the active agent-samples (agents with a request) are gathered, their advantages
//!    normalised; inactive samples take no part in the actor update at all;
//! 4. `ppo_epochs` passes, each over `minibatches` random groups of slots: actor loss and
//!    gradient in chunks of [`CHUNK`] rows, global grad-norm clip, Adam; and, side by side with
//!    it (the two share no parameter), the value norm update, the critic loss, clip, Adam
//!    (`update.rs`).
//!
//! ## Invariants
//! - The update splits each step's chunks into at most [`LANES`] fixed, contiguous runs whose
//!   gradients are accumulated separately (in parallel) and summed in lane order; with the
//!   rollout's per-env streams a run is bit-identical for any thread count, and a run resumed from a checkpoint is bit-identical to
//!   an uninterrupted one (every random stream is a pure function of the seed and the epoch).
//!
//! ## Limitations
//! - Episodes end by truncation at T; the last slot is treated as terminal (no bootstrap), as in
//!   the reference implementation. The critic sees t/T, so it can learn the horizon.
//! - `share_policy = false` gives each agent its own actor (and Adam state, and grad-norm clip);
//!   the critic stays one network (centralised: there is one value per slot anyway; local: one
//!   network applied to each agent's observation).
//! - A per-agent critic's value loss (local, or centralised with individual rewards) covers all
//!   agent-samples, active or not: the return is defined for every agent (with individual
//!   rewards a buyer without a trade simply earns 0 that slot).
//!
//! ## Performance
//! The centralised critic runs once per (env, slot), not once per agent. The actor update only
//! touches active samples. Both work on chunks of [`CHUNK`] rows whose activations stay in cache
//! (each thread keeps one set of chunk scratch, whatever lane it runs: `crate::lanes`). The
//! networks' inputs are normalised once, by the rollout's forward passes, and the batch keeps
//! them so. The whole update runs on the trainer's pool: handing work to a pool thread that
//! has gone to sleep cost hundreds of microseconds on the machines this was measured on, and
//! the update has 40 steps per epoch in the paper's setup.

use std::time::Instant;

use iovmarket::config::RewardKind;
use iovmarket::env::MultiAgentEnv;
use iovmarket::Scenario;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::batch::{ActorScratch, Batch, CriticScratch};
use crate::checkpoint::Snapshot;
use crate::config::{BidDistribution, CriticKind, TrainConfig};
use crate::error::{Error, Result};
pub use crate::lanes::{CHUNK, LANES};
use crate::nn::Adam;
use crate::policy::Policy;
use crate::ppo::{Coefs, ValueNorm};
use crate::rollout::{action_stream, rollout_seed, user_stream, Critic, Tag, Worker};
use crate::stats::{EpochStats, UpdateStats};
use crate::update::{step_both, ActorStep, CriticStep};

/// MAPPO/IPPO training state over envs of type `E`.
pub struct Trainer<E> {
    scenario: Scenario,
    /// The `[train]` table of `scenario`, parsed once.
    train: TrainConfig,
    seed: u64,
    epoch: usize,
    policy: Policy,
    actor_adam: Vec<Adam>,
    critic: Critic,
    critic_adam: Adam,
    value_norm: ValueNorm,
    curve: Vec<EpochStats>,
    workers: Vec<Worker<E>>,
    /// The trainer's own pool; `None` runs on the ambient rayon pool (see [`Trainer::new`]).
    pool: Option<rayon::ThreadPool>,
    batch: Batch,
    actor_scratch: ActorScratch,
    critic_scratch: CriticScratch,
}

/// Runs `f` in `pool`, or in the ambient rayon pool if there is none.
fn install<R: Send>(pool: &Option<rayon::ThreadPool>, f: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

impl<E> std::fmt::Debug for Trainer<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("seed", &self.seed)
            .field("epoch", &self.epoch)
            .field("envs", &self.workers.len())
            .finish_non_exhaustive()
    }
}

impl<E: MultiAgentEnv> Trainer<E> {
    /// A fresh trainer for `scenario.train` on `envs` (one per parallel episode, so
    /// `train.n_envs` of them), seeded by `scenario.scenario.seed`.
    ///
    /// # Errors
    /// [`Error::Config`] for a wrong env count, envs of different shapes or more minibatches
    /// than slots; [`Error::ThreadPool`].
    pub fn new(scenario: &Scenario, envs: Vec<E>) -> Result<Self> {
        let cfg = &TrainConfig::from_scenario(scenario)?;
        let (agents, obs_dim, state_dim) = check_envs(cfg, &envs)?;
        let seed = scenario.scenario.seed;
        let mut rng = user_stream(seed, Tag::Init, 0, 0);
        let policy = Policy::new(obs_dim, agents, cfg, scenario.agents.action, &mut rng);
        let critic = Critic::new(
            cfg.critic,
            per_agent_values(scenario, cfg),
            (obs_dim, state_dim),
            cfg.hidden,
            &mut rng,
        );
        let snapshot = Snapshot {
            scenario: scenario.to_toml(),
            seed,
            epoch: 0,
            actor_adam: policy
                .actors
                .iter()
                .map(|p| Adam::new(p.0.len(), cfg.lr))
                .collect(),
            critic_adam: Adam::new(critic.params.0.len(), cfg.lr),
            policy,
            critic,
            value_norm: ValueNorm::default(),
            curve: Vec::new(),
        };
        Self::from_snapshot(scenario, envs, snapshot)
    }

    /// A trainer that continues from `snapshot`, whose scenario must equal `scenario` up to
    /// `train.epochs` and `train.threads`.
    ///
    /// # Errors
    /// [`Error::Mismatch`] naming the first differing config line or network shape; as
    /// [`Trainer::new`].
    pub fn from_snapshot(scenario: &Scenario, envs: Vec<E>, snapshot: Snapshot) -> Result<Self> {
        snapshot.check_scenario(scenario)?;
        let train = TrainConfig::from_scenario(scenario)?;
        let (agents, obs_dim, state_dim) = check_envs(&train, &envs)?;
        snapshot.policy.check_env(agents, obs_dim)?;
        let per_agent = per_agent_values(scenario, &train);
        let critic_inputs = Critic::inputs(train.critic, per_agent, obs_dim, state_dim);
        if snapshot.critic.net.inputs() != critic_inputs
            || (snapshot.critic.kind == CriticKind::Centralised
                && snapshot.critic.per_agent != per_agent)
        {
            return Err(Error::Mismatch {
                what: "the critic input length".into(),
                checkpoint: snapshot.critic.net.inputs().to_string(),
                current: critic_inputs.to_string(),
            });
        }
        let threads = train.threads;
        // `threads = 0` inside a rayon pool (e.g. `reproduce` running its jobs in parallel):
        // share that pool instead of building one of all cores per trainer (cores² threads).
        // Results do not depend on the pool.
        let pool = if threads == 0 && rayon::current_thread_index().is_some() {
            None
        } else {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .map_err(|e| Error::ThreadPool {
                        threads,
                        message: e.to_string(),
                    })?,
            )
        };
        let Snapshot {
            seed,
            epoch,
            policy,
            actor_adam,
            critic,
            critic_adam,
            value_norm,
            curve,
            ..
        } = snapshot;
        let workers = envs
            .into_iter()
            .map(|e| Worker::new(e, &policy, &critic))
            .collect();
        let actor_scratch = ActorScratch::new(&policy);
        let critic_scratch = CriticScratch::new(&critic, critic.values_per_slot(agents));
        Ok(Self {
            scenario: scenario.clone(),
            train,
            seed,
            epoch,
            policy,
            actor_adam,
            critic,
            critic_adam,
            value_norm,
            curve,
            workers,
            pool,
            batch: Batch::default(),
            actor_scratch,
            critic_scratch,
        })
    }

    /// Epochs completed.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// The current policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The statistics of every epoch so far (including those before a resume).
    pub fn curve(&self) -> &[EpochStats] {
        &self.curve
    }

    /// The scenario being trained on.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The value normaliser.
    pub fn value_norm(&self) -> &ValueNorm {
        &self.value_norm
    }

    /// Everything needed to continue the run bit-identically.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            scenario: self.scenario.to_toml(),
            seed: self.seed,
            epoch: self.epoch,
            policy: self.policy.clone(),
            actor_adam: self.actor_adam.clone(),
            critic: self.critic.clone(),
            critic_adam: self.critic_adam.clone(),
            value_norm: self.value_norm.clone(),
            curve: self.curve.clone(),
        }
    }

    /// Runs one PPO iteration and returns its statistics.
    ///
    /// # Errors
    /// Env errors; [`Error::Diverged`] if a loss or gradient becomes non-finite.
    pub fn run_epoch(&mut self) -> Result<EpochStats> {
        let start = Instant::now();
        self.collect()?;
        let rollout_s = start.elapsed().as_secs_f64();
        let u = self.update()?;
        let elapsed = start.elapsed().as_secs_f64();
        let episodes: Vec<_> = self.workers.iter().map(|w| &w.buf.episode).collect();
        let agent_steps: usize = self
            .workers
            .iter()
            .map(|w| w.env.num_agents() * w.env.episode_slots())
            .sum();
        let ls = self.policy.log_std();
        let log_std = (self.policy.distribution == BidDistribution::SquashedGaussian)
            .then(|| ls.iter().map(|&x| x as f64).sum::<f64>() / ls.len() as f64);
        let mut stats = EpochStats::new(
            self.epoch + 1,
            &episodes,
            &u,
            self.batch.sample.len(),
            log_std,
            agent_steps as f64 / elapsed.max(1e-9),
        );
        stats.rollout_s = rollout_s;
        stats.update_s = elapsed - rollout_s;
        self.epoch += 1;
        self.curve.push(stats.clone());
        Ok(stats)
    }

    /// Steps 1–3 of an epoch: every worker's rollout, then the batch (GAE, active samples).
    fn collect(&mut self) -> Result<()> {
        let (epoch, seed) = (self.epoch, self.seed);
        {
            let (policy, critic) = (&self.policy, &self.critic);
            let workers = &mut self.workers;
            install(&self.pool, || {
                workers.par_iter_mut().enumerate().try_for_each(|(i, w)| {
                    let mut rng = action_stream(seed, epoch, i);
                    w.rollout(policy, critic, rollout_seed(seed, epoch, i), &mut rng)
                })
            })?;
        }
        self.batch
            .build(&self.workers, &self.critic, &self.value_norm, &self.train);
        Ok(())
    }

    /// The actor's and the critic's sides of the update, borrowing disjoint parts of `self`.
    fn steps(&mut self) -> (ActorStep<'_>, CriticStep<'_>) {
        let n = self.workers[0].env.num_agents();
        let actor = ActorStep {
            pool: self.pool.as_ref(),
            policy: &mut self.policy,
            adam: &mut self.actor_adam,
            batch: &self.batch,
            scratch: &mut self.actor_scratch,
            max_grad_norm: self.train.max_grad_norm,
            epoch: self.epoch,
        };
        let critic = CriticStep {
            pool: self.pool.as_ref(),
            vps: self.critic.values_per_slot(n),
            critic: &mut self.critic,
            adam: &mut self.critic_adam,
            value_norm: &mut self.value_norm,
            batch: &self.batch,
            scratch: &mut self.critic_scratch,
            max_grad_norm: self.train.max_grad_norm,
            epoch: self.epoch,
        };
        (actor, critic)
    }

    /// `ppo_epochs` passes over the batch.
    fn update(&mut self) -> Result<UpdateStats> {
        let cfg = &self.train;
        let coefs = Coefs::from(cfg);
        let (m, ppo_epochs) = (cfg.minibatches, cfg.ppo_epochs);
        let (seed, epoch) = (self.seed, self.epoch);
        let slots = self.batch.slots;
        let mut order: Vec<u32> = (0..slots as u32).collect();
        let (mut ua, mut uc) = (UpdateStats::default(), UpdateStats::default());
        let (mut actor, mut critic) = self.steps();
        let pool = actor.pool;
        let mut run = || -> Result<()> {
            for k in 0..ppo_epochs {
                if m > 1 {
                    order.sort_unstable();
                    order.shuffle(&mut user_stream(seed, Tag::Shuffle, epoch as u64, k as u64));
                }
                for mb in 0..m {
                    let part = &order[mb * slots / m..(mb + 1) * slots / m];
                    step_both(
                        &mut actor,
                        &mut critic,
                        part,
                        coefs,
                        k == 0,
                        &mut ua,
                        &mut uc,
                    )?;
                }
            }
            Ok(())
        };
        // The whole update on the pool: one hand-over to its threads instead of one per step.
        match pool {
            Some(p) => p.install(run),
            None => run(),
        }?;
        ua.value = uc.value;
        ua.value_steps = uc.value_steps;
        Ok(ua)
    }
}

/// Whether the centralised critic gives one value per agent: with individual rewards the
/// agents' returns differ, so one value per slot cannot fit them (DESIGN.md §3).
fn per_agent_values(scenario: &Scenario, cfg: &TrainConfig) -> bool {
    scenario.reward.kind == RewardKind::Individual && cfg.critic == CriticKind::Centralised
}

/// Checks the env count and shapes; returns (agents, obs_dim, state_dim).
fn check_envs<E: MultiAgentEnv>(cfg: &TrainConfig, envs: &[E]) -> Result<(usize, usize, usize)> {
    if envs.len() != cfg.n_envs {
        return Err(Error::Config {
            key: "train.n_envs",
            message: format!("{} envs given for n_envs = {}", envs.len(), cfg.n_envs),
        });
    }
    let e = &envs[0];
    let shape = |e: &E| {
        (
            e.num_agents(),
            e.obs_dim(),
            e.state_dim(),
            e.episode_slots(),
        )
    };
    if envs.iter().any(|x| shape(x) != shape(e)) {
        return Err(Error::Config {
            key: "train.n_envs",
            message: "all envs must have the same shape".into(),
        });
    }
    let slots = cfg.n_envs * e.episode_slots();
    if cfg.minibatches > slots {
        return Err(Error::Config {
            key: "train.minibatches",
            message: format!(
                "{} is more than the {slots} slots of a rollout",
                cfg.minibatches
            ),
        });
    }
    Ok((e.num_agents(), e.obs_dim(), e.state_dim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::MlpCache;
    use crate::ppo::{actor_chunk, ActorRows};
    use iovmarket::env::IovEnv;

    /// 3 vehicles with their own actors, 4 parallel 150-slot episodes: each agent has more than
    /// [`CHUNK`] active samples (so its gradient is summed over chunks and lanes) and some
    /// inactive ones (slots without a request).
    fn trainer(distribution: &str) -> Trainer<IovEnv> {
        trainer_with(distribution, "8")
    }

    /// [`trainer`] with hidden width `hidden` (64 runs on the fused kernels).
    fn trainer_with(distribution: &str, hidden: &str) -> Trainer<IovEnv> {
        let set = |k: &str, v: &str| (k.to_string(), v.to_string());
        let s = Scenario::from_toml(
            "",
            &[
                set("scenario.vehicles", "3"),
                set("scenario.rsus", "1"),
                set("scenario.episode_slots", "150"),
                set("train.n_envs", "4"),
                set("train.hidden", hidden),
                set("train.share_policy", "false"),
                set("train.ppo_epochs", "1"),
                set("train.minibatches", "1"),
                set("train.log_std_init", "-0.7"),
                set("train.distribution", distribution),
                set("train.threads", "2"),
            ],
        )
        .unwrap();
        let envs = (0..4).map(|_| IovEnv::new(s.clone()).unwrap()).collect();
        Trainer::new(&s, envs).unwrap()
    }

    /// Issue 15: nothing checked the trainer's assembled update (chunk reduction, inactive-agent
    /// masking with 1/active, per-agent actors, log σ summed across lanes). Here the gradient
    /// the trainer assembles for each agent's actor is compared with central finite differences
    /// of the whole loss `(1/active)·Σ_active [−min(r·Â, clip(r)·Â) − c_H·H]` in f64 over that
    /// agent's active samples in one piece; then one real update step (`run_epoch` with one PPO
    /// pass and one minibatch) must move every parameter with a clear gradient against it by
    /// Adam's first step, lr.
    #[test]
    fn the_assembled_actor_update_matches_finite_differences_of_the_whole_loss() {
        for distribution in ["squashed_gaussian", "beta"] {
            let mut t = trainer(distribution);
            let before = t.policy.clone();
            t.collect().unwrap();
            let cfg = t.train.clone();
            let coefs = Coefs::from(&cfg);
            let n = t.workers[0].env.num_agents();
            assert!(!t.policy.is_shared());
            let mut fds = Vec::new();
            for g in 0..n {
                // Masking: agent g's rows are exactly its active samples of the rollout.
                let rows: Vec<u32> = (0..t.batch.agent.len() as u32)
                    .filter(|&r| t.batch.agent[r as usize] == g as u32)
                    .collect();
                let (mut active, mut inactive) = (0, 0);
                for w in &t.workers {
                    for k in (g..w.buf.active.len()).step_by(n) {
                        if w.buf.active[k] > 0.0 {
                            active += 1;
                        } else {
                            inactive += 1;
                        }
                    }
                }
                assert_eq!(rows.len(), active, "agent {g}");
                assert!(
                    inactive > 0 && active > CHUNK,
                    "agent {g}: {active} / {inactive}"
                );

                t.steps().0.group_grads(g, &rows, coefs, true);
                let assembled: Vec<f64> = t
                    .actor_scratch
                    .grads
                    .iter()
                    .map(|&x| f64::from(x))
                    .collect();

                let d = t.policy.obs_dim;
                let pick = |xs: &[f32], w: usize| -> Vec<f64> {
                    rows.iter()
                        .flat_map(|&r| xs[r as usize * w..(r as usize + 1) * w].iter())
                        .map(|&x| f64::from(x))
                        .collect()
                };
                let (obs, sample, logp, adv) = (
                    pick(&t.batch.obs, d),
                    pick(&t.batch.sample, 1),
                    pick(&t.batch.logp, 1),
                    pick(&t.batch.adv, 1),
                );
                let (net, layout) = (t.policy.net.clone(), t.policy.layout());
                let m = rows.len();
                let mut cache = MlpCache::<f64>::new(&net, m);
                // The batch holds the observations normalised; `actor_chunk` starts from them.
                cache.normalized_inputs_mut()[..obs.len()].copy_from_slice(&obs);
                let mut dhead = vec![0.0; m * t.policy.outputs()];
                let theta: Vec<f64> = t.policy.actors[g].0.iter().map(|&x| f64::from(x)).collect();
                let mut unused = vec![0.0; theta.len()];
                let inv_n = 1.0 / m as f64;
                let mut loss = |p: &[f64]| {
                    let rows = ActorRows {
                        sample: &sample,
                        logp_old: &logp,
                        adv: &adv,
                    };
                    let s = actor_chunk(
                        &net,
                        layout,
                        p,
                        rows,
                        inv_n,
                        coefs,
                        true,
                        &mut cache,
                        &mut dhead,
                        &mut unused,
                    );
                    inv_n * (s.policy - coefs.entropy * s.entropy)
                };
                let h = 1e-6;
                let fd: Vec<f64> = (0..theta.len())
                    .map(|i| {
                        let mut p = theta.clone();
                        p[i] += h;
                        let up = loss(&p);
                        p[i] -= 2.0 * h;
                        (up - loss(&p)) / (2.0 * h)
                    })
                    .collect();
                let scale = fd.iter().fold(0.0f64, |a, x| a.max(x.abs()));
                assert!(scale > 1e-4, "{distribution} agent {g}: no gradient");
                for (i, (a, f)) in assembled.iter().zip(&fd).enumerate() {
                    // Relative error with a floor of 1 % of the largest component.
                    let err = (a - f).abs() / f.abs().max(0.01 * scale);
                    assert!(
                        err < 2e-3,
                        "{distribution} agent {g} parameter {i}: assembled {a:e}, finite \
                         differences {f:e}"
                    );
                }
                if distribution == "squashed_gaussian" {
                    let ls = layout.log_std;
                    assert!(fd[ls].abs() > 0.01 * scale, "log σ has a clear gradient");
                }
                fds.push(fd);
            }

            // One real update step from the same start: Adam's first step moves each parameter
            // by about lr against the sign of its gradient (clipping rescales, never flips).
            let mut u = trainer(distribution);
            u.run_epoch().unwrap();
            for (g, fd) in fds.iter().enumerate() {
                let scale = fd.iter().fold(0.0f64, |a, x| a.max(x.abs()));
                let (old, new) = (&before.actors[g].0, &u.policy.actors[g].0);
                let mut checked = 0;
                for i in 0..fd.len() {
                    if fd[i].abs() < 0.02 * scale {
                        continue;
                    }
                    let step = f64::from(new[i]) - f64::from(old[i]);
                    assert!(
                        step * fd[i] < 0.0 && (step.abs() - cfg.lr).abs() < 0.05 * cfg.lr,
                        "{distribution} agent {g} parameter {i}: step {step:e}, gradient {:e}",
                        fd[i]
                    );
                    checked += 1;
                }
                assert!(
                    checked >= 5,
                    "{distribution} agent {g}: {checked} parameters"
                );
            }
        }
    }

    /// The chunk scratch belongs to threads, not lanes (`crate::lanes`), so a lane may meet
    /// scratch that another step, lane or network left behind: a step must read nothing from it
    /// that it did not write. With every scratch buffer poisoned with NaN in between, both
    /// steps' gradients come out bit for bit the same, on the layered and the fused path.
    #[test]
    fn a_step_reads_nothing_its_scratch_held_before() {
        for hidden in ["8", "64"] {
            let mut t = trainer_with("squashed_gaussian", hidden);
            t.collect().unwrap();
            let coefs = Coefs::from(&t.train);
            let rows: Vec<u32> = (0..t.batch.agent.len() as u32)
                .filter(|&r| t.batch.agent[r as usize] == 0)
                .collect();
            let slots: Vec<u32> = (0..t.batch.slots as u32).collect();
            let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            let run = |t: &mut Trainer<IovEnv>| {
                let (mut actor, mut critic) = t.steps();
                actor.group_grads(0, &rows, coefs, true);
                let mut u = UpdateStats::default();
                // The critic's step also applies Adam, so both runs start from a clone.
                let (saved, adam, vn) = (
                    critic.critic.clone(),
                    critic.adam.clone(),
                    critic.value_norm.clone(),
                );
                critic.run(&slots, coefs, &mut u).unwrap();
                *critic.critic = saved;
                *critic.adam = adam;
                *critic.value_norm = vn;
                (bits(&t.actor_scratch.grads), bits(&t.critic_scratch.grads))
            };
            let clean = run(&mut t);
            t.actor_scratch.spaces.for_each_mut(|w| w.poison());
            t.critic_scratch.spaces.for_each_mut(|w| w.poison());
            let poisoned = run(&mut t);
            assert!(clean.0.iter().any(|&b| b != 0), "hidden {hidden}");
            assert_eq!(clean, poisoned, "hidden {hidden}");
        }
    }

    /// The batch takes the networks' inputs normalised from the rollout's forward passes: they
    /// must be, bit for bit, the raw observations and states normalised by each network's input
    /// LayerNorm (per-agent actors, so one row per forward pass).
    #[test]
    fn the_batch_inputs_are_the_rollout_inputs_normalised() {
        let mut t = trainer("squashed_gaussian");
        t.collect().unwrap();
        let n = t.workers[0].env.num_agents();
        let d = t.policy.obs_dim;
        let norm = |ln: &crate::nn::LayerNorm, x: &[f32]| {
            let rows = x.len() / ln.dim;
            let (mut xhat, mut rstd) = (vec![0.0; x.len()], vec![0.0; rows]);
            ln.normalize(x, rows, &mut xhat, &mut rstd);
            xhat.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        };
        let (mut obs, mut states) = (Vec::new(), Vec::new());
        for w in &t.workers {
            for (k, &a) in w.buf.active.iter().enumerate() {
                if a > 0.0 {
                    obs.extend_from_slice(&w.buf.obs[k * d..(k + 1) * d]);
                }
            }
            states.extend_from_slice(&w.buf.state);
        }
        assert_eq!(obs.len() / d, t.batch.agent.len());
        assert!(t.batch.agent.len() > n);
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(norm(&t.policy.net.input_norm, &obs), bits(&t.batch.obs));
        assert_eq!(
            norm(&t.critic.net.input_norm, &states),
            bits(&t.batch.critic_input)
        );
    }
}
