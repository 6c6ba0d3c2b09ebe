//! The best-response search against known answers (DESIGN.md §2.2): with `request_ttl = 1` the
//! market is a sequence of one-shot auctions, where truthful bidding is dominant under mcafee,
//! trade_reduction and vcg (ε = 0) but not under kda (ε > 0); and the common random numbers it
//! relies on: a deviation by one agent never shifts another vehicle's request draws, nor any
//! draw of the markets it does not bid in (tie keys, mechanism draws, block fading).

use iovmarket::agents::{Bidder, BidderKind};
use iovmarket::env::{IovEnv, MultiAgentEnv};
use iovmarket::equilibrium::{exploit, ExploitOptions, ExploitReport};
use iovmarket::{Result, Scenario};

fn scenario(mechanism: &str, ttl: u32) -> Scenario {
    Scenario::from_toml(
        "",
        &[
            ("market.mechanism".into(), format!("\"{mechanism}\"")),
            ("workload.request_ttl".into(), ttl.to_string()),
        ],
    )
    .unwrap()
}

fn gap(s: &Scenario, bidder: &str, agents: usize, episodes: usize) -> ExploitReport {
    let kind: BidderKind = bidder.parse().unwrap();
    let make = move |_: &IovEnv| -> Result<Box<dyn Bidder>> { Ok(kind.build().unwrap()) };
    let o = ExploitOptions {
        agents: Some(agents),
        episodes,
        seed: 11,
    };
    exploit(s, &make, &o).unwrap()
}

/// Per slot and vehicle: (pending, size, fresh), where fresh means the vehicle had no request
/// carried over into this slot's arrivals (none pending, or one that has just arrived).
fn request_trace(s: &Scenario, seed: u64, sit_out: Option<usize>) -> Vec<Vec<(bool, u32, bool)>> {
    let mut env = IovEnv::new(s.clone()).unwrap();
    env.reset(seed).unwrap();
    let mut trace = Vec::new();
    loop {
        let r = env.requests();
        trace.push(
            (0..env.num_agents())
                .map(|v| {
                    let fresh = !r.pending[v] || r.waited[v] == 0;
                    (r.pending[v], r.size[v], fresh)
                })
                .collect(),
        );
        let mut bids = env.requests().value.clone();
        if let Some(v) = sit_out {
            bids[v] = 0.0;
        }
        if env.step_bids(&bids).unwrap().truncated {
            return trace;
        }
    }
}

#[test]
fn a_deviation_leaves_every_other_vehicles_request_draws_unchanged() {
    for ttl in [1, 5] {
        let s = scenario("mcafee", ttl);
        let base = request_trace(&s, 4, None);
        let mut compared = 0;
        let mut differing_histories = 0;
        for deviator in [0, 17, 42] {
            let dev = request_trace(&s, 4, Some(deviator));
            for (a, b) in base.iter().zip(&dev) {
                for (v, (x, y)) in a.iter().zip(b).enumerate() {
                    if v == deviator {
                        continue;
                    }
                    differing_histories += (x != y) as usize;
                    // Where both runs drew an arrival for v, it must be the same arrival.
                    if x.2 && y.2 {
                        assert_eq!((x.0, x.1), (y.0, y.1), "ttl {ttl}, vehicle {v}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 5_000, "{compared}");
        if ttl == 1 {
            assert_eq!(
                differing_histories, 0,
                "one-shot markets: nothing carries over"
            );
        } else {
            // With TTL 5 the deviation does change who stays pending, so the check above had
            // something to guard against.
            assert!(differing_histories > 0);
        }
    }
}

/// Every trade of one episode with truthful bids, vehicle `sit_out` bidding 0 throughout, as
/// (slot, trade record), with the RSU serving `sit_out` in each slot.
fn trades(
    s: &Scenario,
    seed: u64,
    sit_out: usize,
    deviate: bool,
) -> Vec<(Vec<iovmarket::metrics::TradeRecord>, u32)> {
    let mut env = IovEnv::new(s.clone()).unwrap();
    env.reset(seed).unwrap();
    let mut out = Vec::new();
    loop {
        let serving = env.serving()[sit_out];
        let mut bids = env.requests().value.clone();
        if deviate {
            bids[sit_out] = 0.0;
        }
        let done = env.step_bids(&bids).unwrap().truncated;
        out.push((env.last_trades().to_vec(), serving));
        if done {
            return out;
        }
    }
}

#[test]
fn a_deviation_leaves_the_markets_it_does_not_bid_in_bit_identical() {
    // One-shot markets: nothing carries over, so every market the deviator is not in must
    // clear exactly as before, down to the block-fading latencies of its trades.
    let s = scenario("kda", 1);
    let mut compared = 0;
    for deviator in [3, 40] {
        let base = trades(&s, 8, deviator, false);
        let dev = trades(&s, 8, deviator, true);
        let mut changed_own_market = false;
        for ((a, r), (b, _)) in base.iter().zip(&dev) {
            let others = |x: &[iovmarket::metrics::TradeRecord]| -> Vec<_> {
                x.iter().filter(|t| t.rsu != *r).copied().collect()
            };
            assert_eq!(others(a), others(b));
            compared += others(a).len();
            changed_own_market |= a != b;
        }
        assert!(changed_own_market, "vehicle {deviator} never mattered");
    }
    assert!(compared > 500, "{compared}");
}

#[test]
fn truthful_bidding_is_an_equilibrium_of_one_shot_truthful_mechanisms() {
    for mechanism in ["mcafee", "trade_reduction", "vcg"] {
        let r = gap(&scenario(mechanism, 1), "truthful", 8, 2);
        assert!(
            r.epsilon_max.abs() < 1e-9,
            "{mechanism}: ε = {} ({:?})",
            r.epsilon_max,
            r.agents
        );
        assert!(r.profile_utility > 0.0, "{mechanism}: the agents trade");
        assert!(r.utility_loss_max < 1e-9);
    }
}

#[test]
fn truthful_bidding_is_not_an_equilibrium_of_kda() {
    let r = gap(&scenario("kda", 1), "truthful", 8, 2);
    assert!(r.epsilon > 1e-3, "ε = {}", r.epsilon);
    assert!(r.agents.iter().any(|a| a.best_deviation != "profile"));
}

#[test]
fn losing_buyers_bid_again_so_truthful_mcafee_is_exploitable_with_ttl_5() {
    // A finding about the paper's repeated market, not a bug: with TTL 5 a buyer that shades
    // and loses bids again later, so shading pays even under McAfee.
    let r = gap(&scenario("mcafee", 5), "truthful", 8, 2);
    assert!(r.epsilon > 1e-3, "ε = {}", r.epsilon);
    let one_shot = gap(&scenario("mcafee", 1), "truthful", 8, 2);
    assert!(r.epsilon > one_shot.epsilon);
}

#[test]
fn random_bids_are_far_from_equilibrium_and_the_search_ignores_the_thread_count() {
    let s = scenario("mcafee", 1);
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| gap(&s, "random", 4, 2))
    };
    let (a, b) = (on(1), on(2));
    assert_eq!(a, b, "bit-identical on 1 and 2 threads");
    assert!(a.epsilon > 0.05, "ε = {}", a.epsilon);
    let t = gap(&s, "truthful", 4, 2);
    assert!(a.epsilon > t.epsilon);
}
