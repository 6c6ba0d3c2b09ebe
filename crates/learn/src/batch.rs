//! The data of the PPO update: the rollout flattened ([`Batch`]: GAE advantages and returns per
//! (env, slot), the active agent-samples in slot order, and their normalised advantages), and the
//! update's scratch buffers (a gradient buffer per lane and chunk scratch per thread, see
//! [`crate::lanes`]), reused across epochs.

use crate::config::TrainConfig;
use iovmarket::env::MultiAgentEnv;

use crate::lanes::{Workspaces, CHUNK, LANES};
use crate::nn::{Mlp, MlpCache};
use crate::policy::Policy;
use crate::ppo::{gae, mean_std, ValueNorm};
use crate::rollout::{Critic, Worker};

/// The rollout flattened for the update.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Slots in the rollout (envs × T).
    pub(crate) slots: usize,
    /// Critic inputs, `slots × vps × inputs`, normalised by the critic's input LayerNorm (its
    /// parameter-free half, as the rollout's forward passes computed it: see
    /// `Mlp::forward_normalized`).
    pub(crate) critic_input: Vec<f32>,
    /// Normalised value predictions of the rollout, `slots × vps`.
    pub(crate) value_old: Vec<f32>,
    /// Raw returns, `slots × vps`.
    pub(crate) returns: Vec<f64>,
    /// Active samples in slot order: observation rows, normalised by the actor's input
    /// LayerNorm (its parameter-free half, as the rollout computed it).
    pub(crate) obs: Vec<f32>,
    pub(crate) sample: Vec<f32>,
    pub(crate) logp: Vec<f32>,
    pub(crate) adv: Vec<f32>,
    pub(crate) agent: Vec<u32>,
    /// `slot_start[s]..slot_start[s + 1]` are slot s's active samples.
    pub(crate) slot_start: Vec<u32>,
}

impl Batch {
    /// Flattens the workers' buffers: GAE, returns, active samples and normalised advantages.
    /// The networks' inputs come already normalised from the rollout, whose forward passes
    /// computed the same `x̂` (one pass over the observations, in parallel, instead of a second
    /// one here).
    pub(crate) fn build<E: MultiAgentEnv>(
        &mut self,
        workers: &[Worker<E>],
        critic: &Critic,
        value_norm: &ValueNorm,
        cfg: &TrainConfig,
    ) {
        let w0 = &workers[0];
        let (n, d) = (w0.env.num_agents(), w0.env.obs_dim());
        let t_len = w0.env.episode_slots();
        let vps = critic.values_per_slot(n);
        let b = self;
        b.slots = workers.len() * t_len;
        for v in [
            &mut b.critic_input,
            &mut b.value_old,
            &mut b.obs,
            &mut b.sample,
        ] {
            v.clear();
        }
        for v in [&mut b.logp, &mut b.adv] {
            v.clear();
        }
        b.returns.clear();
        b.agent.clear();
        b.slot_start.clear();
        let mut adv_all: Vec<f64> = Vec::with_capacity(b.slots * vps);
        let mut raw_adv: Vec<f64> = Vec::new();
        let (mut vals, mut rew, mut a, mut r) =
            (vec![], vec![], vec![0.0; t_len], vec![0.0; t_len]);
        for w in workers {
            let buf = &w.buf;
            let env_adv = adv_all.len();
            adv_all.resize(env_adv + t_len * vps, 0.0);
            b.returns.resize(env_adv + t_len * vps, 0.0);
            for j in 0..vps {
                vals.clear();
                vals.extend(
                    (0..t_len).map(|t| value_norm.denormalize(buf.value[t * vps + j] as f64)),
                );
                // Shared rewards are equal across agents: with one value per slot, column 0 is
                // R(t).
                let col = if vps == 1 { 0 } else { j };
                rew.clear();
                rew.extend((0..t_len).map(|t| buf.reward[t * n + col]));
                gae(&rew, &vals, cfg.gamma, cfg.gae_lambda, &mut a, &mut r);
                for t in 0..t_len {
                    adv_all[env_adv + t * vps + j] = a[t];
                    b.returns[env_adv + t * vps + j] = r[t];
                }
            }
            b.value_old.extend_from_slice(&buf.value);
            b.critic_input.extend_from_slice(&buf.critic_hat);
            for t in 0..t_len {
                b.slot_start.push(b.sample.len() as u32);
                for i in 0..n {
                    let k = t * n + i;
                    if buf.active[k] > 0.0 {
                        b.obs.extend_from_slice(&buf.obs_hat[k * d..(k + 1) * d]);
                        b.sample.push(buf.sample[k]);
                        b.logp.push(buf.logp[k]);
                        let j = if vps == 1 { 0 } else { i };
                        raw_adv.push(adv_all[env_adv + t * vps + j]);
                        b.adv.push(0.0);
                        b.agent.push(i as u32);
                    }
                }
            }
        }
        b.slot_start.push(b.sample.len() as u32);
        let (mean, std) = mean_std(raw_adv.iter().copied());
        for (x, &raw) in b.adv.iter_mut().zip(&raw_adv) {
            *x = ((raw - mean) / (std + 1e-5)) as f32;
        }
    }
}

