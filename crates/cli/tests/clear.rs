//! `iovmarket clear` end to end: outcomes of the worked examples, every mechanism, and bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn clear(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iovmarket"))
        .arg("clear")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    // The binary may exit before reading stdin (a bad flag): a broken pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("stdout is one JSON object")
}

#[test]
fn mcafee_worked_example_on_stdin() {
    let o = clear(
        &["--mechanism", "mcafee"],
        r#"{"bids": [17, 14, 13, 9, 6], "asks": [1, 4, 5, 8, 11]}"#,
    );
    let v = json(&o);
    assert_eq!(v["mechanism"], "mcafee");
    assert_eq!(v["budget"], 0.0);
    let trades = v["trades"].as_array().unwrap();
    assert_eq!(trades.len(), 4);
    for (i, t) in trades.iter().enumerate() {
        assert_eq!(t["buyer"], i);
        assert_eq!(t["seller"], i);
        assert_eq!(t["buyer_pays"], 8.5);
        assert_eq!(t["seller_gets"], 8.5);
    }
}

#[test]
fn indices_refer_to_the_input_order_and_input_file_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("market.json");
    std::fs::write(&path, r#"{"bids": [3, 9, 8], "asks": [4, 3]}"#).unwrap();
    let o = clear(
        &["--mechanism", "mcafee", "--input", path.to_str().unwrap()],
        "",
    );
    let v = json(&o);
    // [9, 8] vs [3, 4]: one trade, buyer 9 (index 1) pays 8, seller 3 (index 1) gets 4.
    assert_eq!(
        v["trades"],
        serde_json::json!([{"buyer": 1, "seller": 1, "buyer_pays": 8.0, "seller_gets": 4.0}])
    );
    assert_eq!(v["budget"], 4.0);
}

#[test]
fn every_mechanism_clears_and_reports_its_budget() {
    let market = r#"{"bids": [17, 14, 13, 9, 6], "asks": [1, 4, 5, 8, 11]}"#;
    for (name, trades, budget) in [
        ("mcafee", 4, 0.0),
        ("trade_reduction", 3, 3.0),
        ("kda", 4, 0.0),
        ("vcg", 4, -4.0),
        ("sbba", 3, 0.0),
        ("second_price", 4, 14.0),
    ] {
        let v = json(&clear(&["--mechanism", name], market));
        assert_eq!(v["mechanism"], name);
        assert_eq!(v["trades"].as_array().unwrap().len(), trades, "{name}");
        assert_eq!(v["budget"], budget, "{name}");
    }
    let v = json(&clear(&["--mechanism", "random", "--seed", "3"], market));
    assert_eq!(v["budget"], 0.0);
    let n = v["trades"].as_array().unwrap().len();
    assert!((3..=5).contains(&n), "{v}");
    let v = json(&clear(&["--mechanism", "kda", "--kda-k", "1"], market));
    assert_eq!(v["trades"][0]["buyer_pays"], 9.0);
}

#[test]
fn same_seed_same_output_and_seeds_matter_for_random() {
    let market = r#"{"bids": [9, 8, 7, 6], "asks": [1, 2, 3, 4]}"#;
    let run = |seed: &str| clear(&["--mechanism", "random", "--seed", seed], market).stdout;
    assert_eq!(run("5"), run("5"));
    let distinct: std::collections::BTreeSet<_> = (0..20).map(|s| run(&s.to_string())).collect();
    assert!(distinct.len() > 1);
}

#[test]
fn empty_and_one_sided_markets() {
    for market in [
        r#"{"bids": [], "asks": []}"#,
        r#"{"bids": [1, 2], "asks": []}"#,
        r#"{"asks": [0], "bids": []}"#,
    ] {
        let v = json(&clear(&["--mechanism", "vcg"], market));
        assert_eq!(v["trades"], serde_json::json!([]));
        assert_eq!(v["budget"], 0.0);
    }
}

#[test]
fn bad_input_is_a_user_error_naming_the_problem() {
    for (market, want) in [
        (r#"{"bids": [1, NaN], "asks": [0]}"#, "bids[1] = NaN"),
        (
            r#"{"bids": [1], "asks": [0, Infinity]}"#,
            "asks[1] = Infinity",
        ),
        (r#"{"bids": [1e999], "asks": []}"#, "bids[0] = 1e999"),
        (
            r#"{"bids": [1, -2], "asks": []}"#,
            "bids[1] = -2: must be >= 0",
        ),
        (
            r#"{"bids": [1], "asks": ["0.5"]}"#,
            "asks[0]: expected a number",
        ),
        (
            r#"{"bids": [true], "asks": []}"#,
            "bids[0]: expected a number",
        ),
        (r#"{"bids": [1]}"#, "missing field `asks`"),
        (r#"{"asks": [1]}"#, "missing field `bids`"),
        (
            r#"{"bids": [], "asks": [], "extra": 0}"#,
            "unknown field `extra`",
        ),
        (r#"{"bids": {}, "asks": []}"#, "`bids`: expected an array"),
        (r#"{"bids": [1, 2"#, "malformed JSON"),
        ("not json", "malformed JSON"),
        ("", "malformed JSON"),
        ("[]", "expected a JSON object"),
    ] {
        let o = clear(&["--mechanism", "mcafee"], market);
        assert_eq!(o.status.code(), Some(2), "{market}");
        assert!(o.stdout.is_empty(), "{market}: stdout not empty");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{market}: {err}");
    }
}

#[test]
fn unknown_mechanism_and_bad_k_are_user_errors() {
    let o = clear(&["--mechanism", "dutch"], r#"{"bids": [], "asks": []}"#);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("dutch") && err.contains("sbba"), "{err}");
    let o = clear(
        &["--mechanism", "kda", "--kda-k", "2"],
        r#"{"bids": [], "asks": []}"#,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("kda_k"));
    let o = clear(
        &[
            "--mechanism",
            "mcafee",
            "--input",
            "/nonexistent/market.json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/market.json"));
}
