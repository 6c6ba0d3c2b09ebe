//! Market clearing cost, book building (seeded keys + sort) included: `clear/20x5/<mechanism>`
//! (a paper-sized RSU market) and `clear/2000x500/<mechanism>` (a city-scale one), for every
//! registered mechanism. Bids uniform in [0, 1.2], asks uniform in [0, 1] (DESIGN.md §1.3, §1.6);
//! several markets per size, cycled, so that branch predictors cannot learn one market.
//! `clear/200x50/<mechanism>` sits in between to show the growth (n log n: the book's sort).
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iovmarket::market::{market_stream, Kda, Mechanism, MechanismKind, OrderBook};
use rand::Rng;

fn markets(n_bids: usize, n_asks: usize, count: usize) -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut rng = market_stream(12345);
    (0..count)
        .map(|_| {
            let bids = (0..n_bids).map(|_| rng.gen_range(0.0..1.2)).collect();
            let asks = (0..n_asks).map(|_| rng.gen_range(0.0..1.0)).collect();
            (bids, asks)
        })
        .collect()
}

fn clear(c: &mut Criterion) {
    let mut group = c.benchmark_group("clear");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mechanisms = MechanismKind::all(Kda::default().k).unwrap();
    for (size, n_bids, n_asks, count) in [
        ("20x5", 20, 5, 64),
        ("200x50", 200, 50, 16),
        ("2000x500", 2000, 500, 4),
    ] {
        let markets = markets(n_bids, n_asks, count);
        group.throughput(Throughput::Elements(1));
        for m in &mechanisms {
            let mut book = OrderBook::new();
            let mut trades = Vec::new();
            let mut rng = market_stream(0);
            let mut i = 0;
            group.bench_function(BenchmarkId::new(size, m.name()), |b| {
                b.iter(|| {
                    let (bids, asks) = &markets[i % markets.len()];
                    i += 1;
                    book.load(
                        bids.iter().enumerate().map(|(i, &p)| (i as u32, p)),
                        asks.iter().enumerate().map(|(i, &p)| (i as u32, p)),
                        &mut rng,
                    );
                    trades.clear();
                    m.clear(&book, &mut rng, &mut trades);
                    trades.len()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, clear);
criterion_main!(benches);
