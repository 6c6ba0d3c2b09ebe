//! Bidders: how vehicles choose their bids when they are not learning (and the trait a learned
//! policy implements), with the `[agents]` configuration.
//!
//! A bidder writes one action a per vehicle; [`BidMapping`] turns actions into bids, in this one
//! place, for every bidder and for the env's markets. A bid of 0 sits the slot out; vehicles
//! without a pending request are ignored by the market whatever their action. A bidder sees the
//! env only through a [`BidderView`] (valuations, pending flags, link rates, observations and the
//! bid mapping), so this module does not depend on the env.

mod random;
mod shaded;
mod truthful;

pub use random::RandomBidder;
pub use shaded::ShadedBidder;
pub use truthful::TruthfulBidder;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::ChaCha8Rng;

/// Observation variant (5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObservationKind {
    /// The paper's: market shares, last clearing price, log-rate.
    Paper,
    /// The paper's plus own valuation, request flag, slots waited and RSU one-hot.
    Extended,
}

/// The configurable bidders (`agents.bidder`), written `truthful`, `random`, `shaded:F` (F ≥ 0)
/// or `learned` in TOML and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum BidderKind {
    /// Bid the valuation.
    #[default]
    Truthful,
    /// Bid uniformly at random in [0, bid_max].
    Random,
    /// Bid a fixed fraction of the valuation.
    Shaded(f64),
    /// A trained policy (built by `iovmarket-learn` from a checkpoint).
    Learned,
}

impl std::str::FromStr for BidderKind {
    type Err = Error;

    /// Parses `truthful`, `random`, `shaded:F` (F a finite number ≥ 0) or `learned`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "truthful" => Ok(Self::Truthful),
            "random" => Ok(Self::Random),
            "learned" => Ok(Self::Learned),
            _ => s
                .strip_prefix("shaded:")
                .and_then(|f| f.parse::<f64>().ok())
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(Self::Shaded)
                .ok_or_else(|| {
                    Error::config(
                        "agents.bidder",
                        format!(
                            "`{s}` is not a bidder; expected truthful, random, shaded:F \
                             (F a number >= 0) or learned"
                        ),
                    )
                }),
        }
    }
}

impl TryFrom<String> for BidderKind {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl std::fmt::Display for BidderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truthful => f.write_str("truthful"),
            Self::Random => f.write_str("random"),
            Self::Shaded(x) => write!(f, "shaded:{x}"),
            Self::Learned => f.write_str("learned"),
        }
    }
}

impl From<BidderKind> for String {
    fn from(b: BidderKind) -> Self {
        b.to_string()
    }
}

impl BidderKind {
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

/// `[agents]`: observations and the bidder used when not learning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentsConfig {
    /// `paper` or `extended`. By default, `extended`.
    pub observation: ObservationKind,
    /// `truthful`, `random`, `shaded:F` or `learned`. By default, `truthful`.
    pub bidder: BidderKind,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self {
            observation: ObservationKind::Extended,
            bidder: BidderKind::Truthful,
        }
    }
}

/// The one map between actions and bids (DESIGN.md §1.8): bid = a · `bid_max`, a ∈ [0, 1].
///
/// Actions outside [0, 1] are clamped into it, here and nowhere else; the env counts them in
/// the slot's `clamped_actions`. Non-finite actions are rejected by the env before this.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BidMapping {
    /// Largest bid (`market.bid_max`).
    pub bid_max: f64,
}

impl BidMapping {
    /// The mapping with largest bid `bid_max`.
    pub fn new(bid_max: f64) -> Self {
        Self { bid_max }
    }

    /// The action clamped into [0, 1], and whether it had to be.
    #[inline]
    pub fn clamp(action: f32) -> (f32, bool) {
        let a = action.clamp(0.0, 1.0);
        (a, a != action)
    }

    /// The bid of an action already in [0, 1] (see [`BidMapping::clamp`]).
    #[inline]
    pub fn bid(&self, action: f32) -> f64 {
        action as f64 * self.bid_max
    }

    /// The action that bids `bid` (clamped into [0, 1], so bids above `bid_max` bid `bid_max`).
    #[inline]
    pub fn action(&self, bid: f64) -> f32 {
        (bid / self.bid_max).clamp(0.0, 1.0) as f32
    }
}

