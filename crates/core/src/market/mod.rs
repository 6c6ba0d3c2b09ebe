//! Local double-auction markets (M7, DESIGN.md §1.6 and §2).
//!
//! One RSU's market is an [`OrderBook`]: the bids of the vehicles in range, sorted high → low,
//! and the asks of its VMs, sorted low → high, with K = max{i : b_i ≥ a_i} efficient trades. A
//! [`Mechanism`] turns a book into [`Trade`]s: which buyer trades with which seller, what the buyer
//! pays and what the seller receives. Each rule lives in its own file; [`MechanismKind`] is the
//! registry that the config and the CLI dispatch through by name.
//!
//! | name | rule | truthful | budget |
//! |---|---|---|---|
//! | [`mcafee`](McAfee) | K trades at (b_{K+1} + a_{K+1})/2 if it lies in [a_K, b_K], else K − 1 at b_K / a_K | both | β ≥ 0 |
//! | [`trade_reduction`](TradeReduction) | K − 1 trades at b_K / a_K | both | β ≥ 0 |
//! | [`kda`](Kda) | K trades at k·b_K + (1 − k)·a_K | no | β = 0 |
//! | [`vcg`](Vcg) | K trades; buyers pay max(a_K, b_{K+1}), sellers get min(b_K, a_{K+1}) | both | β ≤ 0 |
//! | [`sbba`](Sbba) | K trades at a_{K+1} if a_{K+1} ≤ b_K, else K − 1 at b_K (seller lottery) | both | β = 0 |
//! | [`second_price`](SecondPrice) | K trades; buyers pay max(b_{K+1}, a_K), sellers their ask | buyers | β ≥ 0 |
//! | [`random`](RandomPairing) | random buyers with random affordable sellers at (b + a)/2 | no | β = 0 |
//!
//! [`audit`] checks these claims on random markets; `testing::MechanismTester` (behind the
//! `testing` cargo feature, since it panics) asserts them in tests.
//!
//! ## Invariants
//! - Trades pair the k-th highest bid with the k-th lowest ask.
//! - Ties between equal prices are broken by a seeded random key, never by input position alone,
//!   so the outcome (up to the random stream) does not depend on input order.
//!
//! ## Performance
//! Building a book is one sort per side, O(n log n); every rule is then O(K).

pub mod audit;
mod config;
mod kda;
mod mcafee;
mod random;
mod sbba;
mod second_price;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod trade_reduction;
mod vcg;

pub use config::{MarketConfig, MechanismKind, Named, PowerResample, RawMarketConfig};
pub use kda::Kda;
pub use mcafee::McAfee;
pub use random::RandomPairing;
pub use sbba::Sbba;
pub use second_price::SecondPrice;
pub use trade_reduction::TradeReduction;
pub use vcg::Vcg;

use rand::Rng;

use crate::error::{Error, Result};
use crate::rng::ChaCha8Rng;

/// One order (a bid or an ask) in a book.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Order {
    /// Price offered (bid) or asked (ask).
    pub price: f64,
    /// Index of the order in the caller's input array.
    pub id: u32,
    /// Random tie-breaking key.
    key: u32,
}

/// One executed trade.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trade {
    /// Index of the buyer in the input bids.
    pub buyer: u32,
    /// Index of the seller in the input asks.
    pub seller: u32,
    /// Payment of the buyer.
    pub buyer_pays: f64,
    /// Receipt of the seller.
    pub seller_gets: f64,
}

/// Budget β of a set of trades (4): Σ buyer payments − Σ seller receipts.
pub fn budget(trades: &[Trade]) -> f64 {
    // `Sum` of no f64 is -0.0; adding +0.0 turns it (and only it) into 0.0.
    trades
        .iter()
        .map(|t| t.buyer_pays - t.seller_gets)
        .sum::<f64>()
        + 0.0
}

/// A sorted market: bids high → low, asks low → high, ties in random order.
///
/// Equal prices are ordered by a random `u32` key per order (drawn from the stream in input
/// order, bids first), then by input index. Sorting runs on packed `u128` keys (an
/// order-preserving integer image of the price, the random key, the index): the same order as
/// comparing prices with `f64::total_cmp`, about twice as fast (25 µs instead of 47 µs for 2000
/// random bids; an LSD radix sort measured 36 µs at that size).
#[derive(Debug, Clone, Default)]
pub struct OrderBook {
    bids: Vec<Order>,
    asks: Vec<Order>,
    k: usize,
    /// Sort buffer, kept to avoid allocation.
    packed: Vec<u128>,
}

impl OrderBook {
    /// An empty book; reuse it with [`OrderBook::load`] to avoid allocation.
    pub fn new() -> Self {
        Self::default()
    }

