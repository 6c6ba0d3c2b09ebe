//! Random bidding: bid ~ U[0, bid_max] (the paper's "Random" baseline).

use rand::Rng;

use super::{ActionKind, Bidder, BidderView};
use crate::error::Result;
use crate::rng::ChaCha8Rng;

/// Bids uniformly at random in [0, bid_max].
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomBidder;

impl Bidder for RandomBidder {
    fn name(&self) -> String {
        "random".into()
    }

    fn action_kind(&self, _configured: ActionKind) -> ActionKind {
        ActionKind::Absolute
    }

    fn act(
        &mut self,
        _view: &BidderView<'_>,
        rng: &mut ChaCha8Rng,
        actions: &mut [f32],
    ) -> Result<()> {
        for a in actions.iter_mut() {
            *a = rng.gen::<f32>();
        }
        Ok(())
    }
}
