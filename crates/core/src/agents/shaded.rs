//! Shaded bidding: bid = F · u_v.

use super::{Bidder, BidderView};
use crate::error::Result;
use crate::rng::ChaCha8Rng;

/// Bids a fixed fraction F of each vehicle's valuation.
#[derive(Debug, Clone, Copy)]
pub struct ShadedBidder(pub f64);

impl Bidder for ShadedBidder {
    fn name(&self) -> String {
        format!("shaded:{}", self.0)
    }

    fn act(
        &mut self,
        view: &BidderView<'_>,
        _rng: &mut ChaCha8Rng,
        actions: &mut [f32],
    ) -> Result<()> {
        for (a, &value) in actions.iter_mut().zip(view.valuations) {
            *a = view.bids.action(self.0 * value);
        }
        Ok(())
    }
}
