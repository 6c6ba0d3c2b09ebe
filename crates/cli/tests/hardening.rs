//! Regression tests for issue 15 (hardening): wrong input that used to exit 0, misleading
//! messages, and the memory cap.

use std::io::Write;
use std::process::{Command, Output, Stdio};

mod common;
use common::{iovmarket, stderr, stdout};

fn clear(mechanism: &str, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iovmarket"))
        .args(["clear", "--mechanism", mechanism])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

const MECHANISMS: [&str; 7] = [
    "mcafee",
    "trade_reduction",
    "kda",
    "vcg",
    "sbba",
    "second_price",
    "random",
];

#[test]
fn clear_refuses_prices_whose_sums_overflow() {
    // Before: exit 0 with "budget": null (1e308 + 1e308 = inf, inf - inf = NaN).
    for m in MECHANISMS {
        let o = clear(m, r#"{"bids": [1e308, 1.5e308, 1e308], "asks": [0, 0, 1]}"#);
        assert_eq!(o.status.code(), Some(2), "{m}: {}", stdout(&o));
        let e = stderr(&o);
        assert!(e.contains("bids[1] = 1.5e308: too large"), "{m}: {e}");
        assert_eq!(e.lines().count(), 1, "{m}: {e}");
        assert!(stdout(&o).is_empty(), "{m}");
    }
}

#[test]
fn clear_computes_large_but_safe_prices_exactly_and_finitely() {
    // 4 orders × 4e307 < f64::MAX: accepted, and every sum stays finite.
    for m in MECHANISMS {
        let o = clear(m, r#"{"bids": [4e307, 3e307], "asks": [1e307, 0]}"#);
        assert!(o.status.success(), "{m}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(!text.contains("null"), "{m}: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(v["budget"].as_f64().unwrap().is_finite(), "{m}: {text}");
    }
}

#[test]
fn clear_of_an_empty_market_prints_a_positive_zero_budget() {
    for m in MECHANISMS {
        let o = clear(m, r#"{"bids": [], "asks": []}"#);
        assert!(o.status.success(), "{m}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains(r#""budget":0.0"#), "{m}: {text}");
        assert!(!text.contains("-0.0"), "{m}: {text}");
    }
}

#[test]
fn a_negative_huge_price_prints_in_shortest_form() {
    // Before: a 310-digit decimal.
    let o = clear("vcg", r#"{"bids": [-1e308], "asks": []}"#);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("bids[0] = -1e308: must be >= 0"), "{e}");
    assert!(e.len() < 100, "{e}");
}

#[test]
fn a_numeral_beyond_f64_is_named_out_of_range() {
    // Before: `invalid type: string "1e400", expected f64`.
    let o = iovmarket(&["simulate", "--set", "channel.bandwidth_hz=1e400"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("channel.bandwidth_hz"), "{e}");
    assert!(e.contains("1e400 is out of range for f64"), "{e}");
    assert!(!e.contains("invalid type"), "{e}");
}

#[test]
fn an_os_error_on_the_checkpoint_is_printed_once() {
    // A directory where a checkpoint file is expected: the read fails with EISDIR. Before, the
    // message carried the OS error twice (once in the error, once as its source).
    let dir = tempfile::tempdir().unwrap();
    let o = iovmarket(&[
        "simulate",
        "--bidder",
        "learned",
        "--checkpoint",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.matches("(os error 21)").count(), 1, "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn absurd_scenario_sizes_are_refused_before_allocating() {
    // Before: SIGABRT (`memory allocation of … bytes failed`).
    for set in ["scenario.vehicles=1000000000", "scenario.rsus=100000000"] {
        let o = iovmarket(&["simulate", "--set", set]);
        assert_eq!(o.status.code(), Some(2), "{set}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("scenario.max_memory_gb"), "{set}: {e}");
        assert!(
            e.contains("needs about") && e.contains("more than the limit"),
            "{set}: {e}"
        );
        assert_eq!(e.lines().count(), 1, "{set}: {e}");
    }
}

#[test]
fn the_memory_limit_can_be_set_and_large_feasible_runs_still_work() {
    // 100 000 vehicles need about 22 MB; a 10 MB limit refuses them.
    let o = iovmarket(&[
        "simulate",
        "--set",
        "scenario.vehicles=100000",
        "--set",
        "scenario.max_memory_gb=0.01",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("more than the limit of 10.000 MB (scenario.max_memory_gb)"),
        "{e}"
    );
    let o = iovmarket(&[
        "train",
        "--out",
        tempfile::tempdir()
            .unwrap()
            .path()
            .join("t")
            .to_str()
            .unwrap(),
        "--set",
        "scenario.vehicles=100000",
        "--set",
        "scenario.max_memory_gb=1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("training with 100000 vehicles"),
        "{}",
        stderr(&o)
    );
    let o = iovmarket(&[
        "simulate",
        "--set",
        "scenario.vehicles=1000000",
        "--set",
        "scenario.rsus=100",
        "--set",
        "scenario.area_m=10000",
        "--set",
        "scenario.episode_slots=2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("1000000 vehicles"), "{}", stdout(&o));
}