/// The chunk scratch of the actor's steps, one per worker thread ([`crate::lanes`]).
#[derive(Debug)]
pub(crate) struct ActorWorkspace {
    pub(crate) cache: MlpCache<f32>,
    pub(crate) sample: Vec<f32>,
    pub(crate) logp: Vec<f32>,
    pub(crate) adv: Vec<f32>,
    pub(crate) dhead: Vec<f32>,
}

impl ActorWorkspace {
    /// Buffers for chunks of `net` with `outputs` head outputs.
    pub(crate) fn new(net: &Mlp, outputs: usize) -> Self {
        Self {
            cache: MlpCache::new(net, CHUNK),
            sample: vec![0.0; CHUNK],
            logp: vec![0.0; CHUNK],
            adv: vec![0.0; CHUNK],
            dhead: vec![0.0; CHUNK * outputs],
        }
    }

    /// Fills every buffer with NaN (see [`MlpCache::poison`]).
    #[cfg(test)]
    pub(crate) fn poison(&mut self) {
        self.cache.poison();
        for v in [
            &mut self.sample,
            &mut self.logp,
            &mut self.adv,
            &mut self.dhead,
        ] {
            v.fill(f32::NAN);
        }
    }
}

/// The chunk scratch of the critic's steps, one per worker thread.
#[derive(Debug)]
pub(crate) struct CriticWorkspace {
    pub(crate) cache: MlpCache<f32>,
    pub(crate) value_old: Vec<f32>,
    pub(crate) target: Vec<f32>,
    pub(crate) dout: Vec<f32>,
}

impl CriticWorkspace {
    /// Buffers for chunks of `net`.
    pub(crate) fn new(net: &Mlp) -> Self {
        Self {
            cache: MlpCache::new(net, CHUNK),
            value_old: vec![0.0; CHUNK],
            target: vec![0.0; CHUNK],
            dout: vec![0.0; CHUNK],
        }
    }

    /// Fills every buffer with NaN (see [`MlpCache::poison`]).
    #[cfg(test)]
    pub(crate) fn poison(&mut self) {
        self.cache.poison();
        for v in [&mut self.value_old, &mut self.target, &mut self.dout] {
            v.fill(f32::NAN);
        }
    }
}

/// Scratch of the actor's steps, reused across epochs.
#[derive(Debug)]
pub(crate) struct ActorScratch {
    /// The gradient lanes' buffers.
    pub(crate) lanes: Vec<Vec<f32>>,
    pub(crate) spaces: Workspaces<ActorWorkspace>,
    /// The assembled gradient of a step.
    pub(crate) grads: Vec<f32>,
    /// A step's batch rows per actor.
    pub(crate) groups: Vec<Vec<u32>>,
}

/// Scratch of the critic's steps, reused across epochs.
#[derive(Debug)]
pub(crate) struct CriticScratch {
    /// The gradient lanes' buffers.
    pub(crate) lanes: Vec<Vec<f32>>,
    pub(crate) spaces: Workspaces<CriticWorkspace>,
    /// The assembled gradient of a step.
    pub(crate) grads: Vec<f32>,
    /// A step's value rows, their raw returns and normalised targets.
    pub(crate) rows: Vec<u32>,
    pub(crate) raw_returns: Vec<f64>,
    pub(crate) targets: Vec<f32>,
}

impl ActorScratch {
    /// Buffers for `policy`.
    pub(crate) fn new(policy: &Policy) -> Self {
        let n = policy.net.len() + 1;
        Self {
            lanes: vec![vec![0.0; n]; LANES],
            spaces: Workspaces::default(),
            grads: vec![0.0; n],
            groups: vec![Vec::new(); policy.actors.len()],
        }
    }
}

impl CriticScratch {
    /// Buffers for `critic` with `vps` values per slot.
    pub(crate) fn new(critic: &Critic, vps: usize) -> Self {
        let n = critic.params.0.len();
        Self {
            lanes: vec![vec![0.0; n]; LANES],
            spaces: Workspaces::default(),
            grads: vec![0.0; n],
            rows: Vec::with_capacity(vps),
            raw_returns: Vec::new(),
            targets: Vec::new(),
        }
    }
}
