//! Per-slot metrics and the reward (M8–M11, the paper's (1), (2), (4), (6)).
//!
//! Every market outcome is first written as [`TradeRecord`]s; all metrics are pure functions of
//! the records of a slot, so they can be checked on hand-built slots.

use serde::{Deserialize, Serialize};

use crate::check::non_negative;
use crate::error::Result;

/// Which social-welfare definition enters the reward (M8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WelfareKind {
    /// Σ over trades of (u_v − u_m).
    GainsFromTrade,
    /// Σ (u_v − p_v) + Σ (p_m − u_m) over trades.
    ParticipantsUtility,
    /// The paper's literal Σ u_v + Σ u_m over trades.
    PaperEq1,
}

/// Whose reward an agent learns from (DESIGN.md §1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardKind {
    /// Every agent gets the shared reward R(t) of (6) (cooperative MAPPO, the paper's).
    Shared,
    /// Each buyer gets its own utility ([`individual_utility`]): the paper's Section II game,
    /// where each IoV maximises its own utility.
    Individual,
}

/// `[reward]`: the shared reward (6) and what each agent learns from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RewardConfig {
    /// Welfare definition used in the reward. By default, `gains_from_trade`.
    pub welfare: WelfareKind,
    /// α, weight of the squared budget. By default, 1.0.
    pub budget_weight: f64,
    /// λ, weight of latency per millisecond. By default, 1.0.
    pub latency_weight: f64,
    /// The agents' rewards: `shared` (R(t) for all) or `individual` (each buyer's own utility).
    /// By default, `shared`.
    pub kind: RewardKind,
    /// Whether an individual utility also subtracts `latency_weight` × the buyer's own latency.
    /// By default, false.
    pub individual_latency: bool,
}

impl Default for RewardConfig {
    fn default() -> Self {
        Self {
            welfare: WelfareKind::GainsFromTrade,
            budget_weight: 1.0,
            latency_weight: 1.0,
            kind: RewardKind::Shared,
            individual_latency: false,
        }
    }
}

impl RewardConfig {
    /// Checks every value against its allowed range.
    ///
    /// # Errors
    /// [`crate::Error::Config`] naming the first offending `reward.*` key.
    pub fn validate(&self) -> Result<()> {
        non_negative("reward.budget_weight", self.budget_weight)?;
        non_negative("reward.latency_weight", self.latency_weight)?;
        Ok(())
    }
}

/// One executed trade with everything the metrics need.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TradeRecord {
    /// Buying vehicle.
    pub vehicle: u32,
    /// RSU whose market cleared the trade.
    pub rsu: u32,
    /// Selling VM (index within the RSU).
    pub vm: u32,
    /// Buyer valuation u_v.
    pub value: f64,
    /// Seller valuation (cost of the unit) u_m.
    pub cost: f64,
    /// The buyer's bid.
    pub bid: f64,
    /// The seller's ask.
    pub ask: f64,
    /// Buyer payment p_v.
    pub buyer_pays: f64,
    /// Seller receipt p_m.
    pub seller_gets: f64,
    /// Delivery time of the request's 8·c_s bits in milliseconds under block fading (M10 term).
    pub latency_ms: f64,
    /// Whether the transfer missed `channel.latency_cap_ms` (its latency is then the cap).
    pub late: bool,
}

/// M8, gains from trade: Σ (u_v − u_m).
pub fn gains_from_trade(trades: &[TradeRecord]) -> f64 {
    trades.iter().map(|t| t.value - t.cost).sum()
}

/// M8, participants' utility: Σ (u_v − p_v) + Σ (p_m − u_m).
pub fn participants_utility(trades: &[TradeRecord]) -> f64 {
    trades
        .iter()
        .map(|t| (t.value - t.buyer_pays) + (t.seller_gets - t.cost))
        .sum()
}

/// M8, the paper's literal (1): Σ u_v + Σ u_m over trades.
pub fn paper_eq1_welfare(trades: &[TradeRecord]) -> f64 {
    trades.iter().map(|t| t.value + t.cost).sum()
}

/// M8: social welfare SW(t) under the configured definition.
pub fn social_welfare(kind: WelfareKind, trades: &[TradeRecord]) -> f64 {
    match kind {
        WelfareKind::GainsFromTrade => gains_from_trade(trades),
        WelfareKind::ParticipantsUtility => participants_utility(trades),
        WelfareKind::PaperEq1 => paper_eq1_welfare(trades),
    }
}

/// M9, budget β(t) (4): Σ buyer payments − Σ seller receipts.
pub fn budget(trades: &[TradeRecord]) -> f64 {
    trades.iter().map(|t| t.buyer_pays - t.seller_gets).sum()
}

/// M10, latency L(t) (2): Σ over trades of 8·c_s / R_{m,v}, in milliseconds.
pub fn latency_ms(trades: &[TradeRecord]) -> f64 {
    trades.iter().map(|t| t.latency_ms).sum()
}

