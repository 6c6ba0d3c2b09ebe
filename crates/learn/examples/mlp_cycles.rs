//! Fixed work for `perf stat` (cycles are robust to a loaded machine): 5000 × (8→64→64→1
//! forward + backward + Adam at batch 256). A development aid for comparing GEMM backends.

use iovmarket_learn::nn::{Activation, Adam, Mlp, MlpCache};
use rand::{Rng, SeedableRng};

fn main() {
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
    let t = std::time::Instant::now();
    for _ in 0..5000 {
        net.forward(&params, &x, rows, &mut cache);
        grads.fill(0.0);
        net.backward(&params, &mut cache, &dout, rows, &mut grads);
        adam.step(&mut params, &grads);
    }
    println!(
        "{:.1} µs per iteration (wall)",
        t.elapsed().as_secs_f64() * 1e6 / 5000.0
    );
}
