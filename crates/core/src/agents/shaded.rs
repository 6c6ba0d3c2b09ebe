//! Shaded bidding: bid = F · u_v.

use super::{relative_actions, ActionKind, Bidder, BidderView};
use crate::error::Result;
use crate::rng::ChaCha8Rng;

/// Bids a fixed fraction F of each vehicle's valuation.
#[derive(Debug, Clone, Copy)]
pub struct ShadedBidder(pub f64);

impl Bidder for ShadedBidder {
    fn name(&self) -> String {
        format!("shaded:{}", self.0)
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
        relative_actions(view, actions, |_, value| self.0 * value);
        Ok(())
    }
}
