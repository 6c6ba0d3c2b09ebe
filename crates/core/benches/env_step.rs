//! Env step cost for the paper scenario (80 vehicles, 4 RSUs, McAfee, truthful bids).
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use iovmarket::agents::{Bidder, TruthfulBidder};
use iovmarket::config::Scenario;
use iovmarket::env::{IovEnv, MultiAgentEnv};

fn env_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("env_step");
    let mut env = IovEnv::new(Scenario::paper()).unwrap();
    env.reset(0).unwrap();
    let mut actions = vec![0.0f32; env.num_agents()];
    let mut seed = 0;
    group.bench_function("paper80", |b| {
        b.iter(|| {
            if env.is_done() {
                seed += 1;
                env.reset(seed).unwrap();
            }
            let mut rng = env.bidder_stream();
            TruthfulBidder.act(&env, &mut rng, &mut actions);
            env.step(&actions).unwrap()
        })
    });
    let mut obs = vec![0.0f32; env.num_agents() * env.obs_dim()];
    group.bench_function("paper80_observe", |b| b.iter(|| env.observe(&mut obs)));
    group.finish();
}

criterion_group!(benches, env_step);
criterion_main!(benches);
