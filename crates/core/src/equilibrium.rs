//! How far a bidding profile is from an equilibrium (DESIGN.md §2.2): the best-response search
//! behind `iovmarket exploit`.
//!
//! For each sampled agent, everyone else keeps the profile while the agent tries every
//! [`Deviation`]: the profile itself, sitting out, and bidding F · u_v (capped at `bid_max`)
//! for F ∈ {0, 0.02, …, 2}. Its payoff is its expected individual utility per episode
//! ([`crate::metrics::individual_utility`], summed over its trades, averaged over the episodes).
//! The report gives, per agent and in aggregate, ε (the largest gain over the profile) and
//! bnelearn's utility loss ℓ = 1 − u(σ) / u(BR).
//!
//! ## Invariants
//! - Common random numbers: the profile and every deviation play the same episodes (seeds
//!   `seed + e`), and no random draw of the model depends on anyone's bid: arrivals and sizes
//!   are drawn for every vehicle whatever its state, from streams per (slot, vehicle chunk);
//!   block fading comes from streams per (slot, vehicle); order-book tie keys are hashed from
//!   the order id; bidders draw from a stream per slot. A deviation changes the market only
//!   through the bid itself.
//! - ε ≥ 0 (the profile is one of the candidates) and, since the deviations are a grid, ε is a
//!   lower bound on the true gain of a best response.
//! - Results are bit-identical for any thread count: each (agent, deviation) evaluation is
//!   computed by one thread, episode sums run in episode order.
//!
//! ## Performance
//! K agents × 102 deviations × E episodes, plus E episodes of the profile, each a full episode
//! of the env; the evaluations run in parallel (rayon).

use rand::seq::index::sample;
use rayon::prelude::*;
use serde::Serialize;

use crate::agents::{BidMapping, Bidder};
use crate::env::{IovEnv, MultiAgentEnv};
use crate::error::{Error, Result};
use crate::metrics::individual_utility;
use crate::rng::{stream, Stream};
use crate::simulation::episode_seed;
use crate::Scenario;

/// Grid steps of the uniform shading: F = k / [`SHADING_STEPS_PER_UNIT`] for k = 0..=2·steps,
/// so F ∈ [0, 2] in steps of 0.02 (and F = 1, truthful, is exact).
pub const SHADING_STEPS_PER_UNIT: u32 = 50;

/// A deviation tried by one agent while the others keep the profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "factor")]
pub enum Deviation {
    /// Play the profile (the baseline every gain is measured against).
    Profile,
    /// Never bid.
    SitOut,
    /// Bid F · u_v, capped at `market.bid_max`.
    Shade(f64),
}

impl Deviation {
    /// Every deviation of the search, the profile first.
    pub fn grid() -> Vec<Self> {
        let mut d = vec![Self::Profile, Self::SitOut];
        d.extend(
            (0..=2 * SHADING_STEPS_PER_UNIT)
                .map(|k| Self::Shade(f64::from(k) / f64::from(SHADING_STEPS_PER_UNIT))),
        );
        d
    }

    /// A short label (`profile`, `sit_out`, `shade:0.84`).
    pub fn label(&self) -> String {
        match self {
            Self::Profile => "profile".into(),
            Self::SitOut => "sit_out".into(),
            Self::Shade(f) => format!("shade:{f:.2}"),
        }
    }
}

/// What the search covers beyond the scenario and the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExploitOptions {
    /// Agents to test (sampled without replacement); `None` or ≥ vehicles: every agent.
    pub agents: Option<usize>,
    /// Episodes per evaluation (≥ 1).
    pub episodes: usize,
    /// Seed of the agent sample and of the episodes (episode e uses `seed + e`).
    pub seed: u64,
}

/// The search's result for one agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentGap {
    /// Vehicle index.
    pub agent: usize,
    /// u(σ): expected individual utility per episode under the profile.
    pub profile_utility: f64,
    /// u(BR): the best expected utility over the deviations.
    pub best_utility: f64,
    /// The best deviation (the first best in [`Deviation::grid`] order, so `profile` on ties).
    pub best_deviation: String,
    /// ε = u(BR) − u(σ) ≥ 0.
    pub epsilon: f64,
    /// ℓ = 1 − u(σ) / u(BR); 0 when nothing is gained; `None` when u(BR) = 0 < ε, where the
    /// ratio is undefined.
    pub utility_loss: Option<f64>,
}

