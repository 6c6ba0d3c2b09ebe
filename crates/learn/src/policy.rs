//! The bidding policy (actor) and the learned [`Bidder`].
//!
//! An actor is an [`Mlp`] (`LayerNorm(obs) → [Linear → ReLU → LayerNorm] × 2 → head`) plus, for
//! the squashed Gaussian, one state-independent log σ stored after the MLP's parameters. With
//! `share_policy = true` all agents use one actor; otherwise agent i uses actor i.

use iovmarket::agents::{ActionKind, Bidder, BidderView};
use iovmarket::env::{IovEnv, MultiAgentEnv};
use iovmarket::rng::ChaCha8Rng;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::config::{BidDistribution, TrainConfig};
use crate::error::{Error, Result};
use crate::nn::{Activation, Beta, Mlp, MlpCache, SquashedGaussian};
use crate::ppo::ActorLayout;

/// One actor's parameters (stored bit-exactly in checkpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Params(#[serde(with = "crate::nn::bits")] pub Vec<f32>);

/// A bidding policy: actor network layout, parameters and bid distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// How the policy's actions become bids (`agents.action` when it was trained).
    pub action: ActionKind,
    /// Bid distribution of the head.
    pub distribution: BidDistribution,
    /// Layout of every actor's MLP (at offset 0 of its parameter vector).
    pub net: Mlp,
    /// Observation length the policy expects.
    pub obs_dim: usize,
    /// Agents the policy was built for (matters only when actors are per agent).
    pub agents: usize,
    /// One parameter vector (shared policy) or one per agent.
    pub actors: Vec<Params>,
}

impl Policy {
    /// A freshly initialised policy for `agents` agents observing `obs_dim` values: orthogonal
    /// init with gain √2 on the hidden layers and 0.01 on the head, log σ = `log_std_init`.
    pub fn new<R: Rng + ?Sized>(
        obs_dim: usize,
        agents: usize,
        cfg: &TrainConfig,
        action: ActionKind,
        rng: &mut R,
    ) -> Self {
        let outputs = match cfg.distribution {
            BidDistribution::SquashedGaussian => 1,
            BidDistribution::Beta => 2,
        };
        let net = Mlp::new(
            obs_dim,
            &[cfg.hidden, cfg.hidden],
            outputs,
            0,
            Activation::Relu,
        );
        let count = if cfg.share_policy { 1 } else { agents };
        let actors = (0..count)
            .map(|_| {
                let mut p = vec![0.0f32; net.len() + 1];
                net.init(&mut p, 0.01, rng);
                p[net.len()] = cfg.log_std_init as f32;
                Params(p)
            })
            .collect();
        Self {
            action,
            distribution: cfg.distribution,
            net,
            obs_dim,
            agents,
            actors,
        }
    }

    /// Where log σ sits in each parameter vector.
    pub fn layout(&self) -> ActorLayout {
        ActorLayout {
            distribution: self.distribution,
            log_std: self.net.len(),
        }
    }

    /// Whether all agents share one actor.
    pub fn is_shared(&self) -> bool {
        self.actors.len() == 1
    }

    /// Index of the actor of `agent`.
    #[inline]
    pub fn actor_of(&self, agent: usize) -> usize {
        if self.is_shared() {
            0
        } else {
            agent
        }
    }

    /// Head outputs per row.
    pub fn outputs(&self) -> usize {
        self.net.outputs()
    }

    /// Checks that the policy can act in an env with `agents` agents and `obs_dim` observations.
    ///
    /// # Errors
    /// [`Error::Mismatch`] naming the quantity that differs.
    pub fn check_env(&self, agents: usize, obs_dim: usize) -> Result<()> {
        if obs_dim != self.obs_dim {
            return Err(Error::Mismatch {
                what: "the observation length".into(),
                checkpoint: self.obs_dim.to_string(),
                current: obs_dim.to_string(),
            });
        }
        if !self.is_shared() && agents != self.agents {
            return Err(Error::Mismatch {
                what: "the number of agents (per-agent policies)".into(),
                checkpoint: self.agents.to_string(),
                current: agents.to_string(),
            });
        }
        Ok(())
    }

    /// Writes the head outputs of all `agents` rows of `obs` into `heads` (`agents × outputs`).
    pub(crate) fn heads(
        &self,
        obs: &[f32],
        agents: usize,
        cache: &mut MlpCache<f32>,
        heads: &mut [f32],
    ) {
        self.heads_with_inputs(obs, agents, cache, heads, None);
    }

    /// [`Policy::heads`], and with `xhat`, the rows of `obs` as the actors' input LayerNorm
    /// normalised them (`agents × obs_dim`, its parameter-free half, [`crate::nn::LayerNorm::normalize`]):
    /// the update starts from exactly these.
    pub(crate) fn heads_with_inputs(
        &self,
        obs: &[f32],
        agents: usize,
        cache: &mut MlpCache<f32>,
        heads: &mut [f32],
        mut xhat: Option<&mut [f32]>,
    ) {
        let (d, o) = (self.obs_dim, self.outputs());
        if self.is_shared() {
            self.net.forward(&self.actors[0].0, obs, agents, cache);
            heads[..agents * o].copy_from_slice(&cache.output()[..agents * o]);
            if let Some(x) = xhat {
                x[..agents * d].copy_from_slice(&cache.normalized_inputs()[..agents * d]);
            }
        } else {
            for i in 0..agents {
                self.net
                    .forward(&self.actors[i].0, &obs[i * d..(i + 1) * d], 1, cache);
                heads[i * o..(i + 1) * o].copy_from_slice(&cache.output()[..o]);
                if let Some(x) = xhat.as_deref_mut() {
                    x[i * d..(i + 1) * d].copy_from_slice(&cache.normalized_inputs()[..d]);
                }
            }
        }
    }

