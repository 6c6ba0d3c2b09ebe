//! Env step cost: the paper scenario (80 vehicles, 4 RSUs), the city preset (100 000 vehicles,
//! 1024 RSUs) on 1 and 2 threads, and the scaling in vehicles at the city's density.
//!
//! Size regimes (criterion ids):
//! - `env_step/paper80`, `env_step/paper80_observe`: the paper's scenario, one thread.
//! - `env_step/city100k/threads1`, `env_step/city100k/threads2`: `configs/city.toml`.
//! - `env_scale/10k`, `env_scale/100k`: vehicles and RSUs scaled together at the city's density
//!   (area grows with √V), 2 threads.
//! - `env_scale_1m/1m`: one million vehicles over 31.6 km × 31.6 km with 10 201 RSUs (about
//!   240 MB, 40 s); excluded from the default run; run it with
//!   `IOVMARKET_BENCH_1M=1 cargo bench -p iovmarket --bench env_step -- env_scale_1m`.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use iovmarket::agents::TruthfulBidder;
use iovmarket::config::Scenario;
use iovmarket::env::{IovEnv, MultiAgentEnv};
use std::time::Duration;

/// One slot with truthful bids; resets (untimed cost amortised) when the episode ends.
fn slot(env: &mut IovEnv, actions: &mut Vec<f32>, seed: &mut u64) {
    if env.is_done() {
        *seed += 1;
        env.reset(*seed).unwrap();
    }
    env.bidder_actions(&mut TruthfulBidder, actions).unwrap();
    env.step(actions).unwrap();
}

fn city() -> Scenario {
    let text = include_str!("../../../configs/city.toml");
    Scenario::from_toml(text, &[]).unwrap()
}

/// The city's density with `vehicles` vehicles: area and RSU count scale with V.
fn scaled(vehicles: usize) -> Scenario {
    let mut s = city();
    let ratio = vehicles as f64 / 100_000.0;
    let side = (32.0 * ratio.sqrt()).round() as usize;
    s.scenario.vehicles = vehicles;
    s.scenario.rsus = side * side;
    // Keep the RSU spacing at 312.5 m and 250 m blocks.
    s.scenario.area_m = side as f64 * 312.5;
    s.scenario.validate().unwrap();
    s
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn paper(c: &mut Criterion) {
    let mut group = c.benchmark_group("env_step");
    let mut env = IovEnv::new(Scenario::paper()).unwrap();
    env.reset(0).unwrap();
    let mut actions = vec![0.0f32; env.num_agents()];
    let mut seed = 0;
    group.bench_function("paper80", |b| {
        b.iter(|| slot(&mut env, &mut actions, &mut seed))
    });
    let mut obs = vec![0.0f32; env.num_agents() * env.obs_dim()];
    group.bench_function("paper80_observe", |b| {
        b.iter(|| env.observe(&mut obs).unwrap())
    });
    group.finish();
}

fn city100k(c: &mut Criterion) {
    let mut group = c.benchmark_group("env_step");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    for threads in [1, 2] {
        let pool = pool(threads);
        let mut env = IovEnv::new(city()).unwrap();
        pool.install(|| env.reset(0)).unwrap();
        let mut actions = vec![0.0f32; env.num_agents()];
        let mut seed = 0;
        group.bench_function(
            BenchmarkId::new("city100k", format!("threads{threads}")),
            |b| pool.install(|| b.iter(|| slot(&mut env, &mut actions, &mut seed))),
        );
    }
    group.finish();
}

fn scale(c: &mut Criterion) {
    let mut group = c.benchmark_group("env_scale");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let pool = pool(2);
    for (name, v) in [("10k", 10_000), ("100k", 100_000)] {
        let mut env = IovEnv::new(scaled(v)).unwrap();
        pool.install(|| env.reset(0)).unwrap();
        let mut actions = vec![0.0f32; env.num_agents()];
        let mut seed = 0;
        group.bench_function(name, |b| {
            pool.install(|| b.iter(|| slot(&mut env, &mut actions, &mut seed)))
        });
    }
    group.finish();
}

fn scale_1m(c: &mut Criterion) {
    if std::env::var_os("IOVMARKET_BENCH_1M").is_none() {
        return;
    }
    let mut group = c.benchmark_group("env_scale_1m");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    let pool = pool(2);
    let mut env = IovEnv::new(scaled(1_000_000)).unwrap();
    pool.install(|| env.reset(0)).unwrap();
    let mut actions = vec![0.0f32; env.num_agents()];
    let mut seed = 0;
    group.bench_function("1m", |b| {
        pool.install(|| b.iter(|| slot(&mut env, &mut actions, &mut seed)))
    });
    group.finish();
}

criterion_group!(benches, paper, city100k, scale, scale_1m);
criterion_main!(benches);
