//! Truthful bidding: bid = u_v (dominant under McAfee, VCG, SBBA, trade reduction).

use super::{relative_actions, ActionKind, Bidder, BidderView};
use crate::error::Result;
use crate::rng::ChaCha8Rng;

/// Bids each vehicle's valuation.
#[derive(Debug, Clone, Copy, Default)]
pub struct TruthfulBidder;

impl Bidder for TruthfulBidder {
    fn name(&self) -> String {
        "truthful".into()
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
        relative_actions(view, actions, |_, value| value);
        Ok(())
    }
}
