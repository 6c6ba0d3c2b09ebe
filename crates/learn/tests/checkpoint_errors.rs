//! A corrupt, truncated or mismatched checkpoint is a clear error, never a panic.

mod common;

use common::small;
use iovmarket::env::IovEnv;
use iovmarket_learn::{train, Error, Snapshot, TrainOptions, Trainer};

fn saved() -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
    let s = small(&[]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.ckpt");
    let opts = TrainOptions {
        epochs: Some(1),
        checkpoint: Some(path.clone()),
        resume: false,
    };
    train(&s, &opts, |_| {}).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (dir, path, bytes)
}

#[test]
fn corrupt_truncated_and_foreign_files_are_errors() {
    let (_dir, path, bytes) = saved();
    let p = path.as_path();
    assert!(matches!(
        Snapshot::decode(b"hello", p),
        Err(Error::NotACheckpoint { .. })
    ));
    assert!(matches!(
        Snapshot::decode(&bytes[..10], p),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        Snapshot::decode(&bytes[..bytes.len() - 1], p),
        Err(Error::Truncated { .. })
    ));
    let mut flipped = bytes.clone();
    let mid = bytes.len() / 2;
    flipped[mid] ^= 0x10;
    let e = Snapshot::decode(&flipped, p).unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("checksum"), "{e}");
    let mut version = bytes.clone();
    version[8] = 9;
    assert!(matches!(
        Snapshot::decode(&version, p),
        Err(Error::Version { found: 9, .. })
    ));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        Snapshot::decode(&longer, p),
        Err(Error::Corrupt { .. })
    ));
    // A valid checksum over a payload of the wrong shape.
    let mut snap = Snapshot::decode(&bytes, p).unwrap();
    snap.policy.actors[0].0.pop();
    let e = Snapshot::decode(&snap.encode(), p).unwrap_err();
    assert!(e.to_string().contains("actor 0 has"), "{e}");
    // A layer layout that would index outside the parameters.
    let mut snap = Snapshot::decode(&bytes, p).unwrap();
    snap.policy.net.hidden[1].0.offset += 5;
    let e = Snapshot::decode(&snap.encode(), p).unwrap_err();
    assert!(e.to_string().contains("layout"), "{e}");
    // Every truncation point is an error, not a panic.
    for cut in (0..bytes.len()).step_by(97) {
        assert!(Snapshot::decode(&bytes[..cut], p).is_err());
    }
    let missing = path.with_file_name("missing.ckpt");
    assert!(matches!(Snapshot::load(&missing), Err(Error::Io { .. })));
}

#[test]
fn resuming_with_another_config_names_the_key() {
    let (_dir, path, _) = saved();
    let other = small(&[("train.lr", "0.01")]);
    let opts = TrainOptions {
        epochs: Some(2),
        checkpoint: Some(path.clone()),
        resume: true,
    };
    let e = train(&other, &opts, |_| {}).unwrap_err();
    assert!(matches!(e, Error::Mismatch { .. }), "{e}");
    assert!(e.to_string().contains("train.lr"), "{e}");
    // More epochs and another thread count are allowed.
    let more = small(&[("train.threads", "1"), ("train.epochs", "7")]);
    train(&more, &opts, |_| {}).unwrap();
    // A snapshot of a 12-vehicle per-agent policy does not fit 13 vehicles.
    let per_agent = small(&[("train.share_policy", "false")]);
    let envs = (0..2)
        .map(|_| IovEnv::new(per_agent.clone()).unwrap())
        .collect();
    let snap = Trainer::new(&per_agent, envs).unwrap().snapshot();
    let bigger = small(&[("train.share_policy", "false"), ("scenario.vehicles", "13")]);
    let envs = (0..2)
        .map(|_| IovEnv::new(bigger.clone()).unwrap())
        .collect();
    let e = Trainer::from_snapshot(&bigger, envs, snap).unwrap_err();
    assert!(e.to_string().contains("vehicles"), "{e}");
}

#[test]
fn a_checkpoint_is_refused_under_the_other_bid_parameterisation() {
    let (_dir, path, _) = saved();
    let snap = Snapshot::load(&path).unwrap();
    assert_eq!(snap.policy.action, iovmarket::agents::ActionKind::Relative);
    let absolute = small(&[("agents.action", "absolute")]);
    let env = IovEnv::new(absolute).unwrap();
    let e = iovmarket_learn::LearnedBidder::new(snap.policy.clone(), &env).unwrap_err();
    assert!(matches!(e, Error::Mismatch { .. }), "{e}");
    assert!(e.to_string().contains("agents.action"), "{e}");
    // Under its own parameterisation it plays.
    let env = IovEnv::new(small(&[])).unwrap();
    assert!(iovmarket_learn::LearnedBidder::new(snap.policy, &env).is_ok());
}
