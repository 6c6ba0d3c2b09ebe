//! The plan of `reproduce`: the two readings of the latency unit, the methods compared, and the
//! (reading, method, IoV count, seed) jobs to run with their seeds.

use anyhow::{Context, Result};
use iovmarket::agents::BidderKind;
use iovmarket::config::ObservationKind;
use iovmarket::market::MechanismKind;
use iovmarket::Scenario;
use iovmarket_learn::{CriticKind, TrainConfig};
use serde::Serialize;

use crate::report::claims::method;

/// One reading of the unit of L in the reward (6), which the paper never states.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Reading {
    /// `ms` or `s`: the suffix of its figures and the `reading` column of the CSVs.
    pub(super) id: &'static str,
    /// λ per ms (`reward.latency_weight`).
    pub(super) latency_weight: f64,
    /// For headings.
    pub(super) title: &'static str,
    /// Learned methods beyond Ours run under this reading too (the second reading drops them to
    /// stay within the time budget; seeds are never cut first).
    pub(super) all_learned: bool,
}

/// "L in ms" (λ = 1 per ms, DESIGN.md's default) and "L in s" (λ = 0.001 per ms).
pub(super) const READINGS: [Reading; 2] = [
    Reading {
        id: "ms",
        latency_weight: 1.0,
        title: "L in ms (λ = 1 per ms)",
        all_learned: true,
    },
    Reading {
        id: "s",
        latency_weight: 0.001,
        title: "L in s (λ = 0.001 per ms)",
        all_learned: false,
    },
];

/// The uniform shadings `best_shading` chooses from: F ∈ {0, 0.05, …, 1.5}.
pub(super) fn shading_grid() -> impl Iterator<Item = f64> {
    (0..=30).map(|i| f64::from(i) * 0.05)
}

/// How a method's vehicles bid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Bidding {
    Fixed(BidderKind),
    /// The uniform shading best on the training seeds ([`shading_grid`]), evaluated on the
    /// held-out seeds.
    BestShading,
    Learned {
        critic: CriticKind,
        observation: ObservationKind,
    },
}

/// One method of the experiment.
#[derive(Debug, Clone, Copy)]
pub(super) struct Method {
    pub(super) id: &'static str,
    pub(super) label: &'static str,
    pub(super) mechanism: &'static str,
    pub(super) bidding: Bidding,
    /// One of the paper's four methods (solid lines in the figures).
    pub(super) paper: bool,
}

/// IPPO with the paper's observation is left out of the default plan to keep `reproduce` within
/// its time budget; `iovmarket train --set train.critic=local --set agents.observation=paper` runs it.
pub(super) const METHODS: [Method; 9] = [
    Method {
        id: method::OURS,
        label: "Ours (MAPPO, McAfee)",
        mechanism: "mcafee",
        bidding: Bidding::Learned {
            critic: CriticKind::Centralised,
            observation: ObservationKind::Extended,
        },
        paper: true,
    },
    Method {
        id: method::DOUBLE_AUCTION,
        label: "Double auction (k = 0.5)",
        mechanism: "kda",
        bidding: Bidding::Fixed(BidderKind::Truthful),
        paper: true,
    },
    Method {
        id: method::SECOND_PRICE,
        label: "Second-price auction",
        mechanism: "second_price",
        bidding: Bidding::Fixed(BidderKind::Truthful),
        paper: true,
    },
    Method {
        id: method::RANDOM,
        label: "Random bids (McAfee)",
        mechanism: "mcafee",
        bidding: Bidding::Fixed(BidderKind::Random),
        paper: true,
    },
    Method {
        id: method::MCAFEE_TRUTHFUL,
        label: "McAfee, truthful",
        mechanism: "mcafee",
        bidding: Bidding::Fixed(BidderKind::Truthful),
        paper: false,
    },
    Method {
        id: method::LATENCY_AWARE,
        label: "Latency-aware (reference)",
        mechanism: "mcafee",
        bidding: Bidding::Fixed(BidderKind::LatencyAware),
        paper: false,
    },
    Method {
        id: method::BEST_SHADING,
        label: "Best shading (reference)",
        mechanism: "mcafee",
        bidding: Bidding::BestShading,
        paper: false,
    },
    Method {
        id: method::OURS_PAPER_OBS,
        label: "MAPPO, paper obs.",
        mechanism: "mcafee",
        bidding: Bidding::Learned {
            critic: CriticKind::Centralised,
            observation: ObservationKind::Paper,
        },
        paper: false,
    },
    Method {
        id: method::IPPO,
        label: "IPPO",
        mechanism: "mcafee",
        bidding: Bidding::Learned {
            critic: CriticKind::Local,
            observation: ObservationKind::Extended,
        },
        paper: false,
    },
];

