//! Trains on the paper scenario and prints the curve (a development aid).
//!
//! `cargo run --release -p iovmarket-learn --example quick_train -- 10 [key=value ...]`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let epochs: usize = args.next().map_or(Ok(10), |s| s.parse())?;
    let overrides: Vec<(String, String)> = args
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=value");
            (k.to_string(), v.to_string())
        })
        .collect();
    let scenario = iovmarket::Scenario::from_toml(iovmarket::config::PAPER_TOML, &overrides)?;
    let options = iovmarket_learn::TrainOptions {
        epochs: Some(epochs),
        ..Default::default()
    };
    iovmarket_learn::train(&scenario, &options, |s| {
        println!(
            "{:>3} reward {:>9.3} gains {:>8.3} budget {:>7.3} lat {:>7.3} trades {:>6.1} pl {:>8.4} vl {:>8.4} ent {:>7.4} clip {:.3} ls {:?} act {} {:>9.0} steps/s",
            s.epoch, s.reward, s.welfare_gains, s.budget, s.latency_ms, s.trades, s.policy_loss,
            s.value_loss, s.entropy, s.clip_fraction, s.log_std.map(|x| (x * 1000.0).round() / 1000.0), s.active_samples, s.agent_steps_per_s
        );
    })?;
    Ok(())
}
