//! `iovmarket simulate` end to end: the paper scenario, outputs, and bad input.

use std::path::Path;

mod common;
use common::{iovmarket, stderr, stdout};

#[test]
fn paper_scenario_prints_the_summary_and_writes_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = iovmarket(&[
        "simulate",
        "--episodes",
        "2",
        "--seed",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("80 vehicles, 4 RSUs, mechanism mcafee, bidder truthful"),
        "{text}"
    );
    for row in [
        "reward",
        "welfare (gains from trade)",
        "budget",
        "latency (ms)",
        "trades",
        "dropped requests",
    ] {
        assert!(text.contains(row), "missing {row}: {text}");
    }
    let slots = std::fs::read_to_string(out.join("slots.csv")).unwrap();
    assert_eq!(slots.lines().count(), 1 + 2 * 100);
    let episodes = std::fs::read_to_string(out.join("episodes.csv")).unwrap();
    assert_eq!(episodes.lines().count(), 3);
    let prices = std::fs::read_to_string(out.join("prices.csv")).unwrap();
    assert_eq!(prices.lines().count(), 1 + 2 * 100 * 4);
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["seed"], 5);
    assert_eq!(run["config"]["scenario"]["vehicles"], 80);
    assert!(run["git_revision"].is_string() && run["version"].is_string());
    // No temporary files are left behind (only the lock file of the output directory).
    assert!(std::fs::read_dir(&out).unwrap().all(|e| {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        !name.starts_with('.') || name == ".iovmarket.lock"
    }));
}

#[test]
fn same_seed_same_csv() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let out = dir.path().join(name);
        let o = iovmarket(&[
            "simulate",
            "--bidder",
            "random",
            "--seed",
            "3",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(out.join("slots.csv")).unwrap()
    };
    assert_eq!(run("a"), run("b"));
}

fn assert_user_error(args: &[&str], needle: &str, out: &Path) {
    let o = iovmarket(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains(needle), "{args:?}: expected `{needle}` in: {e}");
    assert_eq!(e.trim_end().lines().count(), 1, "one line on stderr: {e}");
    assert!(
        !e.contains("panicked") && !e.contains("RUST_BACKTRACE"),
        "{e}"
    );
    assert!(!out.exists(), "{args:?} left {}", out.display());
}

#[test]
fn bad_input_is_one_clear_line_and_exit_2_without_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let o = out.to_str().unwrap();
    let bad_sizes = dir.path().join("sizes.csv");
    std::fs::write(&bad_sizes, "120\n340\nlots\n").unwrap();
    let bad_sizes_arg = format!("workload.size_trace={}", bad_sizes.display());
    let missing_arg = format!(
        "workload.size_trace={}",
        dir.path().join("missing.csv").display()
    );
    let bad_config = dir.path().join("bad.toml");
    std::fs::write(&bad_config, "[market]\nmechanizm = \"mcafee\"\n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--set", "market.nope=1"], "market.nope"),
        (vec!["--set", "scenario.vehicles=0"], "scenario.vehicles"),
        (vec!["--set", "scenario.rsus=-2"], "scenario.rsus"),
        (
            vec!["--set", "workload.request_prob=1.5"],
            "workload.request_prob",
        ),
        (
            vec!["--set", "mobility.turn_prob=-0.1"],
            "mobility.turn_prob",
        ),
        (vec!["--set", &bad_sizes_arg], "sizes.csv:3"),
        (vec!["--set", &missing_arg], "missing.csv"),
        (vec!["--config", bad_config.to_str().unwrap()], "mechanizm"),
        (vec!["--config", "/nonexistent/config.toml"], "config.toml"),
        (vec!["--mechanism", "dutch"], "dutch"),
        (vec!["--bidder", "shaded:abc"], "agents.bidder"),
        (vec!["--episodes", "0"], "--episodes"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["simulate", "--out", o];
        args.extend(extra);
        assert_user_error(&args, needle, &out);
    }
}

