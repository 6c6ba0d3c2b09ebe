//! The VCG (Vickrey–Clarke–Groves) double auction for unit demand and supply.
//!
//! All K efficient pairs trade. Every winning buyer pays its threshold max(a_K, b_{K+1}), every
//! winning seller receives its threshold min(b_K, a_{K+1}), where a missing b_{K+1} counts as −∞
//! and a missing a_{K+1} as +∞ (so a lone side of the K-th pair prices against the other side).
//!
//! Claims: truthful for both sides (each winner pays the lowest report with which it would still
//! win; losers cannot win at a price below their value), individually rational, efficient (all K
//! trades), and runs a deficit: since K is maximal, b_{K+1} < a_{K+1}, hence
//! max(a_K, b_{K+1}) ≤ min(b_K, a_{K+1}) and β = K·(max(a_K, b_{K+1}) − min(b_K, a_{K+1})) ≤ 0.
//!
//! Edge cases: K = 0 gives no trade; with ties at the K-th pair the thresholds equal the tied
//! price, so tied winners get utility 0.

use super::{BudgetProperty, Mechanism, OrderBook, Properties, Trade};
use crate::rng::ChaCha8Rng;

/// VCG: K trades, buyers pay max(a_K, b_{K+1}), sellers get min(b_K, a_{K+1}).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vcg;

impl Mechanism for Vcg {
    fn properties(&self) -> Properties {
        Properties {
            truthful_buyers: true,
            truthful_sellers: true,
            budget: BudgetProperty::NonPositive,
        }
    }

    fn clear(&self, book: &OrderBook, _rng: &mut ChaCha8Rng, trades: &mut Vec<Trade>) {
        let k = book.efficient_trades();
        if k == 0 {
            return;
        }
        let (b_k, a_k) = (book.bids()[k - 1].price, book.asks()[k - 1].price);
        let pays = book.bid(k).map_or(a_k, |b| b.max(a_k));
        let gets = book.ask(k).map_or(b_k, |a| a.min(b_k));
        book.push_pairs(k, trades, |_| (pays, gets));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::testing::MechanismTester;

    #[test]
    fn thresholds_on_hand_computed_markets() {
        let t = MechanismTester::new(Vcg);
        // K = 4: buyers pay max(a_4 = 8, b_5 = 6) = 8, sellers get min(b_4 = 9, a_5 = 11) = 9.
        let out = t.clear(&[17.0, 14.0, 13.0, 9.0, 6.0], &[1.0, 4.0, 5.0, 8.0, 11.0]);
        assert_eq!(out.prices(), vec![(8.0, 9.0); 4]);
        assert_eq!(out.budget(), -4.0);
        // Missing (K+1)-th bid and ask: buyer pays a_K, seller gets b_K.
        assert_eq!(t.clear(&[9.0], &[4.0]).prices(), vec![(4.0, 9.0)]);
        // Missing (K+1)-th ask only: buyers pay max(4, 8) = 8; sellers get b_1 = 9.
        assert_eq!(t.clear(&[9.0, 8.0], &[4.0]).prices(), vec![(8.0, 9.0)]);
        // K = 1: pays max(3, 4) = 4, gets min(9, 8) = 8.
        assert_eq!(t.clear(&[9.0, 4.0], &[3.0, 8.0]).prices(), vec![(4.0, 8.0)]);
        // K = 2, nothing beyond: pays a_2 = 4, gets b_2 = 8.
        assert_eq!(
            t.clear(&[9.0, 8.0], &[3.0, 4.0]).prices(),
            vec![(4.0, 8.0); 2]
        );
        // K = 2 (8 ≥ 8): pays max(8, 6) = 8, gets min(8, 9) = 8, β = 0.
        let out = t.clear(&[10.0, 8.0, 6.0], &[4.0, 8.0, 9.0]);
        assert_eq!(out.prices(), vec![(8.0, 8.0); 2]);
        assert_eq!(out.budget(), 0.0);
        // Ties: K = 3, pays max(5, −∞) = 5, gets min(10, 20) = 10.
        assert_eq!(
            t.clear(&[10.0, 10.0, 10.0], &[5.0, 5.0, 5.0, 20.0])
                .prices(),
            vec![(5.0, 10.0); 3]
        );
    }

    #[test]
    fn empty_and_one_sided_markets_do_not_trade() {
        let t = MechanismTester::new(Vcg);
        assert!(t.clear(&[], &[]).trades.is_empty());
        assert!(t.clear(&[1.0], &[]).trades.is_empty());
        assert!(t.clear(&[], &[1.0]).trades.is_empty());
        assert!(t.clear(&[1.0], &[2.0]).trades.is_empty());
    }

    #[test]
    fn passes_the_audit() {
        MechanismTester::new(Vcg).assert_audit(300);
    }
}
