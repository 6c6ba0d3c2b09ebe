//! Shaded bidding: bid = F · u_v.

use super::{action_for_bid, Bidder};
use crate::env::IovEnv;
use crate::rng::ChaCha8Rng;

/// Bids a fixed fraction F of each vehicle's valuation.
#[derive(Debug, Clone, Copy)]
pub struct ShadedBidder(pub f64);

impl Bidder for ShadedBidder {
    fn name(&self) -> String {
        format!("shaded:{}", self.0)
    }

    fn act(&mut self, env: &IovEnv, _rng: &mut ChaCha8Rng, actions: &mut [f32]) {
        let bid_max = env.scenario().market.bid_max;
        for (a, &value) in actions.iter_mut().zip(&env.requests().value) {
            *a = action_for_bid(self.0 * value, bid_max);
        }
    }
}
