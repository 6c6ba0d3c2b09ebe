//! Mean episode reward of fixed bidders on the paper scenario (a development aid).

use iovmarket::agents::{Bidder, RandomBidder, ShadedBidder, TruthfulBidder};
use iovmarket::env::IovEnv;
use iovmarket::simulation::{episode_seed, run_episode};

fn main() {
    let s = iovmarket::Scenario::paper();
    let mut env = IovEnv::new(s).unwrap();
    let bidders: Vec<Box<dyn Bidder>> = vec![
        Box::new(TruthfulBidder),
        Box::new(RandomBidder),
        Box::new(ShadedBidder(0.0)),
        Box::new(ShadedBidder(0.5)),
        Box::new(ShadedBidder(0.8)),
    ];
    for mut b in bidders {
        let eps: Vec<_> = (0..16)
            .map(|e| run_episode(&mut env, b.as_mut(), e, episode_seed(0, e), |_, _| {}).unwrap())
            .collect();
        let m = |f: &dyn Fn(&iovmarket::metrics::EpisodeMetrics) -> f64| {
            eps.iter().map(f).sum::<f64>() / eps.len() as f64
        };
        println!(
            "{:<12} reward {:>9.3} gains {:>8.3} budget {:>7.3} lat {:>8.3} trades {:>7.1}",
            b.name(),
            m(&|e| e.reward),
            m(&|e| e.welfare_gains),
            m(&|e| e.budget),
            m(&|e| e.latency_ms),
            m(&|e| e.trades as f64)
        );
    }
}
