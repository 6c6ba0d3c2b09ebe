//! Rollouts: each worker owns one env and plays a whole episode with the current policy.
//!
//! ## Invariants
//! - Worker i of epoch k resets its env with a seed and samples actions from a generator that
//!   are both pure functions of (run seed, k, i) ([`rollout_seed`], [`action_stream`]). A worker's
//!   episode is computed start to end by one thread with no shared mutable state, so the buffers
//!   are bit-identical whatever the number of threads or their scheduling.

use iovmarket::env::MultiAgentEnv;
use iovmarket::metrics::EpisodeMetrics;
use iovmarket::rng::{stream, ChaCha8Rng, Stream};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::config::CriticKind;
use crate::error::Result;
use crate::nn::{Activation, Mlp, MlpCache};
use crate::policy::{Params, Policy};

/// Sub-tags of [`Stream::User`] used by the learner (high 32 bits of the stream's first index).
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Tag {
    /// Network initialisation.
    Init = 1,
    /// Episode seeds.
    Episode = 2,
    /// Action sampling.
    Actions = 3,
    /// Minibatch shuffling.
    Shuffle = 4,
}

/// The random stream of `tag` for `(epoch, index)` under run `seed`.
pub(crate) fn user_stream(seed: u64, tag: Tag, epoch: u64, index: u64) -> ChaCha8Rng {
    stream(seed, Stream::User, ((tag as u64) << 32) | epoch, index)
}

/// Seed of env `i`'s training episode in epoch `epoch` (a hash of the run seed, unlike
/// [`iovmarket::simulation::episode_seed`], which numbers the episodes of a simulation or an
/// evaluation consecutively).
pub fn rollout_seed(seed: u64, epoch: usize, i: usize) -> u64 {
    user_stream(seed, Tag::Episode, epoch as u64, i as u64).gen()
}

/// Generator of env `i`'s action samples in epoch `epoch`.
pub fn action_stream(seed: u64, epoch: usize, i: usize) -> ChaCha8Rng {
    user_stream(seed, Tag::Actions, epoch as u64, i as u64)
}

/// The value network: centralised (global state, one value per slot) or local (own observation,
/// one value per agent). With individual rewards (`reward.kind = "individual"`) the centralised
/// critic must tell agents apart: it then sees the global state followed by the agent's own
/// observation and gives one value per agent (DESIGN.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Critic {
    /// Input kind.
    pub kind: CriticKind,
    /// Whether a centralised critic gives one value per agent (input: state ++ own
    /// observation), as individual rewards need. Absent in older checkpoints: false.
    #[serde(default)]
    pub per_agent: bool,
    /// Layout (offset 0).
    pub net: Mlp,
    /// Parameters.
    pub params: Params,
}

impl Critic {
    /// A fresh critic for envs of `obs_dim` and `state_dim` (input length:
    /// [`Critic::inputs`]): gain √2 hidden, 1 on the value head. `per_agent` only matters for
    /// the centralised critic.
    pub fn new<R: Rng + ?Sized>(
        kind: CriticKind,
        per_agent: bool,
        (obs_dim, state_dim): (usize, usize),
        hidden: usize,
        rng: &mut R,
    ) -> Self {
        let inputs = Self::inputs(kind, per_agent, obs_dim, state_dim);
        let net = Mlp::new(inputs, &[hidden, hidden], 1, 0, Activation::Relu);
        let mut p = vec![0.0f32; net.len()];
        net.init(&mut p, 1.0, rng);
        Self {
            kind,
            per_agent: per_agent && kind == CriticKind::Centralised,
            net,
            params: Params(p),
        }
    }

    /// Input length: the state (centralised), state ++ own observation (centralised, per
    /// agent) or the own observation (local).
    pub fn inputs(kind: CriticKind, per_agent: bool, obs_dim: usize, state_dim: usize) -> usize {
        match (kind, per_agent) {
            (CriticKind::Centralised, false) => state_dim,
            (CriticKind::Centralised, true) => state_dim + obs_dim,
            (CriticKind::Local, _) => obs_dim,
        }
    }

    /// Values per slot: 1 (centralised, shared reward) or one per agent.
    pub fn values_per_slot(&self, agents: usize) -> usize {
        match (self.kind, self.per_agent) {
            (CriticKind::Centralised, false) => 1,
            _ => agents,
        }
    }
}

