//! Random pairing: a non-strategic baseline that matches random buyers with random sellers.
//!
//! The procedure, over the book (bids high → low, asks low → high, ties in seeded order):
//! 1. The eligible buyers are the bids b ≥ a_1 (no other bid can afford any seller) and the
//!    eligible sellers the asks a ≤ b_1; all others never trade.
//! 2. The eligible buyers are visited in a uniformly random order: a Fisher–Yates shuffle of their
//!    book positions, done lazily (step i swaps position i with one drawn by
//!    `rng.gen_range(i..n)`), so it stops as soon as every eligible seller is matched.
//! 3. The visited buyer, with bid b, is matched with a seller drawn uniformly among the
//!    still-unmatched sellers with ask ≤ b (one `rng.gen_range(0..count)` over them in book
//!    order); if there is none it does not trade and draws nothing.
//! 4. Every pair trades at (b + a) / 2: the buyer pays it and the seller receives it.
//!
//! Trades are listed in the order they were made. How many asks each bid can pay comes from one
//! merge pass over the book; counting and finding the j-th unmatched affordable seller use a
//! Fenwick tree over the eligible asks, so a market costs O(n log m) after the book.
//!
//! Claims: not truthful for either side (the price moves with one's own report), individually
//! rational (a ≤ (a + b)/2 ≤ b), strongly budget balanced (β = 0: one price per pair).
//!
//! Trade count: the trades form a maximal matching of the "b ≥ a" graph (a buyer left without a
//! seller could afford none of the free ones, and later matches only remove sellers), so their
//! number lies between ⌈M/2⌉ and M, where M is the largest number of disjoint pairs with b ≥ a.
//! M ≥ K, and it can be larger: K counts the welfare-maximising trades (the k-th highest bid with
//! the k-th lowest ask), M the most pairs possible. In [17, 14, 13, 9, 6] vs [1, 4, 5, 8, 11],
//! K = 4 but 17–11, 14–8, 13–5, 9–4, 6–1 is 5 compatible pairs, and this rule sometimes makes
//! all five (with less welfare than the K efficient trades). So "random ≤ K trades" does not
//! hold; at least one trade happens whenever K ≥ 1.
//!
//! Edge cases: empty and one-sided markets do not trade and draw nothing. Raising a bid can lose
//! a trade (it changes the buyer's position, hence the draws), so the rule is not monotone.

use rand::Rng;

use super::{BudgetProperty, Mechanism, OrderBook, Properties, Trade};
use crate::rng::ChaCha8Rng;

/// Random pairing of buyers and sellers with b ≥ a, each pair at (b + a) / 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RandomPairing;

impl Mechanism for RandomPairing {
    fn properties(&self) -> Properties {
        Properties {
            truthful_buyers: false,
            truthful_sellers: false,
            budget: BudgetProperty::Balanced,
        }
    }

    fn clear(&self, book: &OrderBook, rng: &mut ChaCha8Rng, trades: &mut Vec<Trade>) {
        let (bids, asks) = (book.bids(), book.asks());
        let (Some(a_1), Some(b_1)) = (book.ask(0), book.bid(0)) else {
            return;
        };
        let bids = &bids[..bids.partition_point(|o| o.price >= a_1)];
        let asks = &asks[..asks.partition_point(|o| o.price <= b_1)];
        // affordable[i]: how many eligible asks bid i can pay. Bids fall and asks rise along the
        // book, so one merge pass computes all of them.
        let mut affordable = Vec::with_capacity(bids.len());
        let mut n = asks.len();
        for b in bids {
            while n > 0 && asks[n - 1].price > b.price {
                n -= 1;
            }
            affordable.push(n);
        }
        let mut order: Vec<u32> = (0..bids.len() as u32).collect();
        let mut free = Fenwick::ones(asks.len());
        let mut unmatched = asks.len();
        for i in 0..order.len() {
            if unmatched == 0 {
                break;
            }
            let j = rng.gen_range(i..order.len());
            order.swap(i, j);
            let b = order[i] as usize;
            let buyer = &bids[b];
            let count = free.prefix(affordable[b]);
            if count == 0 {
                continue;
            }
            let s = free.take(rng.gen_range(0..count));
            unmatched -= 1;
            let seller = &asks[s];
            let p = 0.5 * (buyer.price + seller.price);
            trades.push(Trade {
                buyer: buyer.id,
                seller: seller.id,
                buyer_pays: p,
                seller_gets: p,
            });
        }
    }
}

