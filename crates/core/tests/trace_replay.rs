//! Trace replay on the committed SUMO fixture (tests/fixtures/sumo_grid, made by its make.sh).

use std::path::PathBuf;

use iovmarket::agents::TruthfulBidder;
use iovmarket::config::Scenario;
use iovmarket::env::{IovEnv, MultiAgentEnv};
use iovmarket::mobility::{Mobility, Positions, Trace};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/sumo_grid").join(name)
}

fn replay(name: &str, agents: usize, slot_s: f64, slots: u64) -> Vec<Positions> {
    let mut t = Trace::from_path(fixture(name), slot_s, 0.0);
    let mut pos = Positions::new(agents);
    t.reset(0, &mut pos).unwrap();
    let mut out = vec![pos.clone()];
    for s in 1..slots {
        t.step(0, s, &mut pos).unwrap();
        out.push(pos.clone());
    }
    out
}

/// Vehicles per timestep, counted from the XML text.
fn xml_counts() -> Vec<usize> {
    let text = std::fs::read_to_string(fixture("fcd.xml")).unwrap();
    let mut counts = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("<timestep") {
            counts.push(0);
        } else if line.starts_with("<vehicle ") {
            *counts.last_mut().unwrap() += 1;
        }
    }
    counts
}

#[test]
fn sumo_xml_and_csv_outputs_replay_identically() {
    for slot_s in [1.0, 0.5, 2.0] {
        let slots = (80.0 / slot_s) as u64;
        let a = replay("fcd.xml", 40, slot_s, slots);
        let b = replay("fcd.csv", 40, slot_s, slots);
        assert_eq!(a, b, "slot_s = {slot_s}");
    }
}

#[test]
fn sumo_trace_active_counts_match_the_timesteps() {
    let counts = xml_counts();
    assert_eq!(counts.len(), 40, "timesteps every 2 s from 0 to 78 s");
    // With slots of 2 s every slot falls on a timestep: exactly its vehicles are active.
    let p = replay("fcd.xml", 40, 2.0, 42);
    for (k, &c) in counts.iter().enumerate() {
        assert_eq!(
            p[k].active.iter().filter(|&&a| a).count(),
            c,
            "timestep {k}"
        );
    }
    // Past the end of the trace nobody is on the map.
    assert!(p[40].active.iter().all(|&a| !a));
    // Positions lie in the network, movement per slot is a plausible urban speed, and vehicles
    // do enter and leave.
    let q = replay("fcd.xml", 40, 1.0, 79);
    let (mut entered, mut left) = (0, 0);
    for w in q.windows(2) {
        for v in 0..40 {
            if w[1].active[v] {
                assert!((0.0..=1000.0).contains(&w[1].x[v]) && (0.0..=1000.0).contains(&w[1].y[v]));
                assert!(
                    w[1].moved_m[v] <= 30.0,
                    "{} m in one second",
                    w[1].moved_m[v]
                );
            }
            entered += (!w[0].active[v] && w[1].active[v]) as usize;
            left += (w[0].active[v] && !w[1].active[v]) as usize;
        }
    }
    assert!(
        entered >= 30 && left >= 10,
        "entered {entered}, left {left}"
    );
}

#[test]
fn fewer_agents_than_trace_vehicles() {
    // 10 agents for a trace with up to 31 vehicles at once: never more than 10 active, and freed
    // slots are reused.
    let p = replay("fcd.csv", 10, 1.0, 79);
    assert!(p
        .iter()
        .all(|q| q.active.iter().filter(|&&a| a).count() <= 10));
    assert!(p[40].active.iter().all(|&a| a));
}

#[test]
fn the_sumo_grid_preset_runs_an_episode() {
    let text = std::fs::read_to_string(root().join("configs/sumo_grid.toml")).unwrap();
    let trace = fixture("fcd.xml").display().to_string();
    let s = Scenario::from_toml(&text, &[("mobility.trace".into(), format!("{trace:?}"))]).unwrap();
    let mut env = IovEnv::new(s).unwrap();
    env.reset(1).unwrap();
    let (mut actions, mut trades, mut slots) = (Vec::new(), 0, 0);
    loop {
        let o = env.step_with(&mut TruthfulBidder, &mut actions).unwrap();
        assert_eq!(o.metrics.ir_violations, 0);
        trades += o.metrics.trades;
        slots += 1;
        if o.truncated {
            break;
        }
    }
    assert_eq!(slots, 58);
    assert!(trades > 100, "{trades} trades");
}

#[test]
fn a_missing_trace_fails_when_the_env_is_built() {
    let s = Scenario::from_toml(
        "[mobility]\nkind = \"trace\"\ntrace = \"/nonexistent/fcd.xml\"\n",
        &[],
    )
    .unwrap();
    let e = IovEnv::new(s).unwrap_err().to_string();
    assert!(e.contains("/nonexistent/fcd.xml:0: cannot open"), "{e}");
}
