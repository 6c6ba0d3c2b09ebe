//! Property audit of a mechanism on random markets: individual rationality, the budget property,
//! and truthfulness against a grid of misreports (DESIGN.md §2). Pure and deterministic given a
//! seed; `iovmarket audit` prints its [`AuditReport`], and `market::testing` (cargo feature
//! `testing`) asserts on it.
//!
//! ## What is checked
//! For each random market (0–7 bids and 0–7 asks, so empty and one-sided markets occur; prices
//! in [0, `price_max`] on a grid of 13 levels, a grid of 5 levels (many ties and zeros) or
//! continuous, rounded to 0.001 so that examples print exactly):
//! - **Individual rationality and well-formedness** of the truthful outcome: indices in range,
//!   every buyer and seller in at most one trade, finite prices, a winning buyer pays at most its
//!   bid and a winning seller gets at least its ask. Losers appear in no trade, so they pay and
//!   receive nothing by construction of [`Trade`].
//! - **The budget property** the mechanism claims ([`BudgetProperty::holds`]).
//! - **Truthfulness**: for every buyer and every seller, taking its order as its true value v,
//!   every misreport x on the grid (0, `price_max`, v ± 0.01, v ± 0.05·j for j = 1..4, every other
//!   price in the market and those ± 0.001; rounded to 1e-6, within [0, `price_max`], x ≠ v) is
//!   cleared and the
//!   agent's utility (v − payment for a buyer, receipt − v for a seller, 0 without a trade) is
//!   compared with its truthful utility. A gain above 1e-9 is a profitable misreport. Misreports
//!   are checked on both sides for every mechanism; they count as a broken claim only for a side
//!   the mechanism claims truthful.
//!
//! ## Randomised rules: same stream
//! The truthful and every misreported market are cleared with clones of one stream per market:
//! market i of a run with seed s uses [`market_stream`]`(s + i)`, the stream of
//! `iovmarket clear --seed <s + i>`, so every example can be replayed from the command line.
//! Tie-breaking keys are drawn per input position, so each agent keeps its key whatever it
//! reports, and SBBA's lottery is bound to those keys: the comparison is therefore ex post, for
//! every realisation of the stream, which is stronger than comparing expected utilities (a rule
//! that passes it is universally truthful). The random-pairing rule claims nothing and fails it.
//!
//! ## Performance
//! About 15 agents × 50 misreports per market, each a book build and a clear of ≤ 8 orders per
//! side (well under a microsecond); markets are audited in parallel (rayon) and merged in market
//! order, so the report does not depend on the thread count.

use rand::Rng;
use rayon::prelude::*;

use super::{budget, market_stream, BudgetProperty, Mechanism, OrderBook, Properties, Trade};
use crate::rng::{stream, ChaCha8Rng, Stream};

/// Tolerance for IR and gains: rounding in prices such as (b + a)/2 is not a violation.
pub const TOLERANCE: f64 = 1e-9;

/// One market: bids and asks, indexed as in [`Trade`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Market {
    /// The buyers' bids.
    pub bids: Vec<f64>,
    /// The sellers' asks.
    pub asks: Vec<f64>,
}

/// The side of the market an agent is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A buyer (bid).
    Buyer,
    /// A seller (ask).
    Seller,
}

impl Side {
    /// `buyer` or `seller`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buyer => "buyer",
            Side::Seller => "seller",
        }
    }
}

/// Parameters of an audit run.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditConfig {
    /// Random markets to try. By default, 1000.
    pub markets: usize,
    /// Seed of the market generator and of the mechanism streams. By default, 0.
    pub seed: u64,
    /// Largest number of bids, and of asks, in a market. By default, 7.
    pub max_orders: usize,
    /// Prices and misreports lie in [0, `price_max`]. By default, 1.2 (`market.bid_max`).
    pub price_max: f64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            markets: 1000,
            seed: 0,
            max_orders: 7,
            price_max: 1.2,
        }
    }
}

/// A market on which the outcome broke IR, well-formedness or the budget property.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The market (truthful reports).
    pub market: Market,
    /// Seed of the market stream ([`market_stream`]): `iovmarket clear --seed` replays it.
    pub seed: u64,
    /// What went wrong.
    pub message: String,
}

