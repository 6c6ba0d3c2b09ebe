//! The k-double auction (Chatterjee & Samuelson 1983; Satterthwaite & Williams 1989), the
//! paper's "double auction" baseline.
//!
//! All K efficient pairs trade at one price p = k·b_K + (1 − k)·a_K, with k ∈ [0, 1] from
//! `market.kda_k` (by default 0.5, the midpoint of the K-th pair).
//!
//! Claims: not truthful for either side (the K-th buyer lowers p by shading its bid, the K-th
//! seller raises it by inflating its ask; `iovmarket audit` shows such misreports), individually
//! rational (a_i ≤ a_K ≤ p ≤ b_K ≤ b_i for i ≤ K), strongly budget balanced (β = 0).
//!
//! Edge cases: K = 0 gives no trade; k = 1 prices at b_K, k = 0 at a_K. The price is computed in
//! floating point, so β = 0 holds exactly (both sides use the same p).

use super::{BudgetProperty, Mechanism, OrderBook, Properties, Trade};
use crate::rng::ChaCha8Rng;

/// The k-double auction: K trades at k·b_K + (1 − k)·a_K.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kda {
    /// Weight of the K-th bid in the price, in [0, 1].
    pub k: f64,
}

impl Default for Kda {
    /// k = 0.5.
    fn default() -> Self {
        Self { k: 0.5 }
    }
}

impl Mechanism for Kda {
    fn properties(&self) -> Properties {
        Properties {
            truthful_buyers: false,
            truthful_sellers: false,
            budget: BudgetProperty::Balanced,
        }
    }

    fn clear(&self, book: &OrderBook, _rng: &mut ChaCha8Rng, trades: &mut Vec<Trade>) {
        let k = book.efficient_trades();
        if k == 0 {
            return;
        }
        let (b_k, a_k) = (book.bids()[k - 1].price, book.asks()[k - 1].price);
        // Clamp against rounding: the price must stay in [a_K, b_K] for IR.
        let p = (self.k * b_k + (1.0 - self.k) * a_k).clamp(a_k, b_k);
        book.push_pairs(k, trades, |_| (p, p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::testing::MechanismTester;

    #[test]
    fn k_trades_at_the_weighted_kth_pair() {
        let t = MechanismTester::new(Kda::default());
        let out = t.clear(&[17.0, 14.0, 13.0, 9.0, 6.0], &[1.0, 4.0, 5.0, 8.0, 11.0]);
        assert_eq!(out.prices(), vec![(8.5, 8.5); 4]);
        assert_eq!(out.budget(), 0.0);
        assert_eq!(t.clear(&[9.0], &[4.0]).prices(), vec![(6.5, 6.5)]);
        assert_eq!(
            t.clear(&[9.0, 8.0], &[3.0, 4.0]).prices(),
            vec![(6.0, 6.0); 2]
        );
        assert_eq!(
            t.clear(&[10.0, 10.0, 10.0], &[5.0, 5.0, 5.0, 20.0])
                .prices(),
            vec![(7.5, 7.5); 3]
        );
        let t = MechanismTester::new(Kda { k: 1.0 });
        assert_eq!(t.clear(&[9.0, 4.0], &[3.0, 8.0]).prices(), vec![(9.0, 9.0)]);
        let t = MechanismTester::new(Kda { k: 0.0 });
        assert_eq!(t.clear(&[9.0, 4.0], &[3.0, 8.0]).prices(), vec![(3.0, 3.0)]);
    }

    #[test]
    fn empty_and_one_sided_markets_do_not_trade() {
        let t = MechanismTester::new(Kda::default());
        assert!(t.clear(&[], &[]).trades.is_empty());
        assert!(t.clear(&[1.0], &[]).trades.is_empty());
        assert!(t.clear(&[], &[1.0]).trades.is_empty());
        assert!(t.clear(&[1.0], &[2.0]).trades.is_empty());
    }

    #[test]
    fn is_rational_and_balanced_but_not_truthful() {
        let report = MechanismTester::new(Kda::default()).assert_audit(300);
        assert!(report.buyer_misreports.count > 0 && report.seller_misreports.count > 0);
        // The lone buyer of [9] vs [4] pays 6.5 bidding truthfully; shading its bid to 4 it still
        // trades, pays 4 and gains 2.5.
        let t = MechanismTester::new(Kda::default());
        assert_eq!(t.clear(&[9.0], &[4.0]).prices(), vec![(6.5, 6.5)]);
        assert_eq!(t.clear(&[4.0], &[4.0]).prices(), vec![(4.0, 4.0)]);
    }
}