/// What a bidder may compute lazily from the env: observations and link rates (implemented by
/// the env, so that fixed bidders never pay for them).
pub trait ObservationSource: Sync {
    /// Length of one agent's observation.
    fn obs_dim(&self) -> usize;
    /// Writes all observations, agent-major (`agents × obs_dim`).
    ///
    /// # Errors
    /// [`Error::Shape`] for a buffer of the wrong length.
    fn observe(&self, out: &mut [f32]) -> Result<()>;
    /// Mean rate (bit/s) from vehicle `v`'s RSU's VMs to `v`, 0 if unserved.
    fn mean_rate_bps(&self, v: usize) -> f64;
}

/// A bidder's view of the env in one slot.
#[derive(Clone, Copy)]
pub struct BidderView<'a> {
    /// Valuation u_v of each vehicle's pending request (0 if none).
    pub valuations: &'a [f64],
    /// Whether each vehicle has a pending request.
    pub pending: &'a [bool],
    /// The action → bid mapping.
    pub bids: BidMapping,
    /// Observations and rates, computed on demand.
    pub source: &'a dyn ObservationSource,
}

impl std::fmt::Debug for BidderView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BidderView")
            .field("agents", &self.valuations.len())
            .field("bids", &self.bids)
            .finish_non_exhaustive()
    }
}

impl BidderView<'_> {
    /// Number of agents.
    pub fn num_agents(&self) -> usize {
        self.valuations.len()
    }

    /// Length of one agent's observation.
    pub fn obs_dim(&self) -> usize {
        self.source.obs_dim()
    }

    /// Writes all observations, agent-major.
    ///
    /// # Errors
    /// [`Error::Shape`] for a buffer of the wrong length.
    pub fn observe(&self, out: &mut [f32]) -> Result<()> {
        self.source.observe(out)
    }

    /// Mean rate (bit/s) from vehicle `v`'s RSU's VMs to `v`, 0 if unserved.
    pub fn mean_rate_bps(&self, v: usize) -> f64 {
        self.source.mean_rate_bps(v)
    }
}

/// A bidding strategy for all vehicles of one env.
pub trait Bidder: Send {
    /// A short name for tables (`truthful`, `shaded:0.8`, …).
    fn name(&self) -> String;
    /// Writes one action per vehicle into `actions` (length = vehicles).
    ///
    /// # Errors
    /// Errors of the view (an observation buffer of the wrong length).
    fn act(
        &mut self,
        view: &BidderView<'_>,
        rng: &mut ChaCha8Rng,
        actions: &mut [f32],
    ) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_and_rejects_garbage() {
        for (text, kind) in [
            ("truthful", BidderKind::Truthful),
            ("random", BidderKind::Random),
            ("shaded:0.8", BidderKind::Shaded(0.8)),
            ("learned", BidderKind::Learned),
        ] {
            assert_eq!(text.parse::<BidderKind>().unwrap(), kind);
            assert_eq!(kind.to_string(), text);
        }
        for bad in ["shaded:-1", "shaded:", "greedy", "shaded:inf"] {
            let e = bad.parse::<BidderKind>().unwrap_err().to_string();
            assert!(e.contains("agents.bidder") && e.contains(bad), "{e}");
        }
    }

    #[test]
    fn agents_config_keeps_the_string_forms() {
        let a: AgentsConfig = toml::from_str("bidder = \"shaded:0.75\"\n").unwrap();
        assert_eq!(a.bidder, BidderKind::Shaded(0.75));
        assert!(toml::to_string(&a)
            .unwrap()
            .contains("bidder = \"shaded:0.75\""));
    }

    #[test]
    fn bid_mapping_clamps_in_one_place() {
        let m = BidMapping::new(1.2);
        assert_eq!(BidMapping::clamp(1.5), (1.0, true));
        assert_eq!(BidMapping::clamp(-0.1), (0.0, true));
        assert_eq!(BidMapping::clamp(0.25), (0.25, false));
        assert_eq!(m.bid(0.5), 0.5f32 as f64 * 1.2);
        assert_eq!(m.action(2.4), 1.0);
        assert!((m.action(0.6) - 0.5).abs() < 1e-6);
    }
}
