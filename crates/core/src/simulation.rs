//! Running whole episodes with a fixed bidder: the loop behind `simulate` and `evaluate`.

use crate::agents::Bidder;
use crate::env::{IovEnv, MultiAgentEnv};
use crate::error::Result;
use crate::metrics::{EpisodeMetrics, SlotMetrics};

/// Plays one episode of `env` from `seed` with `bidder`, calling `on_slot` after every slot, and
/// returns the episode's totals (tagged with `episode`).
///
/// # Errors
/// Env errors (mobility input).
pub fn run_episode(
    env: &mut IovEnv,
    bidder: &mut dyn Bidder,
    episode: usize,
    seed: u64,
    mut on_slot: impl FnMut(&IovEnv, &SlotMetrics),
) -> Result<EpisodeMetrics> {
    env.reset(seed)?;
    let mut actions = vec![0.0; env.num_agents()];
    let mut total = EpisodeMetrics {
        episode,
        ..Default::default()
    };
    loop {
        let mut out = env.step_with(bidder, &mut actions)?;
        out.metrics.episode = episode;
        total.add(&out.metrics);
        on_slot(env, &out.metrics);
        if out.truncated {
            return Ok(total);
        }
    }
}

/// Seed of episode `e` of a simulation or evaluation run with seed `seed` (`seed + e`):
/// consecutive episodes get distinct streams, and episode e of two runs from the same seed meet
/// the same world. Training rollouts use `iovmarket_learn::rollout::rollout_seed` instead.
pub fn episode_seed(seed: u64, e: usize) -> u64 {
    seed.wrapping_add(e as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::TruthfulBidder;
    use crate::config::Scenario;

    #[test]
    fn episode_totals_are_the_sum_of_slots() {
        let mut env = IovEnv::new(Scenario::paper()).unwrap();
        let mut reward = 0.0;
        let mut slots = 0;
        let total = run_episode(&mut env, &mut TruthfulBidder, 0, 9, |_, m| {
            reward += m.reward;
            slots += 1;
        })
        .unwrap();
        assert_eq!(total.slots, 100);
        assert_eq!(slots, 100);
        assert_eq!(total.reward, reward);
    }
}
