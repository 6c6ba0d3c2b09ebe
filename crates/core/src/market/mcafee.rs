//! McAfee's double auction (McAfee 1992), the paper's mechanism.
//!
//! With K efficient trades, the candidate price p0 = (b_{K+1} + a_{K+1}) / 2. If
//! a_K ≤ p0 ≤ b_K, all K pairs trade at p0; otherwise the K-th pair is dropped (trade reduction)
//! and K − 1 pairs trade, buyers paying b_K and sellers receiving a_K. A missing (K+1)-th bid or
//! ask means trade reduction.
//!
//! Truthful for both sides, individually rational, weakly budget balanced (β ≥ 0).

use super::{BudgetProperty, Mechanism, OrderBook, Properties, Trade};
use crate::rng::ChaCha8Rng;

/// McAfee's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct McAfee;

impl Mechanism for McAfee {
    fn properties(&self) -> Properties {
        Properties {
            truthful_buyers: true,
            truthful_sellers: true,
            budget: BudgetProperty::NonNegative,
        }
    }

    fn clear(&self, book: &OrderBook, _rng: &mut ChaCha8Rng, trades: &mut Vec<Trade>) {
        let k = book.efficient_trades();
        if k == 0 {
            return;
        }
        let (b_k, a_k) = (book.bids()[k - 1].price, book.asks()[k - 1].price);
        if let (Some(b_next), Some(a_next)) = (book.bid(k), book.ask(k)) {
            let p0 = 0.5 * (b_next + a_next);
            if a_k <= p0 && p0 <= b_k {
                book.push_pairs(k, trades, |_| (p0, p0));
                return;
            }
        }
        book.push_pairs(k - 1, trades, |_| (b_k, a_k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::budget;
    use crate::rng::{stream, Stream};

    fn run(bids: &[f64], asks: &[f64]) -> Vec<Trade> {
        let mut rng = stream(1, Stream::User, 0, 0);
        let book = OrderBook::from_prices(bids, asks, &mut rng).unwrap();
        let mut t = Vec::new();
        McAfee.clear(&book, &mut rng, &mut t);
        t
    }

    fn prices(t: &[Trade]) -> Vec<(f64, f64)> {
        t.iter().map(|t| (t.buyer_pays, t.seller_gets)).collect()
    }

    #[test]
    fn design_worked_examples() {
        let t = run(&[17.0, 14.0, 13.0, 9.0, 6.0], &[1.0, 4.0, 5.0, 8.0, 11.0]);
        assert_eq!(prices(&t), vec![(8.5, 8.5); 4]);
        assert_eq!(budget(&t), 0.0);
        assert!(run(&[9.0], &[4.0]).is_empty());
        assert!(run(&[9.0, 8.0], &[4.0]).is_empty());
        assert_eq!(prices(&run(&[9.0, 4.0], &[3.0, 8.0])), vec![(6.0, 6.0)]);
        let t = run(&[9.0, 8.0], &[3.0, 4.0]);
        assert_eq!(prices(&t), vec![(8.0, 4.0)]);
        assert_eq!((t[0].buyer, t[0].seller), (0, 0));
        assert_eq!(budget(&t), 4.0);
        assert_eq!(
            prices(&run(&[10.0, 8.0, 6.0], &[4.0, 8.0, 9.0])),
            vec![(8.0, 8.0)]
        );
        assert_eq!(
            prices(&run(&[10.0, 10.0, 10.0], &[5.0, 5.0, 5.0, 20.0])),
            vec![(10.0, 5.0); 2]
        );
    }

    #[test]
    fn empty_and_one_sided_markets_do_not_trade() {
        assert!(run(&[], &[]).is_empty());
        assert!(run(&[1.0, 2.0], &[]).is_empty());
        assert!(run(&[], &[1.0]).is_empty());
        assert!(run(&[1.0], &[2.0]).is_empty());
    }

    #[test]
    fn passes_the_audit() {
        crate::market::testing::MechanismTester::new(McAfee).assert_audit(300);
    }
}