    /// Deterministic actions (`sigmoid(μ)` for the squashed Gaussian, the mean for the Beta).
    pub(crate) fn mode(&self, heads: &[f32], actions: &mut [f32]) {
        for (i, a) in actions.iter_mut().enumerate() {
            *a = match self.distribution {
                BidDistribution::SquashedGaussian => SquashedGaussian::mode(heads[i]),
                BidDistribution::Beta => {
                    let (al, be, _, _) = Beta::params(heads[2 * i], heads[2 * i + 1]);
                    Beta::mean(al, be) as f32
                }
            };
        }
    }

    /// Samples one action per agent; writes the stored sample (pre-squash `u` or the Beta
    /// action) and the ratio log-probability.
    pub(crate) fn sample<R: Rng + ?Sized>(
        &self,
        heads: &[f32],
        rng: &mut R,
        actions: &mut [f32],
        samples: &mut [f32],
        logp: &mut [f32],
    ) {
        let log_std_at = self.net.len();
        for i in 0..actions.len() {
            match self.distribution {
                BidDistribution::SquashedGaussian => {
                    let ls = self.actors[self.actor_of(i)].0[log_std_at];
                    let z: f32 = rng.sample(StandardNormal);
                    let u = SquashedGaussian::sample(heads[i], ls, z);
                    samples[i] = u;
                    logp[i] = SquashedGaussian::log_prob_pre(u, heads[i], ls).0;
                    actions[i] = SquashedGaussian::action(u);
                }
                BidDistribution::Beta => {
                    let (al, be, _, _) = Beta::params(heads[2 * i], heads[2 * i + 1]);
                    let a = Beta::sample(al, be, rng);
                    samples[i] = a as f32;
                    logp[i] = Beta::log_prob(a as f32 as f64, al, be).0 as f32;
                    actions[i] = a as f32;
                }
            }
        }
    }

    /// The current log σ of each actor (squashed Gaussian; NaN for the Beta head).
    pub fn log_std(&self) -> Vec<f32> {
        match self.distribution {
            BidDistribution::SquashedGaussian => {
                self.actors.iter().map(|p| p.0[self.net.len()]).collect()
            }
            BidDistribution::Beta => vec![f32::NAN; self.actors.len()],
        }
    }
}

/// A trained policy as a core [`Bidder`]: deterministic actions by default, sampled ones with
/// [`LearnedBidder::stochastic`].
#[derive(Debug, Clone)]
pub struct LearnedBidder {
    policy: Policy,
    stochastic: bool,
    obs: Vec<f32>,
    heads: Vec<f32>,
    scratch: (Vec<f32>, Vec<f32>),
    cache: MlpCache<f32>,
}

impl LearnedBidder {
    /// A bidder that plays `policy` in `env`'s scenario.
    ///
    /// # Errors
    /// [`Error::Mismatch`] if the policy's observation length (or, for per-agent policies, its
    /// agent count) differs from the env's, or if it was trained with another `agents.action`
    /// (its actions would mean other bids).
    pub fn new(policy: Policy, env: &IovEnv) -> Result<Self> {
        let (n, d) = (env.num_agents(), env.obs_dim());
        policy.check_env(n, d)?;
        let action = env.scenario().agents.action;
        if action != policy.action {
            return Err(Error::Mismatch {
                what: "agents.action (the bid parameterisation)".into(),
                checkpoint: policy.action.to_string(),
                current: action.to_string(),
            });
        }
        let cache = MlpCache::new(&policy.net, if policy.is_shared() { n } else { 1 });
        Ok(Self {
            obs: vec![0.0; n * d],
            heads: vec![0.0; n * policy.outputs()],
            scratch: (vec![0.0; n], vec![0.0; n]),
            cache,
            policy,
            stochastic: false,
        })
    }

    /// Samples actions from the policy instead of playing its deterministic action.
    pub fn stochastic(mut self, yes: bool) -> Self {
        self.stochastic = yes;
        self
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
}

impl Bidder for LearnedBidder {
    fn name(&self) -> String {
        if self.stochastic {
            "learned:stochastic".into()
        } else {
            "learned".into()
        }
    }

    fn action_kind(&self, _configured: ActionKind) -> ActionKind {
        self.policy.action
    }

    fn act(
        &mut self,
        view: &BidderView<'_>,
        rng: &mut ChaCha8Rng,
        actions: &mut [f32],
    ) -> iovmarket::Result<()> {
        let n = actions.len();
        view.observe(&mut self.obs)?;
        self.policy
            .heads(&self.obs, n, &mut self.cache, &mut self.heads);
        if self.stochastic {
            let (s, l) = &mut self.scratch;
            self.policy.sample(&self.heads, rng, actions, s, l);
        } else {
            self.policy.mode(&self.heads, actions);
        }
        Ok(())
    }
}

/// The deterministic actions of `policy` for `agents` observation rows (a convenience for
/// custom envs; [`LearnedBidder`] does the same inside an [`IovEnv`]).
pub fn deterministic_actions(policy: &Policy, obs: &[f32], agents: usize) -> Vec<f32> {
    let mut cache = MlpCache::new(&policy.net, if policy.is_shared() { agents } else { 1 });
    let mut heads = vec![0.0; agents * policy.outputs()];
    policy.heads(obs, agents, &mut cache, &mut heads);
    let mut actions = vec![0.0; agents];
    policy.mode(&heads, &mut actions);
    actions
}
