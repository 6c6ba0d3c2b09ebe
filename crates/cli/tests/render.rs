//! `iovmarket render` end to end: the paper scenario, a trace replay, a large population, and bad
//! input.

use std::path::{Path, PathBuf};

mod common;
use common::{iovmarket, stderr};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vehicles_drawn(svg: &str) -> usize {
    svg.matches(r#"<circle class="v "#).count()
}

#[test]
fn paper_map_has_every_vehicle_rsu_and_road() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("maps/paper.svg");
    let o = iovmarket(&[
        "render",
        "--slot",
        "5",
        "--seed",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("slot 5 of the paper scenario, seed 2"));
    // The paper's coverage reaches everywhere: all 80 vehicles are drawn, in RSU colours.
    assert_eq!(vehicles_drawn(&svg), 80);
    assert!(!svg.contains(r#"<circle class="v u""#));
    assert_eq!(svg.matches(r#"<rect class="rsu"#).count(), 4);
    assert_eq!(svg.matches("<polyline").count(), 8);
    assert!(svg.contains("Legend") && svg.contains("200 m"));
    // Same seed, same map; no temporary file left behind.
    let again = dir.path().join("again.svg");
    let o = iovmarket(&[
        "render",
        "--slot",
        "5",
        "--seed",
        "2",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(std::fs::read(&again).unwrap(), svg.as_bytes());
    let names: Vec<String> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["paper.svg"]);
}

#[test]
fn trace_replay_map_draws_only_vehicles_on_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sumo.svg");
    let trace = root().join("tests/fixtures/sumo_grid/fcd.csv");
    let config = root().join("configs/sumo_grid.toml");
    let o = iovmarket(&[
        "render",
        "--config",
        config.to_str().unwrap(),
        "--set",
        &format!("mobility.trace={:?}", trace.display().to_string()),
        "--slot",
        "10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(&out).unwrap();
    let n = vehicles_drawn(&svg);
    // 40 agent slots; at trace time 29 s about 20 vehicles are on the road.
    assert!((10..40).contains(&n), "{n} vehicles drawn");
    assert!(svg.contains(&format!("{n} vehicles on the map")));
    // An FCD trace has no road geometry.
    assert_eq!(svg.matches("<polyline").count(), 0);
}

#[test]
fn large_populations_stay_a_sane_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.svg");
    let o = iovmarket(&[
        "render",
        "--set",
        "scenario.vehicles=20000",
        "--max-vehicles",
        "1000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(vehicles_drawn(&svg) <= 1001);
    assert!(svg.contains("Drawing"));
    assert!(svg.len() < 200_000, "{} bytes", svg.len());
}

#[test]
fn bad_flags_are_user_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.svg");
    let out = out.to_str().unwrap();
    for (flags, expect) in [
        (vec!["--slot", "0"], "--slot"),
        (vec!["--slot", "101"], "--slot"),
        (vec!["--window", "0,0,10"], "--window"),
        (
            vec!["--set", "scenario.coverage_m=-1"],
            "scenario.coverage_m",
        ),
        (
            vec![
                "--set",
                "mobility.kind=trace",
                "--set",
                "mobility.trace=/nope.xml",
            ],
            "/nope.xml",
        ),
    ] {
        let mut args = vec!["render", "--out", out];
        args.extend(flags.iter().copied());
        let o = iovmarket(&args);
        assert_eq!(o.status.code(), Some(2), "{flags:?}");
        assert!(stderr(&o).contains(expect), "{flags:?}: {}", stderr(&o));
    }
    assert!(!Path::new(out).exists());
}
