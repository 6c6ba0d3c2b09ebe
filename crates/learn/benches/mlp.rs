//! The 8→64→64→1 MLP (LayerNorms included) forward + backward + Adam at batch 256 on one core,
//! the figure DESIGN.md §3 compares GEMM backends and frameworks on.
//!
//! The network is 64 wide with ReLU, so it runs on the fused kernels (`nn::fused`), on the
//! instruction set picked at run time (`IOVMARKET_ISA=portable` forces the portable path); the
//! figures are labelled with that instruction set.
#![allow(missing_docs)] // reason: criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use iovmarket_learn::nn::{Activation, Adam, Mlp, MlpCache};
use rand::{Rng, SeedableRng};

fn mlp(c: &mut Criterion) {
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
