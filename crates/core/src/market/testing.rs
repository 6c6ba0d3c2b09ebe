//! Test utilities for mechanisms: [`MechanismTester`] clears hand-written markets with a fixed
//! stream, checks every outcome for IR, well-formedness and the claimed budget property, and runs
//! the [`audit`](mod@super::audit) with assertions. Used by each mechanism's unit tests and by the
//! property tests in `crates/core/tests/mechanisms.rs`; it panics on failure, so it is meant for
//! tests only.

use super::audit::{self, AuditConfig, AuditReport};
use super::{budget, market_stream, Mechanism, OrderBook, Trade};
use crate::rng::ChaCha8Rng;

/// Clears markets with one mechanism and one seed, asserting the mechanism's claims.
#[derive(Debug, Clone)]
pub struct MechanismTester<M> {
    mechanism: M,
    seed: u64,
}

/// The outcome of one clearing, with helpers for assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The trades, in the order the mechanism produced them.
    pub trades: Vec<Trade>,
    /// K, the number of efficient trades of the book.
    pub efficient_trades: usize,
}

impl Outcome {
    /// `(buyer_pays, seller_gets)` of each trade.
    pub fn prices(&self) -> Vec<(f64, f64)> {
        self.trades
            .iter()
            .map(|t| (t.buyer_pays, t.seller_gets))
            .collect()
    }

    /// `(buyer, seller)` of each trade.
    pub fn pairs(&self) -> Vec<(u32, u32)> {
        self.trades.iter().map(|t| (t.buyer, t.seller)).collect()
    }

    /// The winning buyers, sorted.
    pub fn buyers(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.trades.iter().map(|t| t.buyer).collect();
        v.sort_unstable();
        v
    }

    /// The winning sellers, sorted.
    pub fn sellers(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.trades.iter().map(|t| t.seller).collect();
        v.sort_unstable();
        v
    }

    /// The budget β.
    pub fn budget(&self) -> f64 {
        budget(&self.trades)
    }
}

impl<M: Mechanism> MechanismTester<M> {
    /// A tester of `mechanism` with seed 0.
    pub fn new(mechanism: M) -> Self {
        Self { mechanism, seed: 0 }
    }

    /// Uses `seed` for the market stream (tie-breaking and randomised rules). By default, 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The mechanism under test.
    pub fn mechanism(&self) -> &M {
        &self.mechanism
    }

    /// The market stream for the current seed ([`market_stream`]).
    pub fn stream(&self) -> ChaCha8Rng {
        market_stream(self.seed)
    }

    /// Clears `bids` vs `asks` and asserts the outcome is well formed, individually rational and
    /// keeps the claimed budget property.
    ///
    /// # Panics
    /// On invalid prices or a broken property, with the market in the message.
    pub fn clear(&self, bids: &[f64], asks: &[f64]) -> Outcome {
        let mut rng = self.stream();
        let book = OrderBook::from_prices(bids, asks, &mut rng).expect("valid test prices");
        let mut trades = Vec::new();
        self.mechanism.clear(&book, &mut rng, &mut trades);
        let name = self.mechanism.name();
        if let Some(m) = audit::ir_violation(bids, asks, &trades) {
            panic!("{name}: {m} on bids {bids:?} asks {asks:?}: {trades:?}");
        }
        if let Some(m) = audit::budget_violation(self.mechanism.properties().budget, &trades) {
            panic!("{name}: {m} on bids {bids:?} asks {asks:?}: {trades:?}");
        }
        Outcome {
            trades,
            efficient_trades: book.efficient_trades(),
        }
    }

    /// Audits `markets` random markets (seeded with the tester's seed) and asserts that the
    /// mechanism keeps every property it claims. Returns the report for further checks.
    ///
    /// # Panics
    /// If a claimed property is broken, with the example in the message.
    pub fn assert_audit(&self, markets: usize) -> AuditReport {
        let config = AuditConfig {
            markets,
            seed: self.seed,
            ..AuditConfig::default()
        };
        let report = audit::audit(&self.mechanism, &config);
        assert!(
            report.passes(),
            "{} breaks {:?}: {report:#?}",
            report.mechanism,
            report.broken_claims()
        );
        report
    }
}
