//! `iovmarket replay` end to end: the paper scenario, a trace, the city preset (window), a trained
//! policy, and bad input. The page itself is driven in Chromium by scripts/browser-tests.sh.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{iovmarket, stderr};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the binary from the repository root (the presets' trace paths are relative to it).
fn iovmarket_at_root(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iovmarket"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("binary runs")
}

/// The recording embedded in a page.
fn data(html: &str) -> serde_json::Value {
    let open = r#"<script type="application/json" id="replay-data">"#;
    let start = html.find(open).expect("data element") + open.len();
    let end = start + html[start..].find("</script>").expect("data ends");
    serde_json::from_str(&html[start..end]).expect("valid JSON")
}

fn vehicles_at_first_slot(d: &serde_json::Value) -> u64 {
    d["frames"]["off"][1].as_u64().unwrap()
}

/// The vehicles `render` draws at slot 1 with the same flags.
fn rendered_vehicles(dir: &Path, args: &[&str]) -> usize {
    let svg = dir.join("slot1.svg");
    let mut all = vec!["render", "--slot", "1", "--out", svg.to_str().unwrap()];
    all.extend_from_slice(args);
    let o = iovmarket_at_root(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read_to_string(svg)
        .unwrap()
        .matches(r#"<circle class="v "#)
        .count()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn paper_episode_is_one_small_self_contained_deterministic_page() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pages/paper.html");
    let o = iovmarket(&["replay", "--seed", "4", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.len() <= 2 << 20, "{} bytes", html.len());
    assert!(html.contains("<title>iovmarket replay: the paper scenario, seed 4</title>"));
    assert!(html.contains(r#"<svg id="map""#));
    assert!(html.contains("window.iovReplay") && html.contains("dataset.ready"));
    assert!(!html.contains("https://") && !html.contains(" src="));
    let d = data(&html);
    assert_eq!(d["slots"], 100);
    assert_eq!(vehicles_at_first_slot(&d), 80);
    assert!(d["subtitle"]
        .as_str()
        .unwrap()
        .contains("mechanism mcafee, bidder truthful"));
    // The per-slot metrics are simulate's, slot for slot.
    let sim = dir.path().join("sim");
    let o = iovmarket(&["simulate", "--seed", "4", "--out", sim.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(sim.join("slots.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for (t, line) in csv.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(
            d["series"]["trades"][t].as_u64().unwrap(),
            f[col("trades")].parse::<u64>().unwrap()
        );
        let reward: f64 = f[col("reward")].parse().unwrap();
        assert!((d["series"]["reward"][t].as_f64().unwrap() - reward).abs() <= 5e-5);
    }
    // Same seed, same bytes; no temporary file left behind.
    let again = dir.path().join("pages/again.html");
    let o = iovmarket(&["replay", "--seed", "4", "--out", again.to_str().unwrap()]);
    assert!(o.status.success());
    assert_eq!(std::fs::read_to_string(&again).unwrap(), html);
    assert_eq!(
        files_in(out.parent().unwrap()),
        ["again.html", "paper.html"]
    );
}

#[test]
fn trace_and_city_draw_the_vehicles_render_draws() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace.html");
    let o = iovmarket_at_root(&[
        "replay",
        "--config",
        "configs/sumo_grid.toml",
        "--slots",
        "20",
        "--mechanism",
        "kda",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = data(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(d["slots"], 20);
    assert!(d["subtitle"].as_str().unwrap().contains("mechanism kda"));
    let drawn = rendered_vehicles(dir.path(), &["--config", "configs/sumo_grid.toml"]);
    assert!(drawn > 0);
    assert_eq!(vehicles_at_first_slot(&d), drawn as u64);

    let window = ["--config", "configs/city.toml", "--window", "0,0,1000,1000"];
    let out = dir.path().join("city.html");
    let mut args = vec!["replay", "--slots", "3", "--out", out.to_str().unwrap()];
    args.extend_from_slice(&window);
    let o = iovmarket_at_root(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = data(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(d["slots"], 3);
    assert_eq!(d["vehicles"], 100_000);
    let drawn = rendered_vehicles(dir.path(), &window);
    assert!(drawn > 500, "{drawn}");
    assert_eq!(vehicles_at_first_slot(&d), drawn as u64);
    // The RSUs whose coverage meets the window, not all 1024.
    let rsus = d["rsu"]["id"].as_array().unwrap().len();
    assert!((9..=25).contains(&rsus), "{rsus}");
    // With a cap, every k-th vehicle by id plus the traders.
    let capped = dir.path().join("capped.html");
    let mut args = vec![
        "replay",
        "--slots",
        "2",
        "--max-vehicles",
        "100",
        "--out",
        capped.to_str().unwrap(),
    ];
    args.extend_from_slice(&window);
    let o = iovmarket_at_root(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = data(&std::fs::read_to_string(&capped).unwrap());
    let every = d["sample_every"].as_u64().unwrap();
    assert_eq!(every, (drawn as u64).div_ceil(100));
    let first = vehicles_at_first_slot(&d);
    let trades_in_view = d["trades"]["off"][1].as_u64().unwrap();
    assert!(first <= 100 + trades_in_view, "{first} drawn");
}

#[test]
fn a_trained_policy_replays_and_bidder_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let small = [
        "--set",
        "scenario.vehicles=10",
        "--set",
        "scenario.episode_slots=12",
        "--set",
        "train.n_envs=2",
        "--set",
        "train.ppo_epochs=2",
    ];
    let mut args = vec!["train", "--epochs", "1", "--out", run.to_str().unwrap()];
    args.extend_from_slice(&small);
    let o = iovmarket(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let ckpt = run.join("checkpoint.ckpt");
    let out = dir.path().join("learned.html");
    let mut args = vec![
        "replay",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(&small);
    let o = iovmarket(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = data(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(d["slots"], 12);
    assert!(d["subtitle"].as_str().unwrap().contains("bidder learned"));
    // A learned policy does not bid truthfully: some bid differs from its valuation.
    let shade = d["frames"]["shade"].as_array().unwrap();
    assert!(!shade.is_empty() && shade.iter().any(|s| s != 0));

    let bad = |extra: &[&str], needle: &str| {
        let out = dir.path().join("bad.html");
        let mut args = vec!["replay", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.extend_from_slice(&small);
        let o = iovmarket(&args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{extra:?}: {}", stderr(&o));
        assert!(!out.exists());
    };
    bad(
        &[
            "--bidder",
            "truthful",
            "--checkpoint",
            ckpt.to_str().unwrap(),
        ],
        "--checkpoint",
    );
    bad(&["--bidder", "learned"], "--checkpoint");
    // A policy trained on 4 RSUs cannot read the observations of 9.
    bad(
        &[
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--set",
            "scenario.rsus=9",
        ],
        "error",
    );
}

#[test]
fn bad_input_exits_2_with_one_line_and_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.html");
    let out_s = out.to_str().unwrap();
    let cases: [(&[&str], &str); 8] = [
        (&["--mechanism", "dutch"], "market.mechanism"),
        (&["--bidder", "psychic"], "agents.bidder"),
        (&["--slots", "0"], "--slots"),
        (&["--slots", "101"], "--slots"),
        (&["--max-vehicles", "0"], "--max-vehicles"),
        (&["--window", "0,0,5"], "--window"),
        (&["--set", "scenario.vehicles=-3"], "scenario.vehicles"),
        (&["--config", "no/such/file.toml"], "no/such/file.toml"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["replay", "--out", out_s];
        args.extend_from_slice(extra);
        let o = iovmarket(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{extra:?}: {err}");
        assert!(!err.contains("panicked"), "{extra:?}: {err}");
    }
    assert!(files_in(dir.path()).is_empty());
    // Unwritable outputs: a directory, and a path under a regular file.
    let file = dir.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    let under_file = file.join("out.html");
    for target in [dir.path().to_path_buf(), under_file] {
        let o = iovmarket(&["replay", "--slots", "2", "--out", target.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", target.display());
        assert!(err.contains("--out"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert_eq!(files_in(dir.path()), ["plain"]);
}