/// The search's result for the profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExploitReport {
    /// Mean ε over the tested agents.
    pub epsilon: f64,
    /// Largest ε over the tested agents.
    pub epsilon_max: f64,
    /// Mean ℓ over the tested agents where it is defined (0 if none).
    pub utility_loss: f64,
    /// Largest ℓ over the tested agents where it is defined (0 if none).
    pub utility_loss_max: f64,
    /// Mean u(σ) over the tested agents.
    pub profile_utility: f64,
    /// Mean bid / valuation over every trade of the profile's episodes (1 = truthful; how far
    /// the buyers that trade shade); `None` if nobody traded.
    pub bid_ratio: Option<f64>,
    /// Episodes per evaluation.
    pub episodes: usize,
    /// Deviations tried per agent (the profile included).
    pub deviations: usize,
    /// One entry per tested agent, in vehicle order.
    pub agents: Vec<AgentGap>,
}

/// The agents to test: `k` of `vehicles` drawn without replacement from a stream of `seed`,
/// in increasing order; every agent when `k` is `None` or ≥ `vehicles`.
pub fn sample_agents(vehicles: usize, k: Option<usize>, seed: u64) -> Vec<usize> {
    match k {
        Some(k) if k < vehicles => {
            let mut rng = stream(seed, Stream::User, u64::MAX, 0);
            let mut picked = sample(&mut rng, vehicles, k).into_vec();
            picked.sort_unstable();
            picked
        }
        _ => (0..vehicles).collect(),
    }
}

/// Measures ε and ℓ of the profile that `make_bidder` builds (called once per worker; the
/// bidder must be a pure function of the env's state and the stream it is given, as every
/// bidder of the project is) in `scenario`.
///
/// # Errors
/// [`Error::Config`] for `episodes = 0` or `agents = 0`; env and bidder construction errors.
pub fn exploit(
    scenario: &Scenario,
    make_bidder: &(dyn Fn(&IovEnv) -> Result<Box<dyn Bidder>> + Sync),
    options: &ExploitOptions,
) -> Result<ExploitReport> {
    exploit_with_progress(scenario, make_bidder, options, &|_| {})
}

/// Evaluations [`exploit`] runs: one per profile episode, one per (agent, deviation) pair.
pub fn evaluations(vehicles: usize, options: &ExploitOptions) -> usize {
    let k = sample_agents(vehicles, options.agents, options.seed).len();
    options.episodes + k * (Deviation::grid().len() - 1)
}

/// As [`exploit`], calling `progress(n)` after every `n` finished evaluations (see
/// [`evaluations`]), from any worker thread.
///
/// # Errors
/// As [`exploit`].
pub fn exploit_with_progress(
    scenario: &Scenario,
    make_bidder: &(dyn Fn(&IovEnv) -> Result<Box<dyn Bidder>> + Sync),
    options: &ExploitOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ExploitReport> {
    if options.episodes == 0 {
        return Err(Error::config(
            "episodes",
            "0 is out of range; expected an integer >= 1",
        ));
    }
    if options.agents == Some(0) {
        return Err(Error::config(
            "agents",
            "0 is out of range; expected an integer >= 1",
        ));
    }
    let vehicles = scenario.scenario.vehicles;
    let agents = sample_agents(vehicles, options.agents, options.seed);
    let grid = Deviation::grid();
    // Every agent's profile utility comes from one set of profile episodes.
    let profile: Vec<(Vec<f64>, (f64, usize))> = (0..options.episodes)
        .into_par_iter()
        .map_init(
            || None,
            |player, e| {
                let p = Player::ensure(player, scenario, make_bidder)?;
                let u = p.play(episode_seed(options.seed, e), None)?;
                progress(1);
                Ok((u, p.ratios))
            },
        )
        .collect::<Result<_>>()?;
    let (ratio_sum, trades) = profile
        .iter()
        .fold((0.0, 0), |(s, n), (_, (rs, rn))| (s + rs, n + rn));
    let bid_ratio = (trades > 0).then(|| ratio_sum / trades as f64);
    let profile: Vec<Vec<f64>> = profile.into_iter().map(|(u, _)| u).collect();
    let profile_mean =
        |v: usize| profile.iter().map(|u| u[v]).sum::<f64>() / options.episodes as f64;
    let jobs: Vec<(usize, Deviation)> = agents
        .iter()
        .flat_map(|&v| grid[1..].iter().map(move |&d| (v, d)))
        .collect();
    let utilities: Vec<f64> = jobs
        .par_iter()
        .map_init(
            || None,
            |player, &(v, d)| {
                let p = Player::ensure(player, scenario, make_bidder)?;
                let mut sum = 0.0;
                for e in 0..options.episodes {
                    sum += p.play(episode_seed(options.seed, e), Some((v, d)))?[v];
                }
                progress(1);
                Ok(sum / options.episodes as f64)
            },
        )
        .collect::<Result<_>>()?;
    let per_agent = grid.len() - 1;
    let gaps: Vec<AgentGap> = agents
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let base = profile_mean(v);
            let (mut best, mut best_d) = (base, Deviation::Profile);
            for (&(_, d), &u) in jobs[i * per_agent..(i + 1) * per_agent]
                .iter()
                .zip(&utilities[i * per_agent..(i + 1) * per_agent])
            {
                if u > best {
                    (best, best_d) = (u, d);
                }
            }
            gap(v, base, best, best_d)
        })
        .collect();
    let mut report = summarise(gaps, options.episodes, grid.len());
    report.bid_ratio = bid_ratio;
    Ok(report)
}

