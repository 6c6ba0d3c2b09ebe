//! # iovmarket-learn: MAPPO and IPPO for iovmarket
//!
//! Vehicles learn to bid in the RSUs' double auctions with multi-agent PPO (DESIGN.md §2.1).
//! The pipeline of one epoch (= one PPO iteration):
//!
//! rollout of `n_envs` parallel episodes ([`rollout`], rayon, one env per worker)
//! → GAE(γ, λ) on the denormalised values ([`ppo`]) → clipped PPO with active masks, value
//! normalisation, Huber + clipped value loss, entropy bonus and grad-norm clipping
//! ([`trainer`], its minibatch steps in `update.rs`) on small exact networks ([`nn`]) → statistics ([`EpochStats`]) and a
//! checkpoint ([`checkpoint`]).
//!
//! The learner depends on the model only through [`iovmarket::env::MultiAgentEnv`]: a
//! [`Trainer`] runs on any env, [`train`] and [`evaluate`] on the paper's [`IovEnv`].
//!
//! ```
//! use iovmarket::Scenario;
//! use iovmarket_learn::{evaluate, train, TrainOptions};
//!
//! // A small market so the example runs quickly: 10 vehicles, 20 slots, 2 parallel episodes.
//! let scenario = Scenario::from_toml("", &[
//!     ("scenario.vehicles".into(), "10".into()),
//!     ("scenario.episode_slots".into(), "20".into()),
//!     ("train.n_envs".into(), "2".into()),
//!     ("train.ppo_epochs".into(), "2".into()),
//! ])?;
//! let options = TrainOptions { epochs: Some(2), ..TrainOptions::default() };
//! let result = train(&scenario, &options, |stats| {
//!     println!("epoch {}: reward {:.3}", stats.epoch, stats.reward);
//! })?;
//! assert_eq!(result.curve.len(), 2);
//! let episodes = evaluate(&scenario, &result.policy, 3, 7)?;
//! assert_eq!(episodes.len(), 3);
//! assert!(episodes.iter().all(|e| e.ir_violations == 0));
//! # Ok::<(), iovmarket_learn::Error>(())
//! ```
//!
//! ## Determinism
//! Everything is seeded by `scenario.seed`; the same scenario gives a bit-identical training run
//! for any `train.threads`, and `train` resumed from a checkpoint continues exactly like an
//! uninterrupted run (see [`checkpoint::Snapshot`]). Only `agent_steps_per_s` (wall time) varies.

#![deny(missing_docs)]

mod batch;
pub mod checkpoint;
pub mod config;
mod error;
mod lanes;
pub mod nn;
pub mod policy;
pub mod ppo;
pub mod rollout;
pub mod stats;
pub mod trainer;
mod update;

use std::path::PathBuf;

use iovmarket::env::IovEnv;
use iovmarket::metrics::EpisodeMetrics;
use iovmarket::simulation::{episode_seed, run_episode};
use iovmarket::Scenario;
use rayon::prelude::*;

pub use checkpoint::Snapshot;
pub use config::{BidDistribution, CriticKind, TrainConfig};
pub use error::{Error, Result};
pub use policy::{LearnedBidder, Policy};
pub use stats::EpochStats;
pub use trainer::Trainer;

/// Options of [`train`] beyond the scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrainOptions {
    /// Total epochs to reach (counting those before a resume). By default, `train.epochs`.
    pub epochs: Option<usize>,
    /// Checkpoint file, rewritten atomically after every epoch. By default, none.
    pub checkpoint: Option<PathBuf>,
    /// Continue from `checkpoint` instead of starting afresh. By default, false.
    pub resume: bool,
}

/// What [`train`] returns.
#[derive(Debug, Clone)]
pub struct TrainResult {
    /// One row per epoch (including epochs before a resume).
    pub curve: Vec<EpochStats>,
    /// The trained policy.
    pub policy: Policy,
}

/// Trains MAPPO (or IPPO, per `train.critic`) on `scenario`, calling `progress` after every
/// epoch.
///
/// # Errors
/// Config and env errors; checkpoint errors ([`Error::Io`], [`Error::Corrupt`],
/// [`Error::Mismatch`], …) when resuming or saving; [`Error::Diverged`].
pub fn train(
    scenario: &Scenario,
    options: &TrainOptions,
    mut progress: impl FnMut(&EpochStats),
) -> Result<TrainResult> {
    let cfg = TrainConfig::from_scenario(scenario)?;
    let envs = (0..cfg.n_envs)
        .map(|_| IovEnv::new(scenario.clone()))
        .collect::<iovmarket::Result<Vec<_>>>()?;
    let mut trainer = match (&options.checkpoint, options.resume) {
        (Some(path), true) => Trainer::from_snapshot(scenario, envs, Snapshot::load(path)?)?,
        (None, true) => {
            return Err(Error::Config {
                key: "resume",
                message: "resuming needs a checkpoint path".into(),
            })
        }
        _ => Trainer::new(scenario, envs)?,
    };
    let target = options.epochs.unwrap_or(cfg.epochs);
    while trainer.epoch() < target {
        let stats = trainer.run_epoch()?;
        if let Some(path) = &options.checkpoint {
            trainer.snapshot().save(path)?;
        }
        progress(&stats);
    }
    if let (Some(path), false) = (&options.checkpoint, path_exists(&options.checkpoint)) {
        trainer.snapshot().save(path)?;
    }
    Ok(TrainResult {
        curve: trainer.curve().to_vec(),
        policy: trainer.policy().clone(),
    })
}

fn path_exists(p: &Option<PathBuf>) -> bool {
    p.as_ref().is_some_and(|p| p.exists())
}

/// Plays `episodes` episodes of `scenario` with `policy`'s deterministic actions; episode e uses
/// seed `seed + e` (as `simulate` does), so the results compare episode by episode with any
/// fixed bidder. Episodes run in parallel; results do not depend on the thread count.
///
/// # Errors
/// Env errors; [`Error::Mismatch`] if the policy does not fit the scenario.
pub fn evaluate(
    scenario: &Scenario,
    policy: &Policy,
    episodes: usize,
    seed: u64,
) -> Result<Vec<EpisodeMetrics>> {
    let env = IovEnv::new(scenario.clone())?;
    LearnedBidder::new(policy.clone(), &env)?;
    (0..episodes)
        .into_par_iter()
        .map_init(
            || None,
            |state: &mut Option<(IovEnv, LearnedBidder)>, e| {
                if state.is_none() {
                    let env = IovEnv::new(scenario.clone())?;
                    let bidder = LearnedBidder::new(policy.clone(), &env)?;
                    *state = Some((env, bidder));
                }
                let (env, bidder) = state.as_mut().expect("initialised above");
                Ok(run_episode(
                    env,
                    bidder,
                    e,
                    episode_seed(seed, e),
                    |_, _| {},
                )?)
            },
        )
        .collect()
}