/// Latency of one transfer of `size_bytes` at `rate_bps`, in milliseconds (the term of (2)).
#[inline]
pub fn transfer_latency_ms(size_bytes: u32, rate_bps: f64) -> f64 {
    8.0 * size_bytes as f64 / rate_bps.max(1.0) * 1e3
}

/// M11, reward (6): R(t) = SW(t) − α β(t)² − λ L(t).
#[inline]
pub fn reward(sw: f64, beta: f64, latency_ms: f64, alpha: f64, lambda: f64) -> f64 {
    sw - alpha * beta * beta - lambda * latency_ms
}

/// A buyer's own utility from one of its trades (the reward of `reward.kind = "individual"` and
/// the payoff of the equilibrium search, DESIGN.md §1.7, §2.2): u_v − p_v, minus
/// `latency_weight` × the trade's latency when `individual_latency` is set. A buyer that does
/// not trade gets 0.
#[inline]
pub fn individual_utility(trade: &TradeRecord, reward_cfg: &RewardConfig) -> f64 {
    let own = trade.value - trade.buyer_pays;
    if reward_cfg.individual_latency {
        own - reward_cfg.latency_weight * trade.latency_ms
    } else {
        own
    }
}

/// Adds each trade's [`individual_utility`] to its buyer's entry of `out` (indexed by vehicle).
pub fn add_individual_utilities(
    trades: &[TradeRecord],
    reward_cfg: &RewardConfig,
    out: &mut [f64],
) {
    for t in trades {
        out[t.vehicle as usize] += individual_utility(t, reward_cfg);
    }
}

/// Individual-rationality violations among `trades`: a buyer paying above its bid or a seller
/// receiving below its ask.
pub fn ir_violations(trades: &[TradeRecord]) -> usize {
    const EPS: f64 = 1e-9;
    trades
        .iter()
        .filter(|t| t.buyer_pays > t.bid + EPS || t.seller_gets < t.ask - EPS)
        .count()
}

/// Everything recorded about one slot (summed over RSUs).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct SlotMetrics {
    /// Episode index (set by the episode runner; 0 otherwise).
    pub episode: usize,
    /// Slot number, 1-based.
    pub slot: u64,
    /// Shared reward R(t) (M11).
    pub reward: f64,
    /// SW(t) under the configured definition (M8).
    pub welfare: f64,
    /// Gains from trade.
    pub welfare_gains: f64,
    /// Participants' utility.
    pub welfare_participants: f64,
    /// The paper's literal (1).
    pub welfare_paper_eq1: f64,
    /// Budget β(t) (M9).
    pub budget: f64,
    /// Latency L(t) in ms (M10).
    pub latency_ms: f64,
    /// Executed trades.
    pub trades: usize,
    /// Buyers that bid (pending request, in range, bid > 0).
    pub buyers: usize,
    /// Sellers (VMs) in markets with at least one vehicle in range.
    pub sellers: usize,
    /// Requests dropped at the end of the slot (TTL reached).
    pub dropped: usize,
    /// Mean utility u_v − p_v over the buyers that bid (losers count 0).
    pub mean_buyer_utility: f64,
    /// Individual-rationality violations (must be 0).
    pub ir_violations: usize,
    /// Transfers that missed the delivery deadline `channel.latency_cap_ms` (M10).
    pub late_deliveries: usize,
    /// Actions outside [0, 1] clamped into it before bidding (`agents::BidMapping::clamp`).
    pub clamped_actions: usize,
}

impl SlotMetrics {
    /// Metrics of a slot from its trades and counts.
    pub fn from_trades(
        slot: u64,
        trades: &[TradeRecord],
        buyers: usize,
        sellers: usize,
        dropped: usize,
        reward_cfg: &RewardConfig,
    ) -> Self {
        let welfare = social_welfare(reward_cfg.welfare, trades);
        let beta = budget(trades);
        let latency = latency_ms(trades);
        let buyer_surplus: f64 = trades.iter().map(|t| t.value - t.buyer_pays).sum();
        Self {
            episode: 0,
            slot,
            reward: reward(
                welfare,
                beta,
                latency,
                reward_cfg.budget_weight,
                reward_cfg.latency_weight,
            ),
            welfare,
            welfare_gains: gains_from_trade(trades),
            welfare_participants: participants_utility(trades),
            welfare_paper_eq1: paper_eq1_welfare(trades),
            budget: beta,
            latency_ms: latency,
            trades: trades.len(),
            buyers,
            sellers,
            dropped,
            mean_buyer_utility: if buyers == 0 {
                0.0
            } else {
                buyer_surplus / buyers as f64
            },
            ir_violations: ir_violations(trades),
            late_deliveries: trades.iter().filter(|t| t.late).count(),
            clamped_actions: 0,
        }
    }
}

