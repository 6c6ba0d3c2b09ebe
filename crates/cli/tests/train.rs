//! `iovmarket train` and `evaluate` end to end on a small scenario.

use std::process::Output;

mod common;
use common::{iovmarket, stderr, stdout};

const SMALL: [&str; 8] = [
    "--set",
    "scenario.vehicles=10",
    "--set",
    "scenario.episode_slots=12",
    "--set",
    "train.n_envs=2",
    "--set",
    "train.ppo_epochs=2",
];

fn train(out: &str, extra: &[&str]) -> Output {
    let mut args = vec!["train", "--out", out];
    args.extend_from_slice(&SMALL);
    args.extend_from_slice(extra);
    iovmarket(&args)
}

#[test]
fn train_resume_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_s = out.to_str().unwrap();
    let o = train(out_s, &["--epochs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("train.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for col in [
        "epoch",
        "reward",
        "welfare_gains",
        "welfare_participants",
        "welfare_paper_eq1",
        "budget",
        "latency_ms",
        "trades",
        "dropped",
        "policy_loss",
        "value_loss",
        "entropy",
        "agent_steps_per_s",
    ] {
        assert!(
            header.split(',').any(|c| c == col),
            "missing {col}: {header}"
        );
    }
    assert_eq!(csv.lines().count(), 3);
    // A second run into the same directory must not clobber it.
    let o = train(out_s, &["--epochs", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    // Resume to 3 epochs.
    let o = train(out_s, &["--epochs", "3", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("train.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4);
    // Resuming with another config is a user error naming the key.
    let o = train(
        out_s,
        &["--epochs", "4", "--resume", "--set", "train.lr=0.5"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("train.lr"), "{}", stderr(&o));
    // Evaluate prints simulate's table.
    let ckpt = out.join("checkpoint.ckpt");
    let o = iovmarket(&[
        "evaluate",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--episodes",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("bidder learned"), "{text}");
    assert!(text.contains("welfare (gains from trade)"), "{text}");
    assert!(text.contains("IR violations"), "{text}");
    // simulate plays the same policy with --bidder learned: the same episodes, the same table.
    let o2 = iovmarket(&[
        "simulate",
        "--bidder",
        "learned",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--episodes",
        "2",
        "--set",
        "scenario.vehicles=10",
        "--set",
        "scenario.episode_slots=12",
        "--set",
        "train.n_envs=2",
        "--set",
        "train.ppo_epochs=2",
    ]);
    assert!(o2.status.success(), "{}", stderr(&o2));
    let sim = String::from_utf8(o2.stdout).unwrap();
    let body = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        body(&sim),
        body(&text),
        "simulate:\n{sim}\nevaluate:\n{text}"
    );
    let o = iovmarket(&["simulate", "--bidder", "learned"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--checkpoint"), "{}", stderr(&o));
    // No temporary files are left behind (only the lock file of the output directory).
    for e in std::fs::read_dir(&out).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.starts_with('.') || name == ".iovmarket.lock",
            "{name}"
        );
    }
}

#[test]
fn bad_checkpoints_and_configs_are_user_errors_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.ckpt");
    std::fs::write(&bogus, b"IOVMCKPT\x01\x00\x00\x00garbage").unwrap();
    let o = iovmarket(&["evaluate", "--checkpoint", bogus.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    let out = dir.path().join("never");
    let o = train(out.to_str().unwrap(), &["--set", "train.n_envs=0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("train.n_envs"), "{}", stderr(&o));
    let o = train(out.to_str().unwrap(), &["--resume"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !out.exists(),
        "a failed run must not create its output directory"
    );
}

#[test]
fn resuming_past_the_target_is_an_error_naming_both_epochs() {
    // Issue 15: `train --resume --epochs 10` on a checkpoint at epoch 70 did nothing, exit 0.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_s = out.to_str().unwrap();
    let o = train(out_s, &["--epochs", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = train(out_s, &["--epochs", "2", "--resume"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("epoch 3") && e.contains("the 2 epochs"), "{e}");
    // At the target exactly, resuming still completes the directory.
    let o = train(out_s, &["--epochs", "3", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_checkpoint_used_on_another_scenario_warns_once_naming_the_keys() {
    // Issue 15: evaluate/simulate ran a checkpoint trained elsewhere without comment.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = train(out.to_str().unwrap(), &["--epochs", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ckpt = out.join("checkpoint.ckpt");
    let ckpt = ckpt.to_str().unwrap();
    let warnings = |o: &Output| {
        stderr(o)
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // Its own scenario (any seed): no warning.
    let o = iovmarket(&[
        "evaluate",
        "--checkpoint",
        ckpt,
        "--episodes",
        "1",
        "--seed",
        "4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(warnings(&o).is_empty(), "{}", stderr(&o));
    // More vehicles: the shared policy fits, with one warning naming the key.
    let o = iovmarket(&[
        "evaluate",
        "--checkpoint",
        ckpt,
        "--episodes",
        "1",
        "--set",
        "scenario.vehicles=14",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let w = warnings(&o);
    assert_eq!(w.len(), 1, "{}", stderr(&o));
    assert!(
        w[0].contains("scenario.vehicles = 14 (checkpoint: 10)"),
        "{}",
        w[0]
    );
    // simulate --bidder learned on the paper's scenario: every differing market key is named.
    let o = iovmarket(&[
        "simulate",
        "--bidder",
        "learned",
        "--checkpoint",
        ckpt,
        "--set",
        "scenario.episode_slots=3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let w = warnings(&o);
    assert_eq!(w.len(), 1, "{}", stderr(&o));
    assert!(
        w[0].contains("scenario.episode_slots = 3 (checkpoint: 12)")
            && w[0].contains("scenario.vehicles = 80 (checkpoint: 10)"),
        "{}",
        w[0]
    );
    assert!(!w[0].contains("train."), "{}", w[0]);
    // A different observation layout stays an error.
    let o = iovmarket(&[
        "evaluate",
        "--checkpoint",
        ckpt,
        "--episodes",
        "1",
        "--set",
        "scenario.rsus=9",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn train_csv_values_are_sane_and_agree_with_the_checkpoint_and_stdout() {
    // Issue 15: train.csv values were unchecked.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = train(out.to_str().unwrap(), &["--epochs", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut r = csv::Reader::from_path(out.join("train.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    let rows: Vec<std::collections::BTreeMap<String, String>> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect();
    let num = |row: &std::collections::BTreeMap<String, String>, col: &str| -> f64 {
        row[col]
            .parse()
            .unwrap_or_else(|_| panic!("{col} = {}", row[col]))
    };
    let snap = iovmarket_learn::Snapshot::load(&out.join("checkpoint.ckpt")).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(snap.curve.len(), 3);
    let printed = stdout(&o);
    for (i, (row, saved)) in rows.iter().zip(&snap.curve).enumerate() {
        assert_eq!(num(row, "epoch"), (i + 1) as f64);
        for col in [
            "reward",
            "welfare_gains",
            "budget",
            "latency_ms",
            "trades",
            "dropped",
            "policy_loss",
            "value_loss",
            "entropy",
            "agent_steps_per_s",
        ] {
            assert!(num(row, col).is_finite(), "epoch {}: {col}", i + 1);
        }
        // Counts and costs are non-negative; the reward is the welfare (gains from trade by
        // default) minus non-negative budget and latency penalties.
        for col in [
            "latency_ms",
            "trades",
            "dropped",
            "value_loss",
            "agent_steps_per_s",
        ] {
            assert!(
                num(row, col) >= 0.0,
                "epoch {}: {col} = {}",
                i + 1,
                row[col]
            );
        }
        assert!(
            num(row, "reward") <= num(row, "welfare_gains") + 1e-9,
            "{row:?}"
        );
        assert!(num(row, "latency_ms") > 0.0, "{row:?}");
        // The CSV is the checkpoint's curve, value for value.
        assert_eq!(num(row, "reward"), saved.reward, "epoch {}", i + 1);
        assert_eq!(num(row, "budget"), saved.budget, "epoch {}", i + 1);
        assert_eq!(num(row, "entropy"), saved.entropy, "epoch {}", i + 1);
        // And stdout prints the same numbers (3 decimals).
        let line = printed
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&(i + 1).to_string()))
            .unwrap_or_else(|| panic!("no epoch {} in {printed}", i + 1));
        let reward: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(
            (reward - saved.reward).abs() <= 5e-4,
            "{line} vs {}",
            saved.reward
        );
    }
}

/// The same run with the kernels capped at each instruction set (`IOVMARKET_ISA`; a cap above
/// what the CPU has falls back to what it has) trains bit-identical networks.
#[test]
fn every_instruction_set_trains_the_same_bits() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<String> = ["portable", "avx2", "avx512"]
        .iter()
        .map(|isa| {
            let out = dir.path().join(isa);
            let mut args = vec!["train", "--out", out.to_str().unwrap(), "--epochs", "2"];
            args.extend_from_slice(&SMALL);
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_iovmarket"))
                .env("IOVMARKET_ISA", isa)
                .args(&args)
                .output()
                .expect("binary runs");
            assert!(o.status.success(), "{isa}: {}", stderr(&o));
            let s = iovmarket_learn::Snapshot::load(&out.join("checkpoint.ckpt")).unwrap();
            // The curve holds timings; everything trained is compared, to the last bit (JSON
            // writes each float exactly, -0 included).
            serde_json::to_string(&(
                &s.policy,
                &s.actor_adam,
                &s.critic,
                &s.critic_adam,
                &s.value_norm,
            ))
            .unwrap()
        })
        .collect();
    assert!(runs[0] == runs[1], "portable and avx2 differ");
    assert!(runs[0] == runs[2], "portable and avx512 differ");
}