    /// A book of `bids` and `asks` (validated: finite and ≥ 0), ties broken by `rng`.
    ///
    /// # Errors
    /// [`Error::InvalidOrder`] naming the side and index of a NaN, infinite or negative price, or
    /// of the largest price when it times the number of orders overflows an f64.
    pub fn from_prices(bids: &[f64], asks: &[f64], rng: &mut ChaCha8Rng) -> Result<Self> {
        for (side, prices) in [("bids", bids), ("asks", asks)] {
            for (index, &value) in prices.iter().enumerate() {
                if !value.is_finite() {
                    return Err(Error::InvalidOrder {
                        side,
                        index,
                        value,
                        message: "must be a finite number",
                    });
                }
                if value < 0.0 {
                    return Err(Error::InvalidOrder {
                        side,
                        index,
                        value,
                        message: "must be >= 0",
                    });
                }
            }
        }
        // Every payment lies between two input prices and there are at most min(bids, asks)
        // trades, so with max price × order count finite, no price rule's intermediate sum
        // (e.g. McAfee's (b + a) / 2) and no payment total or budget can overflow to ±inf/NaN.
        let orders = bids.len() + asks.len();
        let largest = [("bids", bids), ("asks", asks)]
            .into_iter()
            .flat_map(|(side, prices)| prices.iter().enumerate().map(move |(i, &p)| (side, i, p)))
            .max_by(|a, b| a.2.total_cmp(&b.2));
        if let Some((side, index, value)) = largest {
            if !(value * orders as f64).is_finite() {
                return Err(Error::InvalidOrder {
                    side,
                    index,
                    value,
                    message: "too large: the largest price times the number of orders must stay \
                              below f64::MAX (1.8e308) so that payment sums stay finite",
                });
            }
        }
        let mut book = Self::new();
        book.load(
            bids.iter().enumerate().map(|(i, &p)| (i as u32, p)),
            asks.iter().enumerate().map(|(i, &p)| (i as u32, p)),
            rng,
        );
        Ok(book)
    }

    /// Refills the book from `(id, price)` pairs. Prices must be finite (the env guarantees it;
    /// [`OrderBook::from_prices`] checks it for outside input).
    pub fn load(
        &mut self,
        bids: impl IntoIterator<Item = (u32, f64)>,
        asks: impl IntoIterator<Item = (u32, f64)>,
        rng: &mut ChaCha8Rng,
    ) {
        let packed = &mut self.packed;
        packed.clear();
        // One draw per side, then a key per order hashed from its id: the book consumes the
        // same draws whoever bids, so a bidder joining or sitting out never changes the
        // tie-breaking keys of the others or the draws of the mechanism after it (common random
        // numbers for best-response searches, DESIGN.md §2.2).
        let (bid_base, ask_base): (u64, u64) = (rng.gen(), rng.gen());
        // Bids high → low: the complement of the price key sorts descending.
        packed.extend(
            bids.into_iter()
                .map(|(id, price)| pack(!price_key(price), tie_key(bid_base, id), id)),
        );
        unpack_sorted(packed, &mut self.bids, |k| !k);
        packed.clear();
        packed.extend(
            asks.into_iter()
                .map(|(id, price)| pack(price_key(price), tie_key(ask_base, id), id)),
        );
        unpack_sorted(packed, &mut self.asks, |k| k);
        self.k = self
            .bids
            .iter()
            .zip(&self.asks)
            .take_while(|(b, a)| b.price >= a.price)
            .count();
    }

    /// Bids, highest first.
    pub fn bids(&self) -> &[Order] {
        &self.bids
    }

    /// Asks, lowest first.
    pub fn asks(&self) -> &[Order] {
        &self.asks
    }

    /// K = max{i : b_i ≥ a_i}, the number of efficient trades (ties trade).
    pub fn efficient_trades(&self) -> usize {
        self.k
    }

    /// The i-th highest bid price (0-based), if any.
    pub fn bid(&self, i: usize) -> Option<f64> {
        self.bids.get(i).map(|o| o.price)
    }

    /// The i-th lowest ask price (0-based), if any.
    pub fn ask(&self, i: usize) -> Option<f64> {
        self.asks.get(i).map(|o| o.price)
    }

    /// Appends trades between the top `n` bids and the bottom `n` asks, with the prices given by
    /// `prices(i) -> (buyer_pays, seller_gets)` for the i-th pair.
    pub fn push_pairs(
        &self,
        n: usize,
        trades: &mut Vec<Trade>,
        mut prices: impl FnMut(usize) -> (f64, f64),
    ) {
        trades.extend(
            self.bids[..n]
                .iter()
                .zip(&self.asks[..n])
                .enumerate()
                .map(|(i, (b, a))| {
                    let (buyer_pays, seller_gets) = prices(i);
                    Trade {
                        buyer: b.id,
                        seller: a.id,
                        buyer_pays,
                        seller_gets,
                    }
                }),
        );
    }
}

