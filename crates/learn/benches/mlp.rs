//! The 8→64→64→1 MLP (LayerNorms included) forward + backward + Adam at batch 256 on one core,
//! the figure DESIGN.md §3 compares GEMM backends and frameworks on.
//!
//! The network is 64 wide with ReLU, so it runs on the fused kernels (`nn::fused`), on the
//! instruction set picked at run time (`IOVMARKET_ISA=avx2` or `portable` caps it); the
//! figures are labelled with that instruction set.
//!
//! First, a summary line per instruction set the CPU has: forward + backward of the paper's
//! actor (13 → 64 → 64 → 1) at the update's chunk of `CHUNK` = 252 rows, in µs per row, as the
//! best of 10 rounds that alternate the instruction sets in one process (so a noisy machine
//! slows them alike). As in the update, the inputs are normalised once, outside the timed
//! passes (`Mlp::forward_normalized`).
#![allow(missing_docs)] // reason: criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use iovmarket_learn::nn::simd::{self, Isa};
use iovmarket_learn::nn::{Activation, Adam, Mlp, MlpCache};
use iovmarket_learn::trainer::CHUNK;
use rand::{Rng, SeedableRng};

/// Prints the best per-row time of each available instruction set (see the module docs).
fn instruction_sets() {
    let (rows, inputs) = (CHUNK, 13);
    let net = Mlp::new(inputs, &[64, 64], 1, 0, Activation::Relu);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut params = vec![0.0f32; net.len()];
    net.init(&mut params, 1.0, &mut rng);
    let x: Vec<f32> = (0..rows * inputs)
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let dout: Vec<f32> = (0..rows).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let mut cache = MlpCache::new(&net, rows);
    // The update normalises its fixed inputs once per update (`Mlp::forward_normalized`).
    let mut rstd = vec![0.0; rows];
    net.input_norm
        .normalize(&x, rows, cache.normalized_inputs_mut(), &mut rstd);
    let mut grads = vec![0.0f32; net.len()];
    // The portable path is the exact fallback (software FMA where the CPU has none), not a
    // contender: timed only where nothing else runs.
    let mut isas = Isa::available();
    if isas.len() > 1 {
        isas.retain(|&i| i != Isa::Portable);
    }
    let mut best = vec![f64::INFINITY; isas.len()];
    for _ in 0..10 {
        for (b, &isa) in best.iter_mut().zip(&isas) {
            let start = std::time::Instant::now();
            for _ in 0..200 {
                simd::forward(isa, &net, &params, rows, &mut cache);
                simd::backward(isa, &net, &params, &mut cache, &dout, rows, &mut grads);
            }
            *b = b.min(start.elapsed().as_secs_f64() / (200 * rows) as f64);
        }
    }
    for (b, isa) in best.iter().zip(&isas) {
        println!(
            "actor fwd+bwd, {rows} rows, {isa:?}: {:.3} µs per row ({:.1} G multiply-adds/s)",
            b * 1e6,
            net.macs_per_row() as f64 / b / 1e9
        );
    }
}

fn mlp(c: &mut Criterion) {
    instruction_sets();
    let rows = 256;
    let net = Mlp::new(8, &[64, 64], 1, 0, Activation::Relu);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut params = vec![0.0f32; net.len()];
    net.init(&mut params, 1.0, &mut rng);
    let x: Vec<f32> = (0..rows * 8).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let dout: Vec<f32> = (0..rows).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let mut cache = MlpCache::new(&net, rows);
    let mut grads = vec![0.0f32; net.len()];
    let mut adam = Adam::new(net.len(), 1e-4);
    let backend = format!("fused_{:?}", iovmarket_learn::nn::simd::Isa::current()).to_lowercase();
    let mut group = c.benchmark_group("mlp");
    group.bench_function(format!("fwd_bwd_256/{backend}"), |b| {
        b.iter(|| {
            net.forward(&params, &x, rows, &mut cache);
            grads.fill(0.0);
            net.backward(&params, &mut cache, &dout, rows, &mut grads);
            adam.step(&mut params, &grads);
        })
    });
    group.bench_function(format!("fwd_256/{backend}"), |b| {
        b.iter(|| net.forward(&params, &x, rows, &mut cache))
    });
    group.finish();
}

criterion_group!(benches, mlp);
criterion_main!(benches);