/// One agent's gap from its profile and best utilities.
fn gap(agent: usize, profile_utility: f64, best_utility: f64, best: Deviation) -> AgentGap {
    let epsilon = best_utility - profile_utility;
    let utility_loss = if epsilon == 0.0 {
        Some(0.0)
    } else if best_utility > 0.0 {
        Some(1.0 - profile_utility / best_utility)
    } else {
        None
    };
    AgentGap {
        agent,
        profile_utility,
        best_utility,
        best_deviation: best.label(),
        epsilon,
        utility_loss,
    }
}

/// Aggregates (mean and max) over the agents.
fn summarise(agents: Vec<AgentGap>, episodes: usize, deviations: usize) -> ExploitReport {
    let k = agents.len().max(1) as f64;
    let losses: Vec<f64> = agents.iter().filter_map(|a| a.utility_loss).collect();
    ExploitReport {
        epsilon: agents.iter().map(|a| a.epsilon).sum::<f64>() / k,
        epsilon_max: agents.iter().map(|a| a.epsilon).fold(0.0, f64::max),
        utility_loss: losses.iter().sum::<f64>() / losses.len().max(1) as f64,
        utility_loss_max: losses.iter().copied().fold(0.0, f64::max),
        profile_utility: agents.iter().map(|a| a.profile_utility).sum::<f64>() / k,
        bid_ratio: None,
        episodes,
        deviations,
        agents,
    }
}

/// One worker's env and profile bidder, with scratch buffers.
struct Player {
    env: IovEnv,
    bidder: Box<dyn Bidder>,
    actions: Vec<f32>,
    bids: Vec<f64>,
    utility: Vec<f64>,
    /// Σ bid / valuation and the number of trades of the last episode.
    ratios: (f64, usize),
}

