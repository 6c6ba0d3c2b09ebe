//! The second-price double auction, the paper's "second-price auction" baseline.
//!
//! All K efficient pairs trade. Every winning buyer pays the (K+1)-th price with the K-th ask as
//! reserve, max(b_{K+1}, a_K) (a_K alone when there is no (K+1)-th bid); each winning seller
//! receives its own ask (pay-as-bid).
//!
//! Claims: truthful for buyers (their price is the VCG threshold, which their own bid cannot move
//! while they win), not for sellers (a winning seller gains by inflating its ask up to the
//! threshold; `iovmarket audit` shows such misreports). Individually rational
//! (max(b_{K+1}, a_K) ≤ b_K ≤ b_i; sellers get exactly their ask, utility 0), weakly budget
//! balanced: every buyer pays ≥ a_K ≥ the ask of its seller, so β ≥ 0, and β grows with the
//! spread between the K-th ask and the cheaper asks.
//!
//! Edge cases: K = 0 gives no trade.

use super::{BudgetProperty, Mechanism, OrderBook, Properties, Trade};
use crate::rng::ChaCha8Rng;

/// Second price: K trades, buyers pay max(b_{K+1}, a_K), sellers get their own asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SecondPrice;

impl Mechanism for SecondPrice {
    fn properties(&self) -> Properties {
        Properties {
            truthful_buyers: true,
            truthful_sellers: false,
            budget: BudgetProperty::NonNegative,
        }
    }

    fn clear(&self, book: &OrderBook, _rng: &mut ChaCha8Rng, trades: &mut Vec<Trade>) {
        let k = book.efficient_trades();
        if k == 0 {
            return;
        }
        let a_k = book.asks()[k - 1].price;
        let pays = book.bid(k).map_or(a_k, |b| b.max(a_k));
        let asks = book.asks();
        book.push_pairs(k, trades, |i| (pays, asks[i].price));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::testing::MechanismTester;

    #[test]
    fn buyers_pay_the_next_price_sellers_their_ask() {
        let t = MechanismTester::new(SecondPrice);
        // K = 4: buyers pay max(b_5 = 6, a_4 = 8) = 8; sellers get 1, 4, 5, 8; β = 32 − 18.
        let out = t.clear(&[17.0, 14.0, 13.0, 9.0, 6.0], &[1.0, 4.0, 5.0, 8.0, 11.0]);
        assert_eq!(
            out.prices(),
            vec![(8.0, 1.0), (8.0, 4.0), (8.0, 5.0), (8.0, 8.0)]
        );
        assert_eq!(out.budget(), 14.0);
        assert_eq!(t.clear(&[9.0], &[4.0]).prices(), vec![(4.0, 4.0)]);
        assert_eq!(t.clear(&[9.0, 8.0], &[4.0]).prices(), vec![(8.0, 4.0)]);
        assert_eq!(t.clear(&[9.0, 4.0], &[3.0, 8.0]).prices(), vec![(4.0, 3.0)]);
        assert_eq!(
            t.clear(&[9.0, 8.0], &[3.0, 4.0]).prices(),
            vec![(4.0, 3.0), (4.0, 4.0)]
        );
        assert_eq!(
            t.clear(&[10.0, 10.0, 10.0], &[5.0, 5.0, 5.0, 20.0])
                .prices(),
            vec![(5.0, 5.0); 3]
        );
    }

    #[test]
    fn empty_and_one_sided_markets_do_not_trade() {
        let t = MechanismTester::new(SecondPrice);
        assert!(t.clear(&[], &[]).trades.is_empty());
        assert!(t.clear(&[1.0], &[]).trades.is_empty());
        assert!(t.clear(&[], &[1.0]).trades.is_empty());
        assert!(t.clear(&[1.0], &[2.0]).trades.is_empty());
    }

    #[test]
    fn truthful_for_buyers_only() {
        let report = MechanismTester::new(SecondPrice).assert_audit(300);
        assert_eq!(report.buyer_misreports.count, 0);
        assert!(report.seller_misreports.count > 0);
    }
}