/// Sums and means of slot metrics over an episode.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct EpisodeMetrics {
    /// Episode index.
    pub episode: usize,
    /// Slots in the episode.
    pub slots: usize,
    /// Σ reward.
    pub reward: f64,
    /// Σ configured welfare.
    pub welfare: f64,
    /// Σ gains from trade.
    pub welfare_gains: f64,
    /// Σ participants' utility.
    pub welfare_participants: f64,
    /// Σ paper-(1) welfare.
    pub welfare_paper_eq1: f64,
    /// Σ budget.
    pub budget: f64,
    /// Σ latency (ms).
    pub latency_ms: f64,
    /// Σ trades.
    pub trades: usize,
    /// Σ bidding buyers.
    pub buyers: usize,
    /// Σ dropped requests.
    pub dropped: usize,
    /// Σ IR violations.
    pub ir_violations: usize,
    /// Σ late deliveries.
    pub late_deliveries: usize,
}

impl EpisodeMetrics {
    /// Adds one slot.
    pub fn add(&mut self, m: &SlotMetrics) {
        self.slots += 1;
        self.reward += m.reward;
        self.welfare += m.welfare;
        self.welfare_gains += m.welfare_gains;
        self.welfare_participants += m.welfare_participants;
        self.welfare_paper_eq1 += m.welfare_paper_eq1;
        self.budget += m.budget;
        self.latency_ms += m.latency_ms;
        self.trades += m.trades;
        self.buyers += m.buyers;
        self.dropped += m.dropped;
        self.ir_violations += m.ir_violations;
        self.late_deliveries += m.late_deliveries;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(value: f64, cost: f64, pays: f64, gets: f64, lat: f64) -> TradeRecord {
        TradeRecord {
            value,
            cost,
            bid: value,
            ask: cost,
            buyer_pays: pays,
            seller_gets: gets,
            latency_ms: lat,
            ..Default::default()
        }
    }

    #[test]
    fn welfare_variants_budget_and_reward_on_a_hand_built_slot() {
        let t = [rec(0.9, 0.2, 0.6, 0.5, 0.3), rec(0.5, 0.4, 0.6, 0.5, 0.2)];
        // gains: 0.7 + 0.1; participants: (0.3 + 0.3) + (-0.1 + 0.1); eq1: 1.1 + 0.9.
        assert!((gains_from_trade(&t) - 0.8).abs() < 1e-12);
        assert!((participants_utility(&t) - 0.6).abs() < 1e-12);
        assert!((paper_eq1_welfare(&t) - 2.0).abs() < 1e-12);
        assert!((budget(&t) - 0.2).abs() < 1e-12);
        assert!((latency_ms(&t) - 0.5).abs() < 1e-12);
        // participants' utility = gains − budget, always.
        assert!((participants_utility(&t) - (gains_from_trade(&t) - budget(&t))).abs() < 1e-12);
        let cfg = RewardConfig {
            budget_weight: 2.0,
            latency_weight: 0.5,
            ..Default::default()
        };
        let m = SlotMetrics::from_trades(1, &t, 4, 5, 1, &cfg);
        assert!((m.reward - (0.8 - 2.0 * 0.04 - 0.25)).abs() < 1e-12);
        assert_eq!((m.trades, m.buyers, m.sellers, m.dropped), (2, 4, 5, 1));
        // buyer surplus: (0.9 − 0.6) + (0.5 − 0.6) = 0.2 over 4 bidders.
        assert!((m.mean_buyer_utility - 0.2 / 4.0).abs() < 1e-12);
        // The second trade has the buyer paying 0.6 above its bid 0.5.
        assert_eq!(m.ir_violations, 1);
    }

    #[test]
    fn individual_utility_is_own_surplus_minus_optional_latency() {
        let mut a = rec(0.9, 0.2, 0.6, 0.5, 30.0);
        a.vehicle = 2;
        let mut b = rec(0.5, 0.1, 0.2, 0.2, 10.0);
        b.vehicle = 0;
        let mut cfg = RewardConfig {
            latency_weight: 0.01,
            ..Default::default()
        };
        assert!((individual_utility(&a, &cfg) - 0.3).abs() < 1e-12);
        cfg.individual_latency = true;
        assert!((individual_utility(&a, &cfg) - 0.0).abs() < 1e-12);
        let mut out = [0.0; 3];
        add_individual_utilities(&[a, b], &cfg, &mut out);
        assert!((out[0] - 0.2).abs() < 1e-12);
        assert_eq!(out[1], 0.0, "a buyer without a trade gets 0");
        assert!(out[2].abs() < 1e-12);
    }

    #[test]
    fn transfer_latency_is_bits_over_rate() {
        assert!((transfer_latency_ms(1000, 8e6) - 1.0).abs() < 1e-12);
    }
}
