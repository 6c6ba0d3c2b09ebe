//! What training reports: [`EpochStats`], one row per epoch (PPO iteration) of the training
//! curve, stored in checkpoints and written as `train.csv`, and the loss sums of an update it is
//! made from.
//!
//! The CSV columns are the fields, in order (serde): adding a field adds the column.

use iovmarket::metrics::EpisodeMetrics;
use serde::{Deserialize, Serialize};

/// What one epoch (PPO iteration) did: means per episode over the rollout's `n_envs` episodes,
/// and the update's losses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean episode reward Σ R(t).
    pub reward: f64,
    /// Mean episode welfare (configured definition).
    pub welfare: f64,
    /// Mean episode gains from trade.
    pub welfare_gains: f64,
    /// Mean episode participants' utility.
    pub welfare_participants: f64,
    /// Mean episode paper-(1) welfare.
    pub welfare_paper_eq1: f64,
    /// Mean episode budget.
    pub budget: f64,
    /// Mean episode latency (ms).
    pub latency_ms: f64,
    /// Mean trades per episode.
    pub trades: f64,
    /// Mean dropped requests per episode.
    pub dropped: f64,
    /// Mean policy (surrogate) loss over the update's steps.
    pub policy_loss: f64,
    /// Mean value loss (Huber, normalised space, before the coefficient).
    pub value_loss: f64,
    /// Mean policy entropy over the active samples, at the start of the update.
    pub entropy: f64,
    /// Fraction of active samples whose ratio left [1 − ε, 1 + ε], over the update.
    pub clip_fraction: f64,
    /// Mean log σ of the actors (squashed Gaussian; none for Beta).
    pub log_std: Option<f64>,
    /// Active (bidding) agent-samples in the rollout.
    pub active_samples: usize,
    /// Agent-steps per second of wall time, rollout plus update (not deterministic).
    pub agent_steps_per_s: f64,
    /// Wall time of the rollout in seconds (not deterministic).
    pub rollout_s: f64,
    /// Wall time of the update (GAE, batch, PPO passes) in seconds (not deterministic).
    pub update_s: f64,
}

/// Loss sums of one update.
#[derive(Debug, Default)]
pub(crate) struct UpdateStats {
    pub(crate) policy: f64,
    pub(crate) policy_steps: usize,
    pub(crate) value: f64,
    pub(crate) value_steps: usize,
    pub(crate) entropy: f64,
    pub(crate) clipped: usize,
    pub(crate) seen: usize,
}

impl EpochStats {
    /// The statistics of epoch `epoch` (1-based): means over the rollout's `episodes` and the
    /// update's loss sums `u` over its `active` agent-samples. The wall-time fields are 0 and
    /// `agent_steps_per_s` is as given; the caller measures them.
    pub(crate) fn new(
        epoch: usize,
        episodes: &[&EpisodeMetrics],
        u: &UpdateStats,
        active: usize,
        log_std: Option<f64>,
        agent_steps_per_s: f64,
    ) -> Self {
        let e = episodes.len() as f64;
        let mean =
            |f: &dyn Fn(&EpisodeMetrics) -> f64| episodes.iter().map(|m| f(m)).sum::<f64>() / e;
        Self {
            epoch,
            reward: mean(&|m| m.reward),
            welfare: mean(&|m| m.welfare),
            welfare_gains: mean(&|m| m.welfare_gains),
            welfare_participants: mean(&|m| m.welfare_participants),
            welfare_paper_eq1: mean(&|m| m.welfare_paper_eq1),
            budget: mean(&|m| m.budget),
            latency_ms: mean(&|m| m.latency_ms),
            trades: mean(&|m| m.trades as f64),
            dropped: mean(&|m| m.dropped as f64),
            policy_loss: u.policy / u.policy_steps.max(1) as f64,
            value_loss: u.value / u.value_steps.max(1) as f64,
            entropy: u.entropy / active.max(1) as f64,
            clip_fraction: u.clipped as f64 / u.seen.max(1) as f64,
            log_std,
            active_samples: active,
            agent_steps_per_s,
            rollout_s: 0.0,
            update_s: 0.0,
        }
    }
}