/// A profitable misreport.
#[derive(Debug, Clone, PartialEq)]
pub struct Misreport {
    /// The market (truthful reports).
    pub market: Market,
    /// Seed of the market stream ([`market_stream`]): `iovmarket clear --seed` replays it.
    pub seed: u64,
    /// Side of the deviating agent.
    pub side: Side,
    /// Index of the agent in `market.bids` or `market.asks`.
    pub agent: usize,
    /// Its true value (its order in `market`).
    pub true_value: f64,
    /// The report that pays better.
    pub misreport: f64,
    /// Utility with the misreport minus utility when truthful (> 0).
    pub gain: f64,
}

/// A count with its most telling example (the first; for misreports, the largest gain).
#[derive(Debug, Clone, PartialEq)]
pub struct Tally<T> {
    /// How many were found.
    pub count: usize,
    /// One of them, if any.
    pub example: Option<T>,
}

impl<T> Default for Tally<T> {
    fn default() -> Self {
        Self {
            count: 0,
            example: None,
        }
    }
}

impl<T> Tally<T> {
    fn merge(&mut self, other: Tally<T>, better: impl Fn(&T, &T) -> bool) {
        self.count += other.count;
        if let Some(new) = other.example {
            match &self.example {
                Some(old) if !better(&new, old) => {}
                _ => self.example = Some(new),
            }
        }
    }
}

fn first<T>(_: &T, _: &T) -> bool {
    false
}

fn larger_gain(new: &Misreport, old: &Misreport) -> bool {
    new.gain > old.gain
}

/// What an audit found for one mechanism.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditReport {
    /// Registry name of the mechanism.
    pub mechanism: &'static str,
    /// The properties it claims.
    pub properties: Properties,
    /// Markets tried.
    pub markets: usize,
    /// Misreports tried (both sides).
    pub misreports: usize,
    /// Outcomes breaking individual rationality or well-formedness.
    pub ir_violations: Tally<Violation>,
    /// Outcomes breaking the claimed budget property.
    pub budget_violations: Tally<Violation>,
    /// Profitable buyer misreports.
    pub buyer_misreports: Tally<Misreport>,
    /// Profitable seller misreports.
    pub seller_misreports: Tally<Misreport>,
}

impl AuditReport {
    fn empty(mechanism: &'static str, properties: Properties) -> Self {
        Self {
            mechanism,
            properties,
            markets: 0,
            misreports: 0,
            ir_violations: Tally::default(),
            budget_violations: Tally::default(),
            buyer_misreports: Tally::default(),
            seller_misreports: Tally::default(),
        }
    }

    fn merge(&mut self, other: AuditReport) {
        self.markets += other.markets;
        self.misreports += other.misreports;
        self.ir_violations.merge(other.ir_violations, first);
        self.budget_violations.merge(other.budget_violations, first);
        self.buyer_misreports
            .merge(other.buyer_misreports, larger_gain);
        self.seller_misreports
            .merge(other.seller_misreports, larger_gain);
    }

    /// All profitable misreports, both sides.
    pub fn profitable_misreports(&self) -> usize {
        self.buyer_misreports.count + self.seller_misreports.count
    }

    /// The example misreport with the larger gain, either side.
    pub fn misreport_example(&self) -> Option<&Misreport> {
        match (
            &self.buyer_misreports.example,
            &self.seller_misreports.example,
        ) {
            (Some(b), Some(s)) => Some(if s.gain > b.gain { s } else { b }),
            (b, s) => b.as_ref().or(s.as_ref()),
        }
    }

    /// The claims the audit found broken (empty when the mechanism keeps all it claims):
    /// `individual rationality`, `budget`, `buyer truthfulness`, `seller truthfulness`.
    pub fn broken_claims(&self) -> Vec<&'static str> {
        let mut broken = Vec::new();
        if self.ir_violations.count > 0 {
            broken.push("individual rationality");
        }
        if self.budget_violations.count > 0 {
            broken.push("budget");
        }
        if self.properties.truthful_buyers && self.buyer_misreports.count > 0 {
            broken.push("buyer truthfulness");
        }
        if self.properties.truthful_sellers && self.seller_misreports.count > 0 {
            broken.push("seller truthfulness");
        }
        broken
    }

    /// Whether the mechanism kept every property it claims.
    pub fn passes(&self) -> bool {
        self.broken_claims().is_empty()
    }
}

