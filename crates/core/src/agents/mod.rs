//! Bidders: how vehicles choose their bids when they are not learning (and the trait a learned
//! policy implements).
//!
//! A bidder writes one action a ∈ [0, 1] per vehicle, and [`BidMap::bid`] (the one action → bid
//! mapping of DESIGN.md §1.8) turns it into the bid: a · `bid_scale` · u_v for
//! [`ActionKind::Relative`] actions, a · `bid_max` for [`ActionKind::Absolute`] ones. A bid of 0
//! sits the slot out. Vehicles without a pending request are ignored by the market whatever
//! their action.
//!
//! Fixed bidders say which kind their actions are ([`Bidder::action_kind`]): the valuation-based
//! ones (`truthful`, `shaded:F`, `latency_aware`) act relatively, so `truthful` bids exactly u_v
//! (a = 1 / `bid_scale`, exact in binary) whatever `agents.action` says; `random` acts
//! absolutely. A learned policy acts in the configured `agents.action`.

mod latency_aware;
mod random;
mod shaded;
mod truthful;

pub use latency_aware::LatencyAwareBidder;
pub use random::RandomBidder;
pub use shaded::ShadedBidder;
pub use truthful::TruthfulBidder;

use serde::{Deserialize, Serialize};

use crate::env::IovEnv;
use crate::rng::ChaCha8Rng;

/// A bidding strategy for all vehicles of one env.
pub trait Bidder: Send {
    /// A short name for tables (`truthful`, `shaded:0.8`, …).
    fn name(&self) -> String;
    /// Writes one action in [0, 1] per vehicle into `actions` (length = vehicles).
    fn act(&mut self, env: &IovEnv, rng: &mut ChaCha8Rng, actions: &mut [f32]);
    /// The kind of the actions [`Bidder::act`] writes, given the configured `agents.action`. By
    /// default, the configured one (a learned policy acts as it was trained).
    fn action_kind(&self, configured: ActionKind) -> ActionKind {
        configured
    }
}

/// How an action a ∈ [0, 1] becomes a bid (`agents.action`, DESIGN.md §1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// bid = a · `bid_scale` · u_v: a = 1 / `bid_scale` is the truthful bid, so a freshly
    /// initialised policy (mean action 0.5) starts near truthful bidding.
    Relative,
    /// bid = a · `bid_max` (the paper's literal action).
    Absolute,
}

/// The parameters of the action → bid mapping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BidMap {
    /// `agents.bid_scale`.
    pub bid_scale: f64,
    /// `market.bid_max`: no bid exceeds it.
    pub bid_max: f64,
}

impl BidMap {
    /// The bid of action `a` by a vehicle of valuation `value` (§1.8), in [0, `bid_max`]. Every
    /// bidder's bids go through this one function.
    #[inline]
    pub fn bid(&self, kind: ActionKind, a: f32, value: f64) -> f64 {
        let a = f64::from(a);
        let bid = match kind {
            // (a · s) · u: for a = 1/s (a power of two by default) the product is exactly u.
            ActionKind::Relative => a * self.bid_scale * value,
            ActionKind::Absolute => a * self.bid_max,
        };
        bid.min(self.bid_max)
    }

    /// The action of `kind` whose bid is `bid` for valuation `value` (clamped into [0, 1]; 0 when
    /// a relative action cannot express the bid because the valuation is 0).
    #[inline]
    pub fn action(&self, kind: ActionKind, bid: f64, value: f64) -> f32 {
        let a = match kind {
            ActionKind::Relative if value > 0.0 => bid / (self.bid_scale * value),
            ActionKind::Relative => 0.0,
            ActionKind::Absolute => bid / self.bid_max,
        };
        a.clamp(0.0, 1.0) as f32
    }
}

/// The configurable bidders (`agents.bidder`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BidderKind {
    /// Bid the valuation.
    Truthful,
    /// Bid uniformly at random in [0, bid_max].
    Random,
    /// Bid a fixed fraction of the valuation.
    Shaded(f64),
    /// Bid the valuation minus the latency cost the own trade adds to the shared reward.
    LatencyAware,
    /// A trained policy (built by `iovmarket-learn` from a checkpoint).
    Learned,
}

impl BidderKind {
    /// Parses `truthful`, `random`, `shaded:F` (F ≥ 0), `latency_aware` or `learned`.
    ///
    /// # Errors
    /// A message saying what was expected.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "truthful" => Ok(Self::Truthful),
            "random" => Ok(Self::Random),
            "learned" => Ok(Self::Learned),
            "latency_aware" => Ok(Self::LatencyAware),
            _ => {
                let f = s
                    .strip_prefix("shaded:")
                    .and_then(|f| f.parse::<f64>().ok())
                    .filter(|f| f.is_finite() && *f >= 0.0);
                f.map(Self::Shaded).ok_or_else(|| {
                    format!("`{s}` is not a bidder; expected truthful, random, shaded:F (F a number >= 0), latency_aware or learned")
                })
            }
        }
    }

    /// The bidder, for the non-learned kinds (`None` for [`BidderKind::Learned`]).
    pub fn build(self) -> Option<Box<dyn Bidder>> {
        match self {
            Self::Truthful => Some(Box::new(TruthfulBidder)),
            Self::Random => Some(Box::new(RandomBidder)),
            Self::Shaded(f) => Some(Box::new(ShadedBidder(f))),
            Self::LatencyAware => Some(Box::new(LatencyAwareBidder)),
            Self::Learned => None,
        }
    }
}

/// The relative actions that bid `bid(v, u_v)` for every vehicle of `env` with a valuation.
pub(crate) fn relative_actions(
    env: &IovEnv,
    actions: &mut [f32],
    mut bid: impl FnMut(usize, f64) -> f64,
) {
    let map = env.bid_map();
    for (v, (a, &value)) in actions.iter_mut().zip(&env.requests().value).enumerate() {
        *a = map.action(ActionKind::Relative, bid(v, value), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_and_rejects_garbage() {
        assert_eq!(BidderKind::parse("truthful"), Ok(BidderKind::Truthful));
        assert_eq!(BidderKind::parse("shaded:0.8"), Ok(BidderKind::Shaded(0.8)));
        assert!(BidderKind::parse("shaded:-1").is_err());
        assert!(BidderKind::parse("shaded:").is_err());
        assert!(BidderKind::parse("greedy").is_err());
        assert_eq!(
            BidderKind::parse("latency_aware"),
            Ok(BidderKind::LatencyAware)
        );
    }

    #[test]
    fn truthful_relative_action_bids_exactly_the_valuation() {
        let map = BidMap {
            bid_scale: 2.0,
            bid_max: 1.2,
        };
        for i in 1..2000u32 {
            let u = (1.0 + f64::from(i) / 1000.0).ln();
            let a = map.action(ActionKind::Relative, u, u);
            assert_eq!(a, 0.5);
            assert_eq!(map.bid(ActionKind::Relative, a, u), u);
        }
        assert_eq!(map.bid(ActionKind::Absolute, 0.5, 0.3), 0.6);
        assert_eq!(map.bid(ActionKind::Relative, 1.0, 1.0), 1.2, "capped at bid_max");
    }
}
