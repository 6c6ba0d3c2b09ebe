//! MAPPO with individual rewards recovers a known dominant strategy (DESIGN.md §2.2), as
//! bnelearn validates its learners: with `request_ttl = 1` each slot is a one-shot McAfee
//! auction, where bidding the valuation is dominant. Started far from it (absolute bids: the
//! initial policy bids about 0.6 whatever the valuation, over three times the valuation
//! among the buyers that trade), the selfish learners end up bidding their valuations, and the
//! profile they learn is much closer to an equilibrium than random bidding.

use iovmarket::agents::{Bidder, BidderKind};
use iovmarket::env::IovEnv;
use iovmarket::equilibrium::{exploit, ExploitOptions, ExploitReport};
use iovmarket::Scenario;
use iovmarket_learn::{train, LearnedBidder, Policy, TrainOptions};

/// 20 IoVs, one-shot McAfee markets, selfish rewards, absolute bids; MAPPO otherwise as the
/// paper's. Seed and budget measured (mean bid/value over trades, 3 sampled agents, 1 episode):
/// seed 1 gives 1.036, 1.045, 1.056, 1.019 at 12, 16, 20, 24 epochs; seeds 2 and 3 stay within
/// 1.03–1.10 over the same budgets. The learners overbid slightly, which McAfee rarely punishes.
fn scenario() -> Scenario {
    let o = [
        ("scenario.vehicles", "20"),
        ("scenario.seed", "1"),
        ("workload.request_ttl", "1"),
        ("market.mechanism", "\"mcafee\""),
        ("reward.kind", "\"individual\""),
        ("agents.action", "\"absolute\""),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    Scenario::from_toml("", &o).unwrap()
}

const EPOCHS: usize = 12;

fn gap(
    s: &Scenario,
    make: &(dyn Fn(&IovEnv) -> iovmarket::Result<Box<dyn Bidder>> + Sync),
) -> ExploitReport {
    let o = ExploitOptions {
        agents: Some(3),
        episodes: 1,
        seed: 99,
    };
    exploit(s, make, &o).unwrap()
}

fn learned(policy: &Policy) -> impl Fn(&IovEnv) -> iovmarket::Result<Box<dyn Bidder>> + Sync + '_ {
    move |env: &IovEnv| {
        LearnedBidder::new(policy.clone(), env)
            .map(|b| Box::new(b) as Box<dyn Bidder>)
            .map_err(|e| iovmarket::Error::config("checkpoint", e.to_string()))
    }
}

#[test]
fn selfish_mappo_learns_truthful_bids_in_one_shot_mcafee_markets() {
    let s = scenario();
    let untrained = train(
        &s,
        &TrainOptions {
            epochs: Some(0),
            ..Default::default()
        },
        |_| {},
    )
    .unwrap()
    .policy;
    let start = gap(&s, &learned(&untrained));
    let ratio0 = start.bid_ratio.unwrap();
    assert!(ratio0 > 1.5, "the initial policy overbids: {ratio0}");

    let trained = train(
        &s,
        &TrainOptions {
            epochs: Some(EPOCHS),
            ..Default::default()
        },
        |_| {},
    )
    .unwrap()
    .policy;
    let end = gap(&s, &learned(&trained));
    let ratio = end.bid_ratio.unwrap();
    assert!(
        (ratio - 1.0).abs() < 0.1,
        "mean bid/value over trades {ratio}"
    );

    let random = gap(&s, &|_: &IovEnv| Ok(BidderKind::Random.build().unwrap()));
    assert!(
        end.epsilon < random.epsilon / 10.0,
        "learned ε {} vs random ε {}",
        end.epsilon,
        random.epsilon
    );
    assert!(end.epsilon < start.epsilon / 10.0);
    eprintln!(
        "bid/value {ratio0:.3} -> {ratio:.3}; ε {:.4} -> {:.4} (random {:.4})",
        start.epsilon, end.epsilon, random.epsilon
    );
}