/// A Fenwick (binary indexed) tree of 0/1 flags: prefix counts and "find the j-th set flag".
struct Fenwick {
    tree: Vec<u32>,
}

impl Fenwick {
    /// `n` flags, all set.
    fn ones(n: usize) -> Self {
        // Node i (1-based) covers the lowbit(i) flags ending at i.
        let tree = (1..=n).map(|i| (i & i.wrapping_neg()) as u32).collect();
        Self { tree }
    }

    /// Number of set flags among the first `n`.
    fn prefix(&self, mut n: usize) -> u32 {
        let mut sum = 0;
        while n > 0 {
            sum += self.tree[n - 1];
            n &= n - 1;
        }
        sum
    }

    /// Clears the `j`-th set flag (0-based among the set ones) and returns its position.
    fn take(&mut self, mut j: u32) -> usize {
        let n = self.tree.len();
        let mut pos = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next - 1] <= j {
                j -= self.tree[next - 1];
                pos = next;
            }
            step >>= 1;
        }
        // `pos` flags precede the wanted one; clear flag `pos` (1-based `pos + 1`).
        let mut i = pos + 1;
        while i <= n {
            self.tree[i - 1] -= 1;
            i += i & i.wrapping_neg();
        }
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::testing::MechanismTester;

    #[test]
    fn fenwick_finds_and_removes_the_jth_flag() {
        let mut f = Fenwick::ones(7);
        assert_eq!(f.prefix(7), 7);
        assert_eq!(f.take(3), 3);
        assert_eq!(f.prefix(7), 6);
        assert_eq!(f.prefix(4), 3);
        assert_eq!(f.take(3), 4);
        assert_eq!(f.take(0), 0);
        assert_eq!(f.take(3), 6);
        assert_eq!(f.prefix(7), 3);
        assert_eq!((f.take(0), f.take(0), f.take(0)), (1, 2, 5));
        assert_eq!(f.prefix(7), 0);
    }

    #[test]
    fn pairs_only_compatible_traders_at_the_midpoint() {
        let mut counts = [0; 6];
        for seed in 0..200 {
            let t = MechanismTester::new(RandomPairing).seed(seed);
            let bids = [17.0, 14.0, 13.0, 9.0, 6.0];
            let asks = [1.0, 4.0, 5.0, 8.0, 11.0];
            let out = t.clear(&bids, &asks);
            // M = 5 > K = 4 (see the module docs): between 3 and 5 trades.
            assert!((3..=5).contains(&out.trades.len()), "{out:?}");
            counts[out.trades.len()] += 1;
            for tr in &out.trades {
                let (b, a) = (bids[tr.buyer as usize], asks[tr.seller as usize]);
                assert!(b >= a);
                assert_eq!(
                    (tr.buyer_pays, tr.seller_gets),
                    ((b + a) / 2.0, (b + a) / 2.0)
                );
            }
            assert_eq!(out.budget(), 0.0);
            // Only one compatible pair: it always trades.
            assert_eq!(
                t.clear(&[9.0, 2.0], &[3.0, 10.0]).prices(),
                vec![(6.0, 6.0)]
            );
            // One seller two buyers: exactly one trade.
            assert_eq!(t.clear(&[9.0, 8.0], &[4.0]).trades.len(), 1);
        }
        assert!(counts[5] > 0, "more than K trades happen: {counts:?}");
        assert!(counts[4] > 0, "{counts:?}");
    }

    #[test]
    fn every_compatible_pair_is_drawn() {
        // Both buyers can afford both sellers: all four pairings of the first trade occur.
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let out = MechanismTester::new(RandomPairing)
                .seed(seed)
                .clear(&[9.0, 8.0], &[3.0, 4.0]);
            assert_eq!(out.trades.len(), 2);
            seen.insert(out.pairs()[0]);
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
    }

    #[test]
    fn empty_and_one_sided_markets_do_not_trade() {
        let t = MechanismTester::new(RandomPairing);
        assert!(t.clear(&[], &[]).trades.is_empty());
        assert!(t.clear(&[1.0], &[]).trades.is_empty());
        assert!(t.clear(&[], &[1.0]).trades.is_empty());
        assert!(t.clear(&[1.0], &[2.0]).trades.is_empty());
    }

    #[test]
    fn is_rational_and_balanced_but_not_truthful() {
        let report = MechanismTester::new(RandomPairing).assert_audit(300);
        assert!(report.buyer_misreports.count > 0 && report.seller_misreports.count > 0);
    }
}
