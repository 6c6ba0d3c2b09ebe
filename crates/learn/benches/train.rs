//! MAPPO training throughput on the paper scenario (80 IoVs, 4 RSUs, McAfee, 8 envs × 100 slots,
//! 10 PPO epochs, 1 minibatch, hidden 64).
//!
//! - `train/epoch_paper80`: one PPO iteration, rollout + update, all cores (agent-steps/s =
//!   64,000 / time);
//! - `train/update_paper80_1thread`: the update alone on one thread (µs per agent-sample per PPO
//!   epoch = time / (64,000 · 10)), measured from the trainer's own timing of each iteration;
//! - `train/rollout_paper80_1thread`: the rollout alone on one thread.
//!
//! Before the criterion groups, a summary line gives the 1-thread update per sample-epoch with
//! both denominators: trained (active) samples, which is the work done, and nominal samples
//! (all 64,000 agent-slots, which the PyTorch anchor trains on), as medians of 7 epochs.
//! The fused kernels' instruction set can be capped with `IOVMARKET_ISA=portable`.
#![allow(missing_docs)] // reason: criterion_group! generates undocumented items

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iovmarket::env::IovEnv;
use iovmarket::Scenario;
use iovmarket_learn::{TrainConfig, Trainer};

fn trainer(threads: usize) -> Trainer<IovEnv> {
    let threads = [("train.threads".to_string(), threads.to_string())];
    let s = Scenario::from_toml(iovmarket::config::PAPER_TOML, &threads).unwrap();
    let envs = (0..TrainConfig::from_scenario(&s).unwrap().n_envs)
        .map(|_| IovEnv::new(s.clone()).unwrap())
        .collect();
    Trainer::new(&s, envs).unwrap()
}

/// Prints the median 1-thread update time per trained and per nominal sample-epoch.
fn summary(threads: usize) {
    let mut t = trainer(threads);
    t.run_epoch().unwrap();
    let mut runs: Vec<(f64, usize)> = (0..7)
        .map(|_| {
            let s = t.run_epoch().unwrap();
            (s.update_s, s.active_samples)
        })
        .collect();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (update_s, active) = runs[runs.len() / 2];
    let epochs = TrainConfig::from_scenario(&Scenario::paper())
        .unwrap()
        .ppo_epochs as f64;
    let nominal = (8 * 100 * 80) as f64;
    println!(
        "update_paper80 ({threads} thread(s), {:?}): {:.3} s per update; {:.3} µs per trained \
         sample-epoch ({active} active samples); {:.3} µs per nominal sample-epoch ({nominal})",
        iovmarket_learn::nn::simd::Isa::current(),
        update_s,
        update_s * 1e6 / (active as f64 * epochs),
        update_s * 1e6 / (nominal * epochs),
    );
}

fn train(c: &mut Criterion) {
    summary(1);
    summary(2);
    let mut group = c.benchmark_group("train");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(12));
    let steps = 8 * 100 * 80;
    group.throughput(Throughput::Elements(steps));
    let mut t = trainer(0);
    group.bench_function("epoch_paper80", |b| b.iter(|| t.run_epoch().unwrap()));
    // One thread: the per-core cost of the update.
    let mut t = trainer(1);
    group.throughput(Throughput::Elements(steps * 10));
    group.bench_function("update_paper80_1thread", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| Duration::from_secs_f64(t.run_epoch().unwrap().update_s))
                .sum()
        })
    });
    group.throughput(Throughput::Elements(steps));
    group.bench_function("rollout_paper80_1thread", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| Duration::from_secs_f64(t.run_epoch().unwrap().rollout_s))
                .sum()
        })
    });
    group.finish();
}

criterion_group!(benches, train);
criterion_main!(benches);
