//! Issue 15 item 5: two runs into the same `--out` at once. The second exits 2 naming the first
//! (its pid and command line) instead of both reporting success while one's work is lost.

use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{iovmarket, stderr};

/// Waits until the running `child` has written its holder line into the lock file of `out`.
fn wait_for_lock(child: &mut std::process::Child, out: &Path) {
    let lock = out.join(".iovmarket.lock");
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the first run ended before it was observed holding the lock: {status}");
        }
        if std::fs::read_to_string(&lock).is_ok_and(|t| t.ends_with('\n')) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_second_run_into_a_locked_out_exits_2_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_s = out.to_str().unwrap();
    // The first run: far more episodes than the test will wait for; killed below.
    let mut first = Command::new(env!("CARGO_BIN_EXE_iovmarket"))
        .args(["simulate", "--episodes", "1000000", "--out", out_s])
        .args([
            "--set",
            "scenario.vehicles=5",
            "--set",
            "scenario.episode_slots=5",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_lock(&mut first, &out);
    let holder = format!("pid {}", first.id());
    let small = [
        "--set",
        "scenario.vehicles=5",
        "--set",
        "scenario.episode_slots=3",
        "--set",
        "train.n_envs=1",
        "--set",
        "train.ppo_epochs=1",
        "--set",
        "train.minibatches=1",
    ];
    let mut train = vec!["train", "--out", out_s, "--epochs", "1"];
    train.extend_from_slice(&small);
    let mut simulate = vec!["simulate", "--out", out_s];
    simulate.extend_from_slice(&small[..4]);
    for args in [&train, &simulate] {
        let o = iovmarket(args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains("is in use by another run"), "{e}");
        assert!(
            e.contains(&holder) && e.contains("simulate --episodes 1000000"),
            "{e}"
        );
    }
    assert!(!out.join("checkpoint.ckpt").exists());
    first.kill().unwrap();
    first.wait().unwrap();
    // The lock dies with its holder, even killed: the directory is usable again.
    let o = iovmarket(&train);
    assert!(o.status.success(), "{}", stderr(&o));
}