impl Player {
    /// The worker's player, built on first use.
    fn ensure<'a>(
        slot: &'a mut Option<Self>,
        scenario: &Scenario,
        make_bidder: &(dyn Fn(&IovEnv) -> Result<Box<dyn Bidder>> + Sync),
    ) -> Result<&'a mut Self> {
        if slot.is_none() {
            let env = IovEnv::new(scenario.clone())?;
            let bidder = make_bidder(&env)?;
            let v = env.num_agents();
            *slot = Some(Self {
                env,
                bidder,
                actions: vec![0.0; v],
                bids: vec![0.0; v],
                utility: vec![0.0; v],
                ratios: (0.0, 0),
            });
        }
        Ok(slot.as_mut().expect("built above"))
    }

    /// Plays one episode from `seed` with the profile, agent `v` playing deviation `d` if
    /// `deviation = Some((v, d))`; returns every vehicle's individual utility of the episode.
    fn play(&mut self, seed: u64, deviation: Option<(usize, Deviation)>) -> Result<Vec<f64>> {
        let env = &mut self.env;
        env.reset(seed)?;
        self.utility.fill(0.0);
        self.ratios = (0.0, 0);
        let reward = env.scenario().reward.clone();
        let bid_max = env.scenario().market.bid_max;
        loop {
            env.bidder_actions(self.bidder.as_mut(), &mut self.actions)?;
            let kind = self.bidder.action_kind(env.scenario().agents.action);
            let map = env.bid_mapping();
            let values = &env.requests().value;
            // The profile's bids exactly as `IovEnv::step` maps them.
            for (index, ((b, &a), &u)) in self
                .bids
                .iter_mut()
                .zip(&self.actions)
                .zip(values)
                .enumerate()
            {
                if !a.is_finite() {
                    return Err(Error::InvalidAction { index, value: a });
                }
                *b = map.bid(kind, BidMapping::clamp(a).0, u);
            }
            if let Some((v, d)) = deviation {
                match d {
                    Deviation::Profile => {}
                    Deviation::SitOut => self.bids[v] = 0.0,
                    Deviation::Shade(f) => self.bids[v] = (f * values[v]).min(bid_max),
                }
            }
            let out = env.step_bids(&self.bids)?;
            for t in env.last_trades() {
                self.utility[t.vehicle as usize] += individual_utility(t, &reward);
                self.ratios.0 += t.bid / t.value;
                self.ratios.1 += 1;
            }
            if out.truncated {
                return Ok(self.utility.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::{BidderKind, TruthfulBidder};

    #[test]
    fn the_grid_has_the_profile_sitting_out_and_101_shadings() {
        let g = Deviation::grid();
        assert_eq!(g.len(), 103);
        assert_eq!(g[0], Deviation::Profile);
        assert_eq!(g[1], Deviation::SitOut);
        assert_eq!(g[2], Deviation::Shade(0.0));
        assert_eq!(g[52], Deviation::Shade(1.0));
        assert_eq!(g[102], Deviation::Shade(2.0));
        assert_eq!(g[44].label(), "shade:0.84");
    }

    #[test]
    fn agent_samples_are_deterministic_sorted_and_distinct() {
        let a = sample_agents(80, Some(5), 3);
        assert_eq!(a, sample_agents(80, Some(5), 3));
        assert_eq!(a.len(), 5);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sample_agents(4, None, 0), vec![0, 1, 2, 3]);
        assert_eq!(sample_agents(4, Some(9), 0), vec![0, 1, 2, 3]);
    }

    #[test]
    fn utility_loss_is_bnelearns_and_zero_without_a_gain() {
        let g = gap(0, 0.3, 0.4, Deviation::Shade(0.5));
        assert!((g.epsilon - 0.1).abs() < 1e-12);
        assert!((g.utility_loss.unwrap() - 0.25).abs() < 1e-12);
        assert_eq!(gap(0, 0.0, 0.0, Deviation::Profile).utility_loss, Some(0.0));
        assert_eq!(gap(0, -0.2, 0.0, Deviation::SitOut).utility_loss, None);
    }

    #[test]
    fn bad_options_are_errors() {
        let s = Scenario::default();
        let make = |_: &IovEnv| -> Result<Box<dyn Bidder>> { Ok(Box::new(TruthfulBidder)) };
        for (agents, episodes) in [(None, 0), (Some(0), 1)] {
            let o = ExploitOptions {
                agents,
                episodes,
                seed: 0,
            };
            assert!(matches!(exploit(&s, &make, &o), Err(Error::Config { .. })));
        }
    }

    #[test]
    fn the_bid_ratio_shows_the_profiles_shading() {
        let mut s = Scenario::default();
        s.scenario.vehicles = 20;
        s.scenario.episode_slots = 20;
        let make = |_: &IovEnv| -> Result<Box<dyn Bidder>> {
            Ok(BidderKind::Shaded(0.8).build().expect("fixed"))
        };
        let o = ExploitOptions {
            agents: Some(1),
            episodes: 2,
            seed: 0,
        };
        let r = exploit(&s, &make, &o).unwrap();
        // Relative actions are f32: F = 0.8 is 0.4 · 2 up to f32 rounding.
        let ratio = r.bid_ratio.unwrap();
        assert!((ratio - 0.8).abs() < 1e-6, "{ratio}");
        assert_eq!(r.deviations, 103);
        assert!(r.epsilon >= 0.0);
    }
}