/// A CSV of numbers as one map per row, column name → value.
fn read_numeric_csv(path: &Path) -> Vec<std::collections::BTreeMap<String, f64>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| {
                    let x: f64 = v.parse().unwrap_or_else(|_| panic!("{h} = {v}"));
                    (h.to_string(), x)
                })
                .collect()
        })
        .collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn csv_values_and_the_summary_agree_with_an_independent_computation() {
    // Issue 15: the CSV tests counted lines only, and the summary table was never compared with
    // episodes.csv. Here every episode total is recomputed from slots.csv, and every summary
    // number from episodes.csv (mean, 95 % CI = 1.96 s / √n, per slot = mean / slots).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = iovmarket(&[
        "simulate",
        "--episodes",
        "4",
        "--seed",
        "9",
        "--bidder",
        "random",
        "--set",
        "scenario.vehicles=30",
        "--set",
        "scenario.episode_slots=25",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let slots = read_numeric_csv(&out.join("slots.csv"));
    let episodes = read_numeric_csv(&out.join("episodes.csv"));
    let prices = read_numeric_csv(&out.join("prices.csv"));
    assert_eq!((slots.len(), episodes.len(), prices.len()), (100, 4, 400));
    let summed = [
        "reward",
        "welfare",
        "welfare_gains",
        "welfare_participants",
        "welfare_paper_eq1",
        "budget",
        "latency_ms",
        "trades",
        "buyers",
        "dropped",
        "ir_violations",
    ];
    for (e, ep) in episodes.iter().enumerate() {
        assert_eq!(ep["episode"], e as f64);
        let rows: Vec<_> = slots.iter().filter(|s| s["episode"] == e as f64).collect();
        assert_eq!(rows.len(), 25);
        assert_eq!(ep["slots"], 25.0);
        for col in summed {
            let total: f64 = rows.iter().map(|s| s[col]).sum();
            assert!(
                close(total, ep[col], 1e-9),
                "episode {e} {col}: slots sum to {total}, episodes.csv says {}",
                ep[col]
            );
        }
        // Each slot: trades ≤ bidding buyers; the configured welfare is gains from trade;
        // the reward is welfare minus non-negative penalties.
        for s in &rows {
            assert!(s["trades"] <= s["buyers"], "{s:?}");
            assert_eq!(s["welfare"], s["welfare_gains"], "{s:?}");
            assert!(s["reward"] <= s["welfare"] + 1e-12, "{s:?}");
        }
    }
    for p in &prices {
        assert!((0.0..=1.2).contains(&p["clearing_price"]), "{p:?}");
    }
    // The summary table on stdout against episodes.csv.
    let text = stdout(&o);
    let n = episodes.len() as f64;
    for (name, col) in [
        ("reward", "reward"),
        ("welfare (gains from trade)", "welfare_gains"),
        ("welfare (participants' utility)", "welfare_participants"),
        ("welfare (paper eq. 1)", "welfare_paper_eq1"),
        ("budget", "budget"),
        ("latency (ms)", "latency_ms"),
        ("trades", "trades"),
        ("bidding buyers", "buyers"),
        ("dropped requests", "dropped"),
        ("IR violations", "ir_violations"),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with("  "))
            .unwrap_or_else(|| panic!("no row {name}: {text}"));
        let nums: Vec<f64> = line[name.len()..]
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        let xs: Vec<f64> = episodes.iter().map(|e| e[col]).collect();
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let ci = 1.96 * sd / n.sqrt();
        assert!(
            (nums[0] - mean).abs() <= 5e-5,
            "{name}: {line} vs mean {mean}"
        );
        assert!((nums[1] - ci).abs() <= 5e-5, "{name}: {line} vs CI {ci}");
        assert!(
            (nums[2] - mean / 25.0).abs() <= 5e-6,
            "{name}: {line} vs {}",
            mean / 25.0
        );
    }
}
