//! Truthful bidding: bid = u_v (dominant under McAfee, VCG, SBBA, trade reduction).

use super::{Bidder, BidderView};
use crate::error::Result;
use crate::rng::ChaCha8Rng;

/// Bids each vehicle's valuation.
#[derive(Debug, Clone, Copy, Default)]
pub struct TruthfulBidder;

impl Bidder for TruthfulBidder {
    fn name(&self) -> String {
        "truthful".into()
    }

    fn act(
        &mut self,
        view: &BidderView<'_>,
        _rng: &mut ChaCha8Rng,
        actions: &mut [f32],
    ) -> Result<()> {
        for (a, &value) in actions.iter_mut().zip(view.valuations) {
            *a = view.bids.action(value);
        }
        Ok(())
    }
}
