//! SBBA, the strongly budget-balanced double auction of Segal-Halevi, Hassidim and Aumann
//! ("SBBA: a strongly-budget-balanced double-auction mechanism", SAGT 2016).
//!
//! With K efficient trades, the price is p = min(b_K, a_{K+1}) (a missing a_{K+1} counts as +∞):
//! - if a_{K+1} exists and a_{K+1} ≤ b_K, all K pairs trade at p = a_{K+1};
//! - otherwise p = b_K: the K − 1 highest buyers trade and pay b_K, and K − 1 of the K cheapest
//!   sellers, chosen uniformly at random, receive b_K.
//!
//! The lottery excludes the seller with the smallest random key among the K cheapest. The keys
//! are the book's tie-breaking keys, drawn from the market stream once per input order, so the
//! lottery is bound to identities rather than to sorted positions: for a fixed stream a seller's
//! chance does not depend on its ask while it stays among the K cheapest. (In this case
//! a_{K+1} > b_K ≥ a_K, so which sellers are the K cheapest never depends on keys, and the
//! smallest of K independent uniform keys is uniform over them; equal keys, probability about
//! K²/2³³, fall back to the input index.) Winning buyers are paired with the chosen sellers in
//! ask order.
//!
//! Claims: truthful for both sides, and universally so: the check holds for every realisation of
//! the stream, not only in expectation (the price is set by a non-winner's report or by the
//! excluded K-th buyer, and the lottery does not look at asks). Individually rational
//! (a_{K+1} ≤ b_K ≤ b_i and a_i ≤ a_K ≤ a_{K+1}; a_i ≤ a_K ≤ b_K in the second case), and
//! strongly budget balanced: every trade is at one price p, so β = 0 exactly.
//!
//! Edge cases: K = 0 gives no trade; K = 1 without a cheap (K+1)-th ask gives no trade.

use super::{BudgetProperty, Mechanism, OrderBook, Properties, Trade};
use crate::rng::ChaCha8Rng;

/// SBBA: K trades at a_{K+1} if a_{K+1} ≤ b_K, else K − 1 trades at b_K with a seller lottery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sbba;

impl Mechanism for Sbba {
    fn properties(&self) -> Properties {
        Properties {
            truthful_buyers: true,
            truthful_sellers: true,
            budget: BudgetProperty::Balanced,
        }
    }

    fn clear(&self, book: &OrderBook, _rng: &mut ChaCha8Rng, trades: &mut Vec<Trade>) {
        let k = book.efficient_trades();
        if k == 0 {
            return;
        }
        let b_k = book.bids()[k - 1].price;
        match book.ask(k) {
            Some(a_next) if a_next <= b_k => book.push_pairs(k, trades, |_| (a_next, a_next)),
            _ if k >= 2 => {
                let cheapest = &book.asks()[..k];
                let excluded = cheapest
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, o)| (o.key, o.id))
                    .map_or(0, |(i, _)| i);
                let sellers = cheapest[..excluded].iter().chain(&cheapest[excluded + 1..]);
                trades.extend(
                    book.bids()[..k - 1]
                        .iter()
                        .zip(sellers)
                        .map(|(b, a)| Trade {
                            buyer: b.id,
                            seller: a.id,
                            buyer_pays: b_k,
                            seller_gets: b_k,
                        }),
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::testing::MechanismTester;

    #[test]
    fn trades_at_the_next_ask_when_it_fits() {
        let t = MechanismTester::new(Sbba);
        // K = 4, a_5 = 11 > b_4 = 9: 3 buyers pay 9, 3 of the 4 cheapest sellers get 9.
        let out = t.clear(&[17.0, 14.0, 13.0, 9.0, 6.0], &[1.0, 4.0, 5.0, 8.0, 11.0]);
        assert_eq!(out.prices(), vec![(9.0, 9.0); 3]);
        assert_eq!(out.buyers(), vec![0, 1, 2]);
        assert!(out.sellers().iter().all(|&s| s < 4));
        // K = 1, a_2 = 8 ≤ b_1 = 9: one trade at 8.
        assert_eq!(t.clear(&[9.0, 4.0], &[3.0, 8.0]).prices(), vec![(8.0, 8.0)]);
        // K = 2 (8 ≥ 8), a_3 = 9 > b_2 = 8: one trade at 8.
        assert_eq!(
            t.clear(&[10.0, 8.0, 6.0], &[4.0, 8.0, 9.0]).prices(),
            vec![(8.0, 8.0)]
        );
        // K = 3, a_4 = 20 > 10: two trades at 10.
        assert_eq!(
            t.clear(&[10.0, 10.0, 10.0], &[5.0, 5.0, 5.0, 20.0])
                .prices(),
            vec![(10.0, 10.0); 2]
        );
        // All K trade at a_{K+1} = 6 ≤ b_2 = 7.
        let out = t.clear(&[9.0, 7.0, 1.0], &[2.0, 3.0, 6.0]);
        assert_eq!(out.prices(), vec![(6.0, 6.0); 2]);
        assert_eq!(out.pairs(), vec![(0, 0), (1, 1)]);
    }

    #[test]
    fn missing_next_ask_reduces_and_single_pair_does_not_trade() {
        let t = MechanismTester::new(Sbba);
        assert!(t.clear(&[9.0], &[4.0]).trades.is_empty());
        assert!(t.clear(&[9.0, 8.0], &[4.0]).trades.is_empty());
        assert_eq!(t.clear(&[9.0, 8.0], &[3.0, 4.0]).prices(), vec![(8.0, 8.0)]);
        assert!(t.clear(&[], &[]).trades.is_empty());
        assert!(t.clear(&[1.0], &[]).trades.is_empty());
        assert!(t.clear(&[], &[1.0]).trades.is_empty());
    }

    #[test]
    fn the_seller_lottery_is_uniform_over_the_k_cheapest() {
        let mut excluded = [0u32; 4];
        let n = 4000;
        for seed in 0..n {
            let out = MechanismTester::new(Sbba)
                .seed(seed)
                .clear(&[17.0, 14.0, 13.0, 9.0, 6.0], &[1.0, 4.0, 5.0, 8.0, 11.0]);
            let sellers = out.sellers();
            let missing = (0..4).find(|s| !sellers.contains(s)).unwrap();
            excluded[missing as usize] += 1;
        }
        for c in excluded {
            // Binomial(4000, 1/4): mean 1000, sd ≈ 27; 6 sd either side.
            assert!((840..1160).contains(&c), "{excluded:?}");
        }
    }

    #[test]
    fn passes_the_audit_for_every_stream() {
        MechanismTester::new(Sbba).assert_audit(300);
    }
}