/// Audits `mechanism` on `config.markets` random markets.
pub fn audit<M: Mechanism + ?Sized>(mechanism: &M, config: &AuditConfig) -> AuditReport {
    let reports: Vec<AuditReport> = (0..config.markets as u64)
        .into_par_iter()
        .map_init(Scratch::default, |scratch, i| {
            let mut gen = stream(config.seed, Stream::User, i, 0);
            let market = random_market(&mut gen, config.max_orders, config.price_max);
            let seed = config.seed.wrapping_add(i);
            audit_market(mechanism, &market, seed, config.price_max, scratch)
        })
        .collect();
    let mut total = AuditReport::empty(mechanism.name(), mechanism.properties());
    for r in reports {
        total.merge(r);
    }
    total
}

/// Reusable buffers of an audit.
#[derive(Debug, Default)]
pub struct Scratch {
    book: OrderBook,
    trades: Vec<Trade>,
    prices: Vec<f64>,
    grid: Vec<f64>,
}

/// Audits one market: IR and budget of the truthful outcome, then every misreport on the grid,
/// every run with a clone of [`market_stream`]`(seed)`.
pub fn audit_market<M: Mechanism + ?Sized>(
    mechanism: &M,
    market: &Market,
    seed: u64,
    price_max: f64,
    scratch: &mut Scratch,
) -> AuditReport {
    let rng = &market_stream(seed);
    let mut report = AuditReport::empty(mechanism.name(), mechanism.properties());
    report.markets = 1;
    let violation = |message: String| Violation {
        market: market.clone(),
        seed,
        message,
    };

    run(mechanism, &market.bids, &market.asks, rng, scratch);
    let truthful = std::mem::take(&mut scratch.trades);
    if let Some(message) = ir_violation(&market.bids, &market.asks, &truthful) {
        report.ir_violations = Tally {
            count: 1,
            example: Some(violation(message)),
        };
    }
    if let Some(message) = budget_violation(mechanism.properties().budget, &truthful) {
        report.budget_violations = Tally {
            count: 1,
            example: Some(violation(message)),
        };
    }

    let mut prices = std::mem::take(&mut scratch.prices);
    let mut grid = std::mem::take(&mut scratch.grid);
    for side in [Side::Buyer, Side::Seller] {
        let own = match side {
            Side::Buyer => &market.bids,
            Side::Seller => &market.asks,
        };
        for (agent, &value) in own.iter().enumerate() {
            let honest = utility(side, agent, value, &truthful);
            misreport_grid(value, market, price_max, &mut grid);
            for &x in &grid {
                prices.clear();
                prices.extend_from_slice(own);
                prices[agent] = x;
                match side {
                    Side::Buyer => run(mechanism, &prices, &market.asks, rng, scratch),
                    Side::Seller => run(mechanism, &market.bids, &prices, rng, scratch),
                }
                report.misreports += 1;
                let gain = utility(side, agent, value, &scratch.trades) - honest;
                if gain > TOLERANCE {
                    let tally = match side {
                        Side::Buyer => &mut report.buyer_misreports,
                        Side::Seller => &mut report.seller_misreports,
                    };
                    tally.count += 1;
                    if tally.example.as_ref().is_none_or(|e| gain > e.gain) {
                        tally.example = Some(Misreport {
                            market: market.clone(),
                            seed,
                            side,
                            agent,
                            true_value: value,
                            misreport: x,
                            gain,
                        });
                    }
                }
            }
        }
    }
    scratch.prices = prices;
    scratch.grid = grid;
    scratch.trades = truthful;
    report
}

/// Clears `bids` vs `asks` into `scratch.trades` with a clone of `rng`.
fn run<M: Mechanism + ?Sized>(
    mechanism: &M,
    bids: &[f64],
    asks: &[f64],
    rng: &ChaCha8Rng,
    scratch: &mut Scratch,
) {
    let mut rng = rng.clone();
    scratch.book.load(
        bids.iter().enumerate().map(|(i, &p)| (i as u32, p)),
        asks.iter().enumerate().map(|(i, &p)| (i as u32, p)),
        &mut rng,
    );
    scratch.trades.clear();
    mechanism.clear(&scratch.book, &mut rng, &mut scratch.trades);
}

