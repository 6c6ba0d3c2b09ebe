//! MAPPO training throughput on the paper scenario (80 IoVs, 4 RSUs, McAfee, 8 envs × 100 slots,
//! 10 PPO epochs × 4 minibatches, hidden 64).
//!
//! - `train/epoch_paper80`: one PPO iteration, rollout + update, all cores (agent-steps/s =
//!   64,000 / time);
//! - `train/update_paper80_1thread`: the update alone on one thread (µs per agent-sample per PPO
//!   epoch = time / (64,000 · 10)), measured from the trainer's own timing of each iteration;
//! - `train/rollout_paper80_1thread`: the rollout alone on one thread.
//!
//! Before the criterion groups, a summary line gives the 1-thread update per sample-epoch with
//! both denominators: trained (active) samples, which is the work done, and nominal samples
//! (all 64,000 agent-slots, which the PyTorch anchor trains on), as medians of 7 epochs, then
//! the best of those epochs (less disturbed by other work on a shared machine).
//! The fused kernels' instruction set can be capped with `IOVMARKET_ISA=avx2` or `portable`.
//!
//! A last summary line puts the 1-thread figure against this core's arithmetic limit: the
//! measured peak of fused multiply-adds at the width in use (8 lanes on AVX2, 16 on AVX-512;
//! [`fma_peak`]) and the multiply-adds one trained
//! sample-epoch needs ([`iovmarket_learn::nn::Mlp::macs_per_row`], actor plus its share of the
//! critic). The floor is their quotient, what the update would take if it did nothing but
//! multiply-adds at full speed.
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

/// This core's peak rate of `f32` multiply-adds at the width of the products in use (8-lane
/// AVX2 or 16-lane AVX-512 fused multiply-adds on twelve independent accumulators, enough to
/// hide their latency), as the best of five 0.1-second runs, with the lanes per instruction;
/// `None` without AVX2 + FMA.
#[allow(unsafe_code)] // reason: calling a `#[target_feature]` function after detecting the feature
fn fma_peak() -> Option<(f64, u64)> {
    #[cfg(target_arch = "x86_64")]
    {
        use iovmarket_learn::nn::simd::Isa;
        use std::arch::x86_64::{
            __m256, __m512, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_storeu_ps, _mm512_fmadd_ps,
            _mm512_reduce_add_ps, _mm512_set1_ps,
        };
        #[target_feature(enable = "avx2,fma")]
        fn run8(n: u64, seed: f32) -> f32 {
            let (b, c) = (_mm256_set1_ps(0.999_9), _mm256_set1_ps(1e-4));
            let mut acc: [__m256; 12] = std::array::from_fn(|i| _mm256_set1_ps(seed + i as f32));
            for _ in 0..n {
                for a in &mut acc {
                    *a = _mm256_fmadd_ps(*a, b, c);
                }
            }
            let mut sum = 0.0;
            for a in acc {
                let mut out = [0.0f32; 8];
                // SAFETY: `out` holds 8 values.
                unsafe { _mm256_storeu_ps(out.as_mut_ptr(), a) };
                sum += out.iter().sum::<f32>();
            }
            sum
        }
        #[target_feature(enable = "avx512f")]
        fn run16(n: u64, seed: f32) -> f32 {
            let (b, c) = (_mm512_set1_ps(0.999_9), _mm512_set1_ps(1e-4));
            let mut acc: [__m512; 12] = std::array::from_fn(|i| _mm512_set1_ps(seed + i as f32));
            for _ in 0..n {
                for a in &mut acc {
                    *a = _mm512_fmadd_ps(*a, b, c);
                }
            }
            acc.iter().map(|&a| _mm512_reduce_add_ps(a)).sum()
        }
        let isa = Isa::current();
        if isa < Isa::Avx2 {
            return None;
        }
        let lanes = if isa == Isa::Avx512 { 16 } else { 8 };
        let n = 2_000_000;
        let best = (0..5)
            .map(|_| {
                let start = std::time::Instant::now();
                let (n, seed) = (std::hint::black_box(n), std::hint::black_box(0.5));
                // SAFETY: `Isa::current` found the instruction set.
                std::hint::black_box(unsafe {
                    if lanes == 16 {
                        run16(n, seed)
                    } else {
                        run8(n, seed)
                    }
                });
                start.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        Some(((n * 12 * lanes) as f64 / best, lanes))
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

/// Prints the 1-thread update against the arithmetic floor (see the module docs).
fn roofline(t: &Trainer<IovEnv>, update_s: f64, active: usize, epochs: f64) {
    let Some((peak, lanes)) = fma_peak() else {
        println!("roofline: no AVX2 + FMA on this CPU");
        return;
    };
    let snap = t.snapshot();
    let actor = t.policy().net.macs_per_row() as f64;
    let critic_rows = (8 * 100 * snap.critic.values_per_slot(80)) as f64;
    let critic = snap.critic.net.macs_per_row() as f64 * critic_rows / active as f64;
    let macs = actor + critic;
    let floor = macs / peak * 1e6;
    let got = update_s * 1e6 / (active as f64 * epochs);
    println!(
        "roofline: this core's {lanes}-lane FMA peak {:.1} G multiply-adds/s; {macs:.0} multiply-adds per trained \
         sample-epoch (actor {actor:.0}, critic {critic:.0}) → floor {floor:.3} µs; the update \
         runs at {:.0} % of peak",
        peak / 1e9,
        100.0 * floor / got,
    );
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
    let (best_s, best_active) = runs[0];
    println!(
        "update_paper80 ({threads} thread(s), {:?}): {:.3} s per update; {:.3} µs per trained \
         sample-epoch ({active} active samples); {:.3} µs per nominal sample-epoch ({nominal}); \
         best of the 7 epochs {:.3} µs per trained sample-epoch",
        iovmarket_learn::nn::simd::Isa::current(),
        update_s,
        update_s * 1e6 / (active as f64 * epochs),
        update_s * 1e6 / (nominal * epochs),
        best_s * 1e6 / (best_active as f64 * epochs),
    );
    if threads == 1 {
        roofline(&t, update_s, active, epochs);
    }
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
