//! `iovmarket reproduce --quick`: every output exists and parses, and reruns are identical.

use std::process::Command;

fn run(out: &std::path::Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_iovmarket"))
        .args(["reproduce", "--quick", "--out", out.to_str().unwrap()])
        .output()
        .expect("binary runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(
        stdout.contains("Ours (MAPPO, McAfee)") && stdout.contains("C8"),
        "{stdout}"
    );
}

fn csv_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let width = reader.headers().unwrap().len();
    reader
        .records()
        .map(|r| {
            let row: Vec<String> = r.unwrap().iter().map(str::to_string).collect();
            assert_eq!(row.len(), width, "{}: ragged row {row:?}", path.display());
            row
        })
        .collect()
}

#[test]
fn quick_reproduction_writes_every_output_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run(&a);

    // (9 methods under "L in ms" + 7 under "L in s") × 2 IoV counts × 1 seed, numeric
    // metrics; only best_shading has a shading.
    let results = csv_rows(&a.join("results.csv"));
    assert_eq!(results.len(), 32);
    for row in &results {
        assert!(row[0] == "ms" || row[0] == "s", "{row:?}");
        for cell in row[2..].iter().filter(|c| !c.is_empty()) {
            assert!(cell.parse::<f64>().unwrap().is_finite(), "{row:?}");
        }
        assert_eq!(
            row.len() - row.iter().filter(|c| c.is_empty()).count() == row.len(),
            row[1] == "best_shading",
            "{row:?}"
        );
        assert_eq!(row.last().unwrap(), "0", "IR violations in {row:?}");
    }
    // 12 metrics per row, plus the chosen shading of best_shading's 4 rows.
    assert_eq!(csv_rows(&a.join("summary.csv")).len(), 32 * 12 + 4);
    // (3 learned methods under "L in ms" + Ours under "L in s") × 2 IoV counts × 2 epochs.
    assert_eq!(csv_rows(&a.join("training_curves.csv")).len(), 16);

    let stems = [
        "fig2_reward",
        "fig3_welfare",
        "fig4_budget",
        "fig5_latency",
        "training_curves",
    ];
    for stem in ["ms", "s"]
        .into_iter()
        .flat_map(|r| stems.map(|s| format!("{s}_{r}")))
    {
        let png = std::fs::read(a.join("figures").join(format!("{stem}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png");
        let svg = std::fs::read_to_string(a.join("figures").join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{stem}.svg"
        );
    }
    let md = std::fs::read_to_string(a.join("REPRODUCTION.md")).unwrap();
    for claim in ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"] {
        assert!(
            md.contains(&format!("| {claim} |")),
            "{claim} missing from REPRODUCTION.md"
        );
    }
    assert!(md.contains("figures/fig2_reward_ms.png") && md.contains("figures/fig2_reward_s.png"));
    assert!(md.contains("Which claims hold under which reading"));
    assert!(
        md.contains("Ours vs latency-aware bidders")
            && md.contains("Ours vs the best uniform shading")
    );
    assert!(md.contains("p50 / p99 / max"));
    // The Equilibrium job: six profiles, each with ε, ℓ and a sentence.
    let eq = csv_rows(&a.join("equilibrium.csv"));
    let profiles: Vec<(&str, &str)> = eq.iter().map(|r| (r[1].as_str(), r[2].as_str())).collect();
    assert_eq!(
        profiles,
        [
            ("truthful", "kda"),
            ("truthful", "second_price"),
            ("truthful", "mcafee"),
            ("random", "mcafee"),
            ("MAPPO (shared reward)", "mcafee"),
            ("MAPPO (individual reward)", "mcafee"),
        ]
    );
    for row in &eq {
        assert_eq!(row[0], "equilibrium", "{row:?}");
        let (eps, eps_max) = (
            row[4].parse::<f64>().unwrap(),
            row[5].parse::<f64>().unwrap(),
        );
        assert!(eps >= 0.0 && eps_max >= eps, "{row:?}");
        assert!(!row.last().unwrap().is_empty(), "{row:?}");
    }
    assert!(md.contains("## Equilibrium"));
    assert_eq!(
        md.matches("| MAPPO (individual reward) | mcafee |").count(),
        1,
        "{md}"
    );
    let run_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["command"], "reproduce");

    // Same seeds → identical CSVs.
    run(&b);
    for f in [
        "results.csv",
        "summary.csv",
        "training_curves.csv",
        "equilibrium.csv",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs"
        );
    }
    assert_eq!(
        std::fs::read(a.join("REPRODUCTION.md")).unwrap(),
        std::fs::read(b.join("REPRODUCTION.md")).unwrap()
    );
}
