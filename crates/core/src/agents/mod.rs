//! Bidders: how vehicles choose their bids when they are not learning (and the trait a learned
//! policy implements), with the `[agents]` configuration.
//!
//! A bidder writes one action a per vehicle; [`BidMapping`] turns actions into bids, in this one
//! place, for every bidder and for the env's markets: a · `bid_scale` · u_v for
//! [`ActionKind::Relative`] actions, a · `bid_max` for [`ActionKind::Absolute`] ones (§1.8).
//! Fixed bidders say which kind their actions are ([`Bidder::action_kind`]): the valuation-based
//! ones (`truthful`, `shaded:F`, `latency_aware`) act relatively, so `truthful` bids exactly u_v
//! (a = 1 / `bid_scale`, exact in binary for the default 2) whatever `agents.action` says;
//! `random` acts absolutely; a learned policy acts in the `agents.action` it was trained with. A bid of 0 sits the slot out; vehicles
//! without a pending request are ignored by the market whatever their action. A bidder sees the
//! env only through a [`BidderView`] (valuations, pending flags, link rates, observations and the
//! bid mapping), so this module does not depend on the env.

mod latency_aware;
mod random;
mod shaded;
mod truthful;

pub use latency_aware::{latency_aware_bid, LatencyAwareBidder};
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

/// The configurable bidders (`agents.bidder`), written `truthful`, `random`, `shaded:F` (F ≥ 0),
/// `latency_aware` or `learned` in TOML and on the command line.
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
    /// Bid the valuation minus the latency cost the own trade adds to the shared reward.
    LatencyAware,
    /// A trained policy (built by `iovmarket-learn` from a checkpoint).
    Learned,
}

impl std::str::FromStr for BidderKind {
    type Err = Error;

    /// Parses `truthful`, `random`, `shaded:F` (F a finite number ≥ 0), `latency_aware` or
    /// `learned`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "truthful" => Ok(Self::Truthful),
            "random" => Ok(Self::Random),
            "learned" => Ok(Self::Learned),
            "latency_aware" => Ok(Self::LatencyAware),
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
                             (F a number >= 0), latency_aware or learned"
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
            Self::LatencyAware => f.write_str("latency_aware"),
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
            Self::LatencyAware => Some(Box::new(LatencyAwareBidder)),
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
    /// `truthful`, `random`, `shaded:F`, `latency_aware` or `learned`. By default, `truthful`.
    pub bidder: BidderKind,
    /// How a policy's action a ∈ [0, 1] becomes a bid (§1.8): `relative` (a · `bid_scale` · u_v)
    /// or `absolute` (a · `market.bid_max`, the paper's literal action). By default, `relative`.
    pub action: ActionKind,
    /// Scale of relative bids: a = 1 / `bid_scale` is the truthful bid. By default, 2.
    pub bid_scale: f64,
}

impl AgentsConfig {
    /// Checks the ranges.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key.
    pub fn validate(&self) -> Result<()> {
        crate::check::positive("agents.bid_scale", self.bid_scale)
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

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Relative => "relative",
            Self::Absolute => "absolute",
        })
    }
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self {
            observation: ObservationKind::Extended,
            bidder: BidderKind::Truthful,
            action: ActionKind::Relative,
            bid_scale: 2.0,
        }
    }
}

/// The one map between actions and bids (DESIGN.md §1.8), a ∈ [0, 1]: bid = a · `bid_scale` ·
/// u_v (relative) or a · `bid_max` (absolute), never above `bid_max`.
///
/// Actions outside [0, 1] are clamped into it, here and nowhere else; the env counts them in
/// the slot's `clamped_actions`. Non-finite actions are rejected by the env before this.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BidMapping {
    /// Largest bid (`market.bid_max`).
    pub bid_max: f64,
    /// Scale of relative bids (`agents.bid_scale`).
    pub bid_scale: f64,
}

impl BidMapping {
    /// The mapping with largest bid `bid_max` and relative scale `bid_scale`.
    pub fn new(bid_max: f64, bid_scale: f64) -> Self {
        Self { bid_max, bid_scale }
    }

    /// The action clamped into [0, 1], and whether it had to be.
    #[inline]
    pub fn clamp(action: f32) -> (f32, bool) {
        let a = action.clamp(0.0, 1.0);
        (a, a != action)
    }

    /// The bid of an action of `kind` already in [0, 1] (see [`BidMapping::clamp`]) by a
    /// vehicle of valuation `value`. Every bidder's bids go through this one function.
    #[inline]
    pub fn bid(&self, kind: ActionKind, action: f32, value: f64) -> f64 {
        let a = f64::from(action);
        let bid = match kind {
            // (a · s) · u: for a = 1/s (a power of two by default) the product is exactly u.
            ActionKind::Relative => a * self.bid_scale * value,
            ActionKind::Absolute => a * self.bid_max,
        };
        bid.min(self.bid_max)
    }

    /// The action of `kind` that bids `bid` for valuation `value` (clamped into [0, 1]; 0 when a
    /// relative action cannot express a bid because the valuation is 0).
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
    /// Size c_s in bytes of each vehicle's pending request (0 if none).
    pub sizes: &'a [u32],
    /// The reward's latency weight λ per ms (`reward.latency_weight`).
    pub latency_weight: f64,
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
    /// The kind of the actions [`Bidder::act`] writes, given the configured `agents.action`. By
    /// default, the configured one.
    fn action_kind(&self, configured: ActionKind) -> ActionKind {
        configured
    }
}

/// Writes the relative actions that bid `bid(v, u_v)` for every vehicle of `view`.
pub(crate) fn relative_actions(
    view: &BidderView<'_>,
    actions: &mut [f32],
    mut bid: impl FnMut(usize, f64) -> f64,
) {
    for (v, (a, &value)) in actions.iter_mut().zip(view.valuations).enumerate() {
        *a = view.bids.action(ActionKind::Relative, bid(v, value), value);
    }
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
            ("latency_aware", BidderKind::LatencyAware),
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
        let m = BidMapping::new(1.2, 2.0);
        assert_eq!(BidMapping::clamp(1.5), (1.0, true));
        assert_eq!(BidMapping::clamp(-0.1), (0.0, true));
        assert_eq!(BidMapping::clamp(0.25), (0.25, false));
        assert_eq!(m.bid(ActionKind::Absolute, 0.5, 0.3), 0.5f32 as f64 * 1.2);
        assert_eq!(m.action(ActionKind::Absolute, 2.4, 0.3), 1.0);
        assert!((m.action(ActionKind::Absolute, 0.6, 0.3) - 0.5).abs() < 1e-6);
        assert_eq!(
            m.bid(ActionKind::Relative, 1.0, 1.0),
            1.2,
            "capped at bid_max"
        );
        assert_eq!(m.action(ActionKind::Relative, 0.3, 0.0), 0.0);
    }

    #[test]
    fn truthful_relative_action_bids_exactly_the_valuation() {
        let m = BidMapping::new(1.2, 2.0);
        for i in 1..2000u32 {
            let u = (1.0 + f64::from(i) / 1000.0).ln();
            let a = m.action(ActionKind::Relative, u, u);
            assert_eq!(a, 0.5);
            assert_eq!(m.bid(ActionKind::Relative, a, u), u);
        }
    }
}
