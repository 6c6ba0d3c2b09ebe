//! Same scenario and seed on 1 and 2 rayon threads → bit-identical slots (DESIGN.md §3), on a
//! population large enough to take every parallel path (per-vehicle chunks, per-RSU markets).

use iovmarket::agents::TruthfulBidder;
use iovmarket::config::Scenario;
use iovmarket::env::{IovEnv, MultiAgentEnv};
use iovmarket::par::CHUNK;

/// 12 000 vehicles (3 chunks of random streams) and 100 RSUs at the city's density.
fn scenario() -> Scenario {
    let text = include_str!("../../../configs/city.toml");
    let overrides = [
        ("scenario.vehicles", "12000"),
        ("scenario.rsus", "100"),
        ("scenario.area_m", "3125.0"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    Scenario::from_toml(text, &overrides).unwrap()
}

/// Every slot's metrics (as exact text) and the final positions, serving RSUs and trades.
fn run(threads: usize, seed: u64, slots: usize) -> (Vec<String>, String) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut env = IovEnv::new(scenario()).unwrap();
        env.reset(seed).unwrap();
        let mut actions = Vec::new();
        let mut slots_out = Vec::new();
        for _ in 0..slots {
            let o = env.step_with(&mut TruthfulBidder, &mut actions).unwrap();
            assert_eq!(o.metrics.ir_violations, 0);
            slots_out.push(format!("{:?} {:x}", o.metrics, o.reward.to_bits()));
        }
        let p = env.positions();
        let fin = format!(
            "{:?} {:?} {:?} {:?} {:?}",
            p.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            p.y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            env.serving(),
            env.last_trades(),
            env.clearing_prices(),
        );
        (slots_out, fin)
    })
}

#[test]
fn one_and_two_threads_give_bit_identical_slots() {
    let s = scenario();
    assert!(
        iovmarket::par::parallel(s.scenario.vehicles),
        "must take the parallel path"
    );
    assert!(
        s.scenario.vehicles > 2 * CHUNK,
        "must span several random-stream chunks"
    );
    let one = run(1, 11, 6);
    let two = run(2, 11, 6);
    assert_eq!(one.0, two.0);
    assert_eq!(one.1, two.1);
    // The markets do trade, and another seed gives another trajectory.
    assert!(
        one.0.iter().all(|m| !m.contains("trades: 0,")),
        "{:?}",
        one.0[0]
    );
    assert_ne!(run(2, 12, 2).0, two.0[..2]);
}
