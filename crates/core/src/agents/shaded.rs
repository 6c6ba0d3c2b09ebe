//! Shaded bidding: bid = F · u_v.

use super::{relative_actions, ActionKind, Bidder};
use crate::env::IovEnv;
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

    fn act(&mut self, env: &IovEnv, _rng: &mut ChaCha8Rng, actions: &mut [f32]) {
        relative_actions(env, actions, |_, value| self.0 * value);
    }
}
