//! The plan of `reproduce`: the methods compared, and the (method, IoV count, seed) jobs to run
//! with their seeds.

use iovmarket::agents::BidderKind;
use iovmarket::config::{CriticKind, ObservationKind};
use serde::Serialize;

use crate::report::claims::method;

/// How a method's vehicles bid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Bidding {
    Fixed(BidderKind),
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
pub(super) const METHODS: [Method; 7] = [
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
    /// The jobs as (index into [`METHODS`], IoV count, seed index), in plan order.
    pub(super) fn jobs(&self) -> Vec<Job> {
        let mut jobs = Vec::new();
        for (mi, _) in METHODS.iter().enumerate() {
            for &v in &self.vehicles {
                for s in 0..self.seeds {
                    jobs.push((mi, v, s));
                }
            }
        }
        jobs
    }

    /// Relative cost of a job, to run the heaviest first.
    pub(super) fn cost(&self, &(mi, v, _): &Job) -> usize {
        match METHODS[mi].bidding {
            Bidding::Learned { .. } => v * self.epochs * 10,
            Bidding::Fixed(_) => v,
        }
    }

    /// The largest IoV count.
    pub(super) fn vmax(&self) -> usize {
        *self.vehicles.last().expect("vehicle counts")
    }
}

/// One job: (index into [`METHODS`], IoV count, seed index).
pub(super) type Job = (usize, usize, usize);

/// Training seed of seed index `s`, and the first of its held-out evaluation seeds (far away
/// from any seed training derives, so evaluation never replays a training episode).
pub(super) fn seeds(base: u64, s: usize) -> (u64, u64) {
    (
        base.wrapping_add(s as u64),
        base.wrapping_add(1_000_000_007)
            .wrapping_add(1000 * s as u64),
    )
}