/// An order-preserving map of prices to integers: `price_key(x) < price_key(y)` exactly when
/// `x.total_cmp(&y)` is `Less`.
#[inline]
fn price_key(price: f64) -> u64 {
    let bits = price.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// The inverse of [`price_key`].
#[inline]
fn price_from_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

/// The tie-breaking key of order `id` on a side whose random base is `base`.
#[inline]
fn tie_key(base: u64, id: u32) -> u32 {
    (crate::rng::splitmix64(base ^ u64::from(id)) >> 32) as u32
}

/// One order as a sort key: price key, then tie-breaking key, then input index.
#[inline]
fn pack(price_key: u64, key: u32, id: u32) -> u128 {
    (price_key as u128) << 64 | (key as u128) << 32 | id as u128
}

/// Sorts `packed` and writes the orders, in that order, to `out`; `side(k)` turns the stored
/// price key back into [`price_key`] form.
#[inline]
fn unpack_sorted(packed: &mut [u128], out: &mut Vec<Order>, side: impl Fn(u64) -> u64) {
    packed.sort_unstable();
    out.clear();
    out.extend(packed.iter().map(|&p| Order {
        price: price_from_key(side((p >> 64) as u64)),
        key: (p >> 32) as u32,
        id: p as u32,
    }));
}

/// What a mechanism promises about its budget β.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetProperty {
    /// β ≥ 0 (weakly budget balanced).
    NonNegative,
    /// β = 0 (strongly budget balanced).
    Balanced,
    /// β ≤ 0 (runs a deficit).
    NonPositive,
}

impl BudgetProperty {
    /// Whether `beta` satisfies the property (with a small tolerance for rounding).
    pub fn holds(self, beta: f64) -> bool {
        const EPS: f64 = 1e-9;
        match self {
            BudgetProperty::NonNegative => beta >= -EPS,
            BudgetProperty::Balanced => beta.abs() <= EPS,
            BudgetProperty::NonPositive => beta <= EPS,
        }
    }
}

/// The properties a mechanism claims, checked by the tests and by `iovmarket audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Properties {
    /// Truthful bidding is a dominant strategy for buyers.
    pub truthful_buyers: bool,
    /// Truthful asking is a dominant strategy for sellers.
    pub truthful_sellers: bool,
    /// The budget property.
    pub budget: BudgetProperty,
}

/// A clearing rule for one market (its registry name comes from [`Named`], generated by the
/// registry in `market/config.rs`).
pub trait Mechanism: Named + Send + Sync + std::fmt::Debug {
    /// The properties this rule claims.
    fn properties(&self) -> Properties;
    /// Appends the trades of `book` to `trades` (which the caller clears). Randomised rules draw
    /// from `rng` only.
    fn clear(&self, book: &OrderBook, rng: &mut ChaCha8Rng, trades: &mut Vec<Trade>);
}

/// The stream of a standalone market (`iovmarket clear --seed`, audits, tests): tie-breaking keys,
/// then the draws of randomised rules.
pub fn market_stream(seed: u64) -> ChaCha8Rng {
    crate::rng::stream(seed, crate::rng::Stream::Market, 0, 0)
}