/// The plan: what to run.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Plan {
    pub(super) vehicles: Vec<usize>,
    pub(super) seeds: usize,
    pub(super) epochs: usize,
    pub(super) eval_episodes: usize,
    pub(super) quick: bool,
}

impl Plan {
    /// The methods run under `reading`: every method under the first, all but the extra learned
    /// ones under the second.
    pub(super) fn methods(reading: &Reading) -> impl Iterator<Item = (usize, &'static Method)> {
        let all = reading.all_learned;
        METHODS.iter().enumerate().filter(move |(_, m)| {
            all || m.id == method::OURS || !matches!(m.bidding, Bidding::Learned { .. })
        })
    }

    /// The jobs as (index into [`READINGS`], index into [`METHODS`], IoV count, seed index), in
    /// plan order.
    pub(super) fn jobs(&self) -> Vec<Job> {
        let mut jobs = Vec::new();
        for (ri, reading) in READINGS.iter().enumerate() {
            for (mi, _) in Self::methods(reading) {
                for &v in &self.vehicles {
                    for s in 0..self.seeds {
                        jobs.push((ri, mi, v, s));
                    }
                }
            }
        }
        jobs
    }

    /// Relative cost of a job, to run the heaviest first. Best shading's search serves both
    /// readings (`jobs::Searches`), so the second reading's job costs what a fixed bidder's does,
    /// and running it after every first-reading search lets it find its search done.
    pub(super) fn cost(&self, &(ri, mi, v, _): &Job) -> usize {
        match METHODS[mi].bidding {
            Bidding::Learned { .. } => v * self.epochs * 10,
            Bidding::BestShading if ri == 0 => v * 10,
            Bidding::BestShading | Bidding::Fixed(_) => v,
        }
    }

    /// The largest IoV count.
    pub(super) fn vmax(&self) -> usize {
        *self.vehicles.last().expect("vehicle counts")
    }
}

/// One job: (index into [`READINGS`], index into [`METHODS`], IoV count, seed index).
pub(super) type Job = (usize, usize, usize, usize);

/// The stable id of a method job, its key in the journal ([`super::journal`]):
/// `method.<reading>.<method>.v<IoVs>.s<seed index>`.
pub(super) fn job_id(&(ri, mi, v, s): &Job) -> String {
    format!("method.{}.{}.v{v}.s{s}", READINGS[ri].id, METHODS[mi].id)
}

/// Training seed of seed index `s`, and the first of its held-out evaluation seeds (far away
/// from any seed training derives, so evaluation never replays a training episode).
pub(super) fn seeds(base: u64, s: usize) -> (u64, u64) {
    (
        base.wrapping_add(s as u64),
        base.wrapping_add(1_000_000_007)
            .wrapping_add(1000 * s as u64),
    )
}

/// The scenario of one job.
pub(super) fn job_scenario(
    base: &Scenario,
    reading: &Reading,
    m: &Method,
    vehicles: usize,
    seed: u64,
    plan: &Plan,
) -> Result<Scenario> {
    let mut s = base.clone();
    let mut train = TrainConfig::from_scenario(base)?;
    s.scenario.vehicles = vehicles;
    s.scenario.seed = seed;
    s.reward.latency_weight = reading.latency_weight;
    s.market.mechanism = MechanismKind::new(m.mechanism, base.market.mechanism.kda_k())
        .with_context(|| format!("scenario of {} at {vehicles} IoVs", m.id))?;
    train.epochs = plan.epochs;
    match m.bidding {
        Bidding::Learned {
            critic,
            observation,
        } => {
            train.critic = critic;
            s.agents.observation = observation;
            s.agents.bidder = BidderKind::Learned;
        }
        Bidding::Fixed(kind) => s.agents.bidder = kind,
        Bidding::BestShading => {}
    }
    s.train = train.to_table();
    Ok(s)
}