/// A random market: 0..=`max_orders` bids and asks, prices in [0, `price_max`] on a grid of 13
/// levels, a coarse grid of 5 levels (many ties and zeros) or continuous, one style per market,
/// all rounded to 0.001.
pub fn random_market(rng: &mut ChaCha8Rng, max_orders: usize, price_max: f64) -> Market {
    let n_bids = rng.gen_range(0..=max_orders);
    let n_asks = rng.gen_range(0..=max_orders);
    let style = rng.gen_range(0..3u8);
    let price = |rng: &mut ChaCha8Rng| match style {
        0 => (rng.gen_range(0..=12u32) as f64 / 12.0) * price_max,
        1 => (rng.gen_range(0..=4u32) as f64 / 4.0) * price_max,
        _ => rng.gen_range(0.0..price_max),
    };
    let bids = (0..n_bids).map(|_| round_to(price(rng), 1e3)).collect();
    let asks = (0..n_asks).map(|_| round_to(price(rng), 1e3)).collect();
    Market { bids, asks }
}

/// The misreports tried for an agent with true value `value` (see the module docs), into `grid`.
pub fn misreport_grid(value: f64, market: &Market, price_max: f64, grid: &mut Vec<f64>) {
    grid.clear();
    grid.extend([0.0, price_max, value - 0.01, value + 0.01]);
    for j in 1..=4 {
        let d = 0.05 * j as f64;
        grid.extend([value - d, value + d]);
    }
    for &p in market.bids.iter().chain(&market.asks) {
        grid.extend([p, p - 0.001, p + 0.001]);
    }
    for x in grid.iter_mut() {
        *x = round_to(*x, 1e6);
    }
    grid.retain(|&x| (0.0..=price_max).contains(&x) && x != value);
    grid.sort_unstable_by(f64::total_cmp);
    grid.dedup();
}

/// `x` rounded to a multiple of 1/`scale` (the double nearest to that decimal).
fn round_to(x: f64, scale: f64) -> f64 {
    (x * scale).round() / scale
}

/// The utility of agent `agent` on `side` with true value `value` under `trades`: value − payment
/// for a buyer, receipt − value for a seller, summed over its trades (0 if it does not trade).
pub fn utility(side: Side, agent: usize, value: f64, trades: &[Trade]) -> f64 {
    trades
        .iter()
        .map(|t| match side {
            Side::Buyer if t.buyer as usize == agent => value - t.buyer_pays,
            Side::Seller if t.seller as usize == agent => t.seller_gets - value,
            _ => 0.0,
        })
        .sum()
}

/// The first way in which `trades` is not a well-formed, individually rational outcome of
/// `bids` vs `asks`, if any: an index out of range, a buyer or seller in two trades, a non-finite
/// price, a buyer paying more than its bid or a seller getting less than its ask.
pub fn ir_violation(bids: &[f64], asks: &[f64], trades: &[Trade]) -> Option<String> {
    let mut buyer_seen = vec![false; bids.len()];
    let mut seller_seen = vec![false; asks.len()];
    for (n, t) in trades.iter().enumerate() {
        let (b, s) = (t.buyer as usize, t.seller as usize);
        if b >= bids.len() {
            return Some(format!("trade {n}: buyer {b} out of range"));
        }
        if s >= asks.len() {
            return Some(format!("trade {n}: seller {s} out of range"));
        }
        if std::mem::replace(&mut buyer_seen[b], true) {
            return Some(format!("trade {n}: buyer {b} trades twice"));
        }
        if std::mem::replace(&mut seller_seen[s], true) {
            return Some(format!("trade {n}: seller {s} trades twice"));
        }
        if !t.buyer_pays.is_finite() || !t.seller_gets.is_finite() {
            return Some(format!("trade {n}: non-finite price"));
        }
        if t.buyer_pays > bids[b] + TOLERANCE {
            return Some(format!(
                "trade {n}: buyer {b} pays {} > its bid {}",
                t.buyer_pays, bids[b]
            ));
        }
        if t.seller_gets < asks[s] - TOLERANCE {
            return Some(format!(
                "trade {n}: seller {s} gets {} < its ask {}",
                t.seller_gets, asks[s]
            ));
        }
    }
    None
}

