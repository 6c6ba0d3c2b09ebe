//! Latency-aware bidding: b = max(0, u_v − λ · ℓ̂_v), a reference for what learning should reach.
//!
//! The shared reward (6) charges λ · L for the latency of every trade. A truthful bidder ignores
//! that cost; this one subtracts the latency its own trade would add, ℓ̂_v = 8 c_s / R̂_v in ms,
//! where R̂_v is the mean rate from its RSU's VMs this slot (what its observation shows). It is
//! still a simple, myopic rule: it does not see the price, the other bidders, or block fading.

use super::{relative_actions, ActionKind, Bidder, BidderView};
use crate::error::Result;
use crate::metrics::transfer_latency_ms;
use crate::rng::ChaCha8Rng;

/// Bids the valuation minus the reward weight of the latency of its own transfer.
#[derive(Debug, Clone, Copy, Default)]
pub struct LatencyAwareBidder;

/// The latency-aware bid max(0, u − λ · ℓ̂) for valuation `value`, request size `size_bytes`,
/// observed mean rate `rate_bps` and latency weight `lambda_per_ms`.
#[inline]
pub fn latency_aware_bid(value: f64, size_bytes: u32, rate_bps: f64, lambda_per_ms: f64) -> f64 {
    if rate_bps <= 0.0 {
        return 0.0;
    }
    (value - lambda_per_ms * transfer_latency_ms(size_bytes, rate_bps)).max(0.0)
}

impl Bidder for LatencyAwareBidder {
    fn name(&self) -> String {
        "latency_aware".into()
    }

    fn action_kind(&self, _configured: ActionKind) -> ActionKind {
        ActionKind::Relative
    }

    fn act(
        &mut self,
        view: &BidderView<'_>,
        _rng: &mut ChaCha8Rng,
        actions: &mut [f32],
    ) -> Result<()> {
        relative_actions(view, actions, |v, value| {
            latency_aware_bid(
                value,
                view.sizes[v],
                view.mean_rate_bps(v),
                view.latency_weight,
            )
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtracts_the_weighted_latency_of_the_own_transfer() {
        // 1000 bytes at 8 Mbit/s take 1 ms; λ = 0.1 per ms costs 0.1.
        assert!((latency_aware_bid(0.5, 1000, 8e6, 0.1) - 0.4).abs() < 1e-12);
        // A latency cost above the valuation sits out; no rate means no bid.
        assert_eq!(latency_aware_bid(0.05, 1000, 8e6, 0.1), 0.0);
        assert_eq!(latency_aware_bid(0.5, 1000, 0.0, 0.1), 0.0);
        // λ = 0 is truthful.
        assert_eq!(latency_aware_bid(0.37, 1000, 8e6, 0.0), 0.37);
    }
}
