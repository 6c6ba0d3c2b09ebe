//! `iovmarket simulate` end to end: the paper scenario, outputs, and bad input.

use std::path::Path;

mod common;
use common::{iovmarket, stderr};

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
    // No temporary files are left behind.
    assert!(std::fs::read_dir(&out).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with('.')));
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
