//! Trade reduction (McAfee 1992, the always-reduce variant).
//!
//! With K efficient trades, the K-th pair is always dropped: the K − 1 highest buyers trade with
//! the K − 1 cheapest sellers, every buyer paying b_K and every seller receiving a_K. K = 0 and
//! K = 1 both give no trade.
//!
//! Claims: truthful for both sides (a trader's price is set by the excluded K-th pair, which it
//! cannot move without leaving the winners), individually rational (b_i ≥ b_K and a_i ≤ a_K for
//! i < K), weakly budget balanced: β = (K − 1)(b_K − a_K) ≥ 0.
//!
//! Edge cases: ties at b_K or a_K are resolved by the book's seeded keys; the tied trader left out
//! pays nothing, and a tied winner pays exactly its bid (utility 0).

use super::{BudgetProperty, Mechanism, OrderBook, Properties, Trade};
use crate::rng::ChaCha8Rng;

/// The trade-reduction rule: K − 1 trades at b_K / a_K.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TradeReduction;

impl Mechanism for TradeReduction {
    fn properties(&self) -> Properties {
        Properties {
            truthful_buyers: true,
            truthful_sellers: true,
            budget: BudgetProperty::NonNegative,
        }
    }

    fn clear(&self, book: &OrderBook, _rng: &mut ChaCha8Rng, trades: &mut Vec<Trade>) {
        let k = book.efficient_trades();
        if k < 2 {
            return;
        }
        let (b_k, a_k) = (book.bids()[k - 1].price, book.asks()[k - 1].price);
        book.push_pairs(k - 1, trades, |_| (b_k, a_k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::testing::MechanismTester;

    fn tester() -> MechanismTester<TradeReduction> {
        MechanismTester::new(TradeReduction)
    }

    #[test]
    fn drops_the_kth_pair_and_prices_at_it() {
        let t = tester();
        // K = 4 (b_4 = 9 ≥ a_4 = 8): 3 trades, buyers pay 9, sellers get 8.
        let out = t.clear(&[17.0, 14.0, 13.0, 9.0, 6.0], &[1.0, 4.0, 5.0, 8.0, 11.0]);
        assert_eq!(out.prices(), vec![(9.0, 8.0); 3]);
        assert_eq!(out.pairs(), vec![(0, 0), (1, 1), (2, 2)]);
        assert_eq!(out.budget(), 3.0);
        // DESIGN.md's McAfee examples under always-reduce.
        assert!(t.clear(&[9.0], &[4.0]).trades.is_empty());
        assert!(t.clear(&[9.0, 4.0], &[3.0, 8.0]).trades.is_empty());
        assert_eq!(t.clear(&[9.0, 8.0], &[3.0, 4.0]).prices(), vec![(8.0, 4.0)]);
        assert_eq!(
            t.clear(&[10.0, 8.0, 6.0], &[4.0, 8.0, 9.0]).prices(),
            vec![(8.0, 8.0)]
        );
        assert_eq!(
            t.clear(&[10.0, 10.0, 10.0], &[5.0, 5.0, 5.0, 20.0])
                .prices(),
            vec![(10.0, 5.0); 2]
        );
    }

    #[test]
    fn empty_and_one_sided_markets_do_not_trade() {
        let t = tester();
        assert!(t.clear(&[], &[]).trades.is_empty());
        assert!(t.clear(&[1.0, 2.0], &[]).trades.is_empty());
        assert!(t.clear(&[], &[1.0]).trades.is_empty());
        assert!(t.clear(&[0.0, 0.0], &[0.0, 0.0]).prices() == vec![(0.0, 0.0)]);
    }

    #[test]
    fn passes_the_audit() {
        tester().assert_audit(300);
    }
}