/// Clears one market given as prices: validates them, builds the book (ties broken by `rng`) and
/// returns the trades, with indices into `bids` and `asks`.
///
/// # Errors
/// [`Error::InvalidOrder`] naming the side and index of a NaN, infinite or negative price.
pub fn clear_prices<M: Mechanism + ?Sized>(
    mechanism: &M,
    bids: &[f64],
    asks: &[f64],
    rng: &mut ChaCha8Rng,
) -> Result<Vec<Trade>> {
    let book = OrderBook::from_prices(bids, asks, rng)?;
    let mut trades = Vec::new();
    mechanism.clear(&book, rng, &mut trades);
    Ok(trades)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Stream};

    #[test]
    fn book_sorts_and_counts_efficient_trades() {
        let mut rng = stream(0, Stream::User, 0, 0);
        let book = OrderBook::from_prices(
            &[6.0, 17.0, 9.0, 14.0, 13.0],
            &[8.0, 1.0, 11.0, 4.0, 5.0],
            &mut rng,
        )
        .unwrap();
        let b: Vec<f64> = book.bids().iter().map(|o| o.price).collect();
        let a: Vec<f64> = book.asks().iter().map(|o| o.price).collect();
        assert_eq!(b, [17.0, 14.0, 13.0, 9.0, 6.0]);
        assert_eq!(a, [1.0, 4.0, 5.0, 8.0, 11.0]);
        assert_eq!(book.efficient_trades(), 4);
        assert_eq!(book.bids()[0].id, 1);
    }

    #[test]
    fn ties_are_broken_by_the_stream_not_by_position() {
        let mut first_ids = std::collections::BTreeSet::new();
        for seed in 0..64 {
            let mut rng = stream(seed, Stream::User, 0, 0);
            let book = OrderBook::from_prices(&[5.0; 4], &[1.0], &mut rng).unwrap();
            first_ids.insert(book.bids()[0].id);
        }
        assert_eq!(
            first_ids.len(),
            4,
            "every tied bidder should sometimes come first"
        );
    }

    #[test]
    fn bad_prices_are_rejected_with_their_index() {
        let mut rng = stream(0, Stream::User, 0, 0);
        let e = OrderBook::from_prices(&[1.0, f64::NAN], &[1.0], &mut rng)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bids[1]"), "{e}");
        let e = OrderBook::from_prices(&[1.0], &[-2.0], &mut rng)
            .unwrap_err()
            .to_string();
        assert!(e.contains("asks[0]"), "{e}");
    }

    #[test]
    fn price_keys_follow_total_order_and_round_trip() {
        let xs = [
            f64::NEG_INFINITY,
            -3.5,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            0.1,
            1.2,
            1e300,
            f64::INFINITY,
        ];
        for (i, &x) in xs.iter().enumerate() {
            assert_eq!(price_from_key(price_key(x)).to_bits(), x.to_bits());
            assert_eq!(price_from_key(!!price_key(x)).to_bits(), x.to_bits());
            for &y in &xs[i + 1..] {
                assert!(price_key(x) < price_key(y), "{x} {y}");
            }
        }
    }

    #[test]
    fn a_bidder_sitting_out_leaves_the_others_keys_and_later_draws_unchanged() {
        let load = |bids: &[(u32, f64)]| {
            let mut rng = stream(3, Stream::User, 0, 0);
            let mut book = OrderBook::new();
            book.load(bids.iter().copied(), [(0, 0.1), (1, 0.1)], &mut rng);
            let next: u64 = rng.gen();
            (book, next)
        };
        let (all, next_all) = load(&[(0, 0.5), (1, 0.5), (2, 0.5), (3, 0.5)]);
        let (without, next_without) = load(&[(0, 0.5), (2, 0.5), (3, 0.5)]);
        let keys = |b: &OrderBook| -> Vec<(u32, u32)> {
            let mut k: Vec<_> = b.bids().iter().map(|o| (o.id, o.key)).collect();
            k.retain(|&(id, _)| id != 1);
            k.sort_unstable();
            k
        };
        assert_eq!(keys(&all), keys(&without));
        assert_eq!(all.asks(), without.asks());
        assert_eq!(next_all, next_without, "the mechanism's draws do not shift");
    }

    #[test]
    fn packed_sort_matches_the_comparison_sort() {
        let mut rng = stream(9, Stream::User, 0, 0);
        for _ in 0..200 {
            let n = rng.gen_range(0..300);
            let prices: Vec<f64> = (0..n)
                .map(|_| match rng.gen_range(0..3) {
                    0 => rng.gen_range(0..6) as f64 * 0.25,
                    1 => rng.gen_range(0.0..1.2),
                    _ => -rng.gen_range(0.0..1.0),
                })
                .collect();
            let mut book = OrderBook::new();
            let mut r1 = stream(5, Stream::User, 1, 0);
            book.load(
                prices.iter().enumerate().map(|(i, &p)| (i as u32, p)),
                prices.iter().enumerate().map(|(i, &p)| (i as u32, p)),
                &mut r1,
            );
            // The reference: keys derived the same way, sorted by comparison.
            let mut r2 = stream(5, Stream::User, 1, 0);
            let (bid_base, ask_base): (u64, u64) = (r2.gen(), r2.gen());
            let side = |base: u64| -> Vec<Order> {
                prices
                    .iter()
                    .enumerate()
                    .map(|(i, &price)| Order {
                        price,
                        id: i as u32,
                        key: tie_key(base, i as u32),
                    })
                    .collect()
            };
            let (mut bids, mut asks) = (side(bid_base), side(ask_base));
            let tie = |a: &Order, b: &Order| a.key.cmp(&b.key).then(a.id.cmp(&b.id));
            bids.sort_by(|a, b| b.price.total_cmp(&a.price).then_with(|| tie(a, b)));
            asks.sort_by(|a, b| a.price.total_cmp(&b.price).then_with(|| tie(a, b)));
            assert_eq!(book.bids(), &bids[..]);
            assert_eq!(book.asks(), &asks[..]);
        }
    }
}
