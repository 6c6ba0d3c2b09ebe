//! Truthful bidding: bid = u_v (dominant under McAfee, VCG, SBBA, trade reduction).

use super::{action_for_bid, Bidder};
use crate::env::IovEnv;
use crate::rng::ChaCha8Rng;

/// Bids each vehicle's valuation.
#[derive(Debug, Clone, Copy, Default)]
pub struct TruthfulBidder;

impl Bidder for TruthfulBidder {
    fn name(&self) -> String {
        "truthful".into()
    }

    fn act(&mut self, env: &IovEnv, _rng: &mut ChaCha8Rng, actions: &mut [f32]) {
        let bid_max = env.scenario().market.bid_max;
        for (a, &value) in actions.iter_mut().zip(&env.requests().value) {
            *a = action_for_bid(value, bid_max);
        }
    }
}