/// A message if the budget of `trades` breaks `property`.
pub fn budget_violation(property: BudgetProperty, trades: &[Trade]) -> Option<String> {
    let beta = budget(trades);
    (!property.holds(beta)).then(|| format!("budget {beta} breaks {property:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::{Kda, McAfee, SecondPrice};

    fn t(buyer: u32, seller: u32, buyer_pays: f64, seller_gets: f64) -> Trade {
        Trade {
            buyer,
            seller,
            buyer_pays,
            seller_gets,
        }
    }

    #[test]
    fn ir_checks_catch_each_kind_of_fault() {
        let (b, a) = ([5.0, 4.0], [1.0, 2.0]);
        assert_eq!(ir_violation(&b, &a, &[t(0, 0, 3.0, 3.0)]), None);
        let bad = [
            (vec![t(2, 0, 1.0, 1.0)], "out of range"),
            (vec![t(0, 0, 3.0, 3.0), t(0, 1, 3.0, 3.0)], "twice"),
            (vec![t(0, 0, 3.0, 3.0), t(1, 0, 3.0, 3.0)], "twice"),
            (vec![t(0, 0, f64::NAN, 3.0)], "non-finite"),
            (vec![t(1, 0, 4.5, 3.0)], "pays"),
            (vec![t(0, 1, 3.0, 1.5)], "gets"),
        ];
        for (trades, what) in bad {
            let m = ir_violation(&b, &a, &trades).unwrap();
            assert!(m.contains(what), "{m}");
        }
    }

    #[test]
    fn budget_and_utility() {
        let trades = [t(0, 1, 3.0, 2.0), t(1, 0, 3.0, 3.5)];
        assert!(budget_violation(BudgetProperty::Balanced, &trades).is_some());
        assert!(budget_violation(BudgetProperty::NonNegative, &trades).is_none());
        assert!(budget_violation(BudgetProperty::NonPositive, &trades).is_some());
        assert_eq!(utility(Side::Buyer, 0, 5.0, &trades), 2.0);
        assert_eq!(utility(Side::Seller, 0, 1.0, &trades), 2.5);
        assert_eq!(utility(Side::Seller, 2, 1.0, &trades), 0.0);
    }

    #[test]
    fn grid_is_sorted_unique_in_range_and_excludes_the_truth() {
        let m = Market {
            bids: vec![0.5, 1.0],
            asks: vec![0.0],
        };
        let mut g = Vec::new();
        misreport_grid(0.5, &m, 1.2, &mut g);
        assert!(g.windows(2).all(|w| w[0] < w[1]));
        assert!(g.iter().all(|&x| (0.0..=1.2).contains(&x) && x != 0.5));
        for x in [0.0, 1.2, 1.0, 0.999, 1.001, 0.001, 0.3, 0.7] {
            assert!(g.iter().any(|&y| (y - x).abs() < 1e-12), "{x} missing");
        }
    }

    #[test]
    fn finds_the_known_kda_deviation_and_none_for_mcafee() {
        // The lone buyer of [0.9] vs [0.4] shades under the k-double auction.
        let m = Market {
            bids: vec![0.9],
            asks: vec![0.4],
        };
        let r = audit_market(&Kda::default(), &m, 0, 1.2, &mut Scratch::default());
        let ex = r.buyer_misreports.example.unwrap();
        assert_eq!((ex.agent, ex.misreport), (0, 0.4));
        assert!((ex.gain - 0.25).abs() < 1e-12);
        let r = audit_market(&McAfee, &m, 0, 1.2, &mut Scratch::default());
        assert_eq!(r.profitable_misreports(), 0);
        assert!(r.passes());
    }

    #[test]
    fn reports_are_reproducible_and_flag_only_claimed_sides() {
        let cfg = AuditConfig {
            markets: 200,
            seed: 3,
            ..AuditConfig::default()
        };
        let a = audit(&SecondPrice, &cfg);
        assert_eq!(a, audit(&SecondPrice, &cfg));
        assert_eq!(a.markets, 200);
        assert!(a.misreports > 1000);
        assert!(a.seller_misreports.count > 0);
        assert!(a.passes(), "{:?}", a.broken_claims());
    }
}
