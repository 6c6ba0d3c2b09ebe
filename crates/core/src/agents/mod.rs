//! Bidders: how vehicles choose their bids when they are not learning (and the trait a learned
//! policy implements).
//!
//! A bidder writes one action a ∈ [0, 1] per vehicle; the bid is a · `bid_max` and a bid of 0
//! sits the slot out. Vehicles without a pending request are ignored by the market whatever
//! their action.

mod random;
mod shaded;
mod truthful;

pub use random::RandomBidder;
pub use shaded::ShadedBidder;
pub use truthful::TruthfulBidder;

use crate::env::IovEnv;
use crate::rng::ChaCha8Rng;

/// A bidding strategy for all vehicles of one env.
pub trait Bidder: Send {
    /// A short name for tables (`truthful`, `shaded:0.8`, …).
    fn name(&self) -> String;
    /// Writes one action in [0, 1] per vehicle into `actions` (length = vehicles).
    fn act(&mut self, env: &IovEnv, rng: &mut ChaCha8Rng, actions: &mut [f32]);
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
    /// A trained policy (built by `iovmarket-learn` from a checkpoint).
    Learned,
}

impl BidderKind {
    /// Parses `truthful`, `random`, `shaded:F` (F ≥ 0) or `learned`.
    ///
    /// # Errors
    /// A message saying what was expected.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "truthful" => Ok(Self::Truthful),
            "random" => Ok(Self::Random),
            "learned" => Ok(Self::Learned),
            _ => {
                let f = s
                    .strip_prefix("shaded:")
                    .and_then(|f| f.parse::<f64>().ok())
                    .filter(|f| f.is_finite() && *f >= 0.0);
                f.map(Self::Shaded).ok_or_else(|| {
                    format!("`{s}` is not a bidder; expected truthful, random, shaded:F (F a number >= 0) or learned")
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
            Self::Learned => None,
        }
    }
}

/// Action that bids `fraction · value` (clamped into [0, 1]).
#[inline]
pub(crate) fn action_for_bid(bid: f64, bid_max: f64) -> f32 {
    (bid / bid_max).clamp(0.0, 1.0) as f32
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
    }
}