/// What one env's episode leaves for the update (slot-major, then agent).
#[derive(Debug, Clone, Default)]
pub(crate) struct EnvBuffer {
    /// Observations, `T × N × obs_dim`.
    pub obs: Vec<f32>,
    /// The observations as the actors normalised them (the parameter-free half of their input
    /// LayerNorm), `T × N × obs_dim`: what the update trains on.
    pub obs_hat: Vec<f32>,
    /// 1 where the agent's action mattered, `T × N`.
    pub active: Vec<f32>,
    /// Stored samples, `T × N`.
    pub sample: Vec<f32>,
    /// Ratio log-probabilities, `T × N`.
    pub logp: Vec<f32>,
    /// Global states, `T × state_dim` (centralised critic only).
    pub state: Vec<f32>,
    /// Per-agent critic inputs (state ++ own observation), `T × N × (state_dim + obs_dim)`
    /// (per-agent centralised critic only).
    pub critic_input: Vec<f32>,
    /// The critic's inputs as it normalised them (the parameter-free half of its input
    /// LayerNorm), `T × values_per_slot × critic inputs`.
    pub critic_hat: Vec<f32>,
    /// Normalised value predictions, `T × values_per_slot`.
    pub value: Vec<f32>,
    /// Each agent's reward ([`MultiAgentEnv::rewards`]), `T × N`.
    pub reward: Vec<f64>,
    /// Episode totals.
    pub episode: EpisodeMetrics,
}

/// One env and its scratch space.
#[derive(Debug)]
pub(crate) struct Worker<E> {
    pub env: E,
    pub buf: EnvBuffer,
    actor_cache: MlpCache<f32>,
    critic_cache: MlpCache<f32>,
    heads: Vec<f32>,
    actions: Vec<f32>,
}

impl<E: MultiAgentEnv> Worker<E> {
    pub fn new(env: E, policy: &Policy, critic: &Critic) -> Self {
        let n = env.num_agents();
        let t = env.episode_slots();
        let vps = critic.values_per_slot(n);
        let buf = EnvBuffer {
            obs: vec![0.0; t * n * env.obs_dim()],
            obs_hat: vec![0.0; t * n * env.obs_dim()],
            active: vec![0.0; t * n],
            sample: vec![0.0; t * n],
            logp: vec![0.0; t * n],
            state: match critic.kind {
                CriticKind::Centralised => vec![0.0; t * env.state_dim()],
                CriticKind::Local => Vec::new(),
            },
            critic_input: if critic.per_agent {
                vec![0.0; t * n * (env.state_dim() + env.obs_dim())]
            } else {
                Vec::new()
            },
            critic_hat: vec![0.0; t * vps * critic.net.inputs()],
            value: vec![0.0; t * vps],
            reward: vec![0.0; t * n],
            episode: EpisodeMetrics::default(),
        };
        Self {
            actor_cache: MlpCache::new(&policy.net, if policy.is_shared() { n } else { 1 }),
            critic_cache: MlpCache::new(&critic.net, vps),
            heads: vec![0.0; n * policy.outputs()],
            actions: vec![0.0; n],
            buf,
            env,
        }
    }

    /// Plays one episode from `seed`, sampling actions from `rng`.
    pub fn rollout(
        &mut self,
        policy: &Policy,
        critic: &Critic,
        seed: u64,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        let env = &mut self.env;
        let (n, d, s) = (env.num_agents(), env.obs_dim(), env.state_dim());
        let vps = critic.values_per_slot(n);
        let b = &mut self.buf;
        b.episode = EpisodeMetrics::default();
        env.reset(seed)?;
        for t in 0..env.episode_slots() {
            let obs = &mut b.obs[t * n * d..(t + 1) * n * d];
            env.observe(obs)?;
            env.active(&mut b.active[t * n..(t + 1) * n])?;
            policy.heads_with_inputs(
                obs,
                n,
                &mut self.actor_cache,
                &mut self.heads,
                Some(&mut b.obs_hat[t * n * d..(t + 1) * n * d]),
            );
            policy.sample(
                &self.heads,
                rng,
                &mut self.actions,
                &mut b.sample[t * n..(t + 1) * n],
                &mut b.logp[t * n..(t + 1) * n],
            );
            let input: &[f32] = match critic.kind {
                CriticKind::Centralised => {
                    let st = &mut b.state[t * s..(t + 1) * s];
                    env.state(st)?;
                    if critic.per_agent {
                        let w = s + d;
                        let rows = &mut b.critic_input[t * n * w..(t + 1) * n * w];
                        for (row, o) in rows.chunks_exact_mut(w).zip(obs.chunks_exact(d)) {
                            row[..s].copy_from_slice(st);
                            row[s..].copy_from_slice(o);
                        }
                        rows
                    } else {
                        st
                    }
                }
                CriticKind::Local => obs,
            };
            critic
                .net
                .forward(&critic.params.0, input, vps, &mut self.critic_cache);
            b.value[t * vps..(t + 1) * vps].copy_from_slice(&self.critic_cache.output()[..vps]);
            let ci = vps * critic.net.inputs();
            b.critic_hat[t * ci..(t + 1) * ci]
                .copy_from_slice(&self.critic_cache.normalized_inputs()[..ci]);
            let out = env.step(&self.actions)?;
            env.rewards(&mut b.reward[t * n..(t + 1) * n])?;
            b.episode.add(&out.metrics);
        }
        Ok(())
    }
}
