//! `iovmarket audit` end to end: tables, exit codes, and replaying an example with `clear`.

use std::io::Write;
use std::process::{Command, Stdio};

mod common;
use common::{iovmarket, stdout};

#[test]
fn all_mechanisms_keep_their_claims() {
    let o = iovmarket(&["audit", "--mechanism", "all", "--markets", "150"]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    for name in [
        "mcafee",
        "trade_reduction",
        "kda",
        "vcg",
        "sbba",
        "second_price",
        "random",
    ] {
        assert!(
            text.contains(&format!("\n{name}: claims")),
            "{name}: {text}"
        );
    }
    for row in [
        "markets tried",
        "misreports tried",
        "IR violations",
        "budget violations",
        "profitable misreports, buyers",
        "profitable misreports, sellers",
    ] {
        assert_eq!(text.matches(row).count(), 7, "{row}: {text}");
    }
    assert!(
        !text.contains("claim broken") && !text.contains("FAIL"),
        "{text}"
    );
    assert!(text.contains("every mechanism keeps the properties it claims"));
}

#[test]
fn non_truthful_rules_show_expected_misreports() {
    let o = iovmarket(&[
        "audit",
        "--mechanism",
        "kda",
        "--markets",
        "100",
        "--seed",
        "4",
    ]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("(expected: not claimed)"), "{text}");
    assert!(text.contains("example misreport:"), "{text}");
}

/// The example printed for second_price's sellers replays with `clear`: the stated gain is the
/// difference of the seller's utilities under the two outcomes.
#[test]
fn the_example_misreport_replays_with_clear() {
    let o = iovmarket(&["audit", "--mechanism", "second_price", "--markets", "100"]);
    let text = stdout(&o);
    let line = text
        .lines()
        .find(|l| l.contains("example misreport:"))
        .expect(&text);
    // "  example misreport: seller 3 with true value 0 reports 1.2 and gains 1.200000"
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[2], "seller", "{line}");
    let agent: usize = words[3].parse().unwrap();
    let value: f64 = words[7].parse().unwrap();
    let report: f64 = words[9].parse().unwrap();
    let gain: f64 = words[12].parse().unwrap();
    let replay = text.lines().find(|l| l.contains("replay with")).unwrap();
    let market = &replay[replay.find('{').unwrap()..=replay.find('}').unwrap()];
    let seed = replay
        .rsplit("--seed ")
        .next()
        .unwrap()
        .trim_end_matches('`');
    let utility = |market: &str| -> f64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_iovmarket"))
            .args(["clear", "--mechanism", "second_price", "--seed", seed])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(market.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["trades"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["seller"] == agent)
            .map(|t| t["seller_gets"].as_f64().unwrap() - value)
            .sum()
    };
    let mut m: serde_json::Value = serde_json::from_str(market).unwrap();
    assert_eq!(m["asks"][agent].as_f64().unwrap(), value);
    let honest = utility(market);
    m["asks"][agent] = report.into();
    let lying = utility(&m.to_string());
    assert!(
        (lying - honest - gain).abs() < 1e-6,
        "{honest} {lying} {gain}"
    );
}

#[test]
fn bad_flags_are_user_errors() {
    for args in [
        &["audit", "--mechanism", "nope"][..],
        &["audit", "--mechanism", "all", "--markets", "0"],
        &["audit", "--mechanism", "kda", "--kda-k", "-1"],
    ] {
        let o = iovmarket(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_rule_held_to_a_property_it_lacks_fails_with_exit_1() {
    // The exit-1 path end to end (issue 15): k-DA is not truthful (buyers shade, sellers inflate),
    // so held to truthfulness it must fail; McAfee, truthful for both sides, must still pass.
    let o = iovmarket(&[
        "audit",
        "--mechanism",
        "kda",
        "--markets",
        "200",
        "--require-truthful",
    ]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("kda: claims not truthful"), "{text}");
    assert!(
        text.contains("held to: truthful for buyers and sellers"),
        "{text}"
    );
    assert!(text.contains("claim broken"), "{text}");
    assert!(
        text.contains("FAIL (buyer truthfulness, seller truthfulness)"),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("FAILED: kda break(s) a claimed property"),
        "{text}"
    );
    let o = iovmarket(&[
        "audit",
        "--mechanism",
        "mcafee",
        "--markets",
        "200",
        "--require-truthful",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}
