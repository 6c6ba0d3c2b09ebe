//! Bit-identical training for any thread count, and resume ≡ uninterrupted.

mod common;

use common::{deterministic, small};
use iovmarket::env::IovEnv;
use iovmarket::Scenario;
use iovmarket_learn::{train, Snapshot, TrainConfig, TrainOptions, Trainer};

fn trainer(s: &Scenario) -> Trainer<IovEnv> {
    let envs = (0..TrainConfig::from_scenario(s).unwrap().n_envs)
        .map(|_| IovEnv::new(s.clone()).unwrap())
        .collect();
    Trainer::new(s, envs).unwrap()
}

fn run(s: &Scenario, epochs: usize) -> Snapshot {
    let mut t = trainer(s);
    for _ in 0..epochs {
        t.run_epoch().unwrap();
    }
    deterministic(t.snapshot())
}

#[test]
fn one_and_two_threads_give_bit_identical_runs() {
    for extra in [
        vec![],
        vec![
            ("train.critic", "\"local\""),
            ("train.share_policy", "false"),
        ],
        vec![("train.distribution", "\"beta\"")],
        vec![("reward.kind", "\"individual\"")],
        vec![
            ("reward.kind", "\"individual\""),
            ("train.critic", "\"local\""),
        ],
    ] {
        let mut one = extra.clone();
        one.push(("train.threads", "1"));
        let mut two = extra.clone();
        two.push(("train.threads", "2"));
        let a = run(&small(&one), 2);
        let b = run(&small(&two), 2);
        // The snapshots store the config, which differs in `threads` only.
        assert_eq!(a.policy, b.policy, "{extra:?}");
        assert_eq!(a.critic, b.critic, "{extra:?}");
        assert_eq!(a.actor_adam, b.actor_adam);
        assert_eq!(a.value_norm, b.value_norm);
        assert_eq!(a.curve, b.curve);
        let bits = |s: &Snapshot| -> Vec<u32> {
            s.policy
                .actors
                .iter()
                .flat_map(|p| p.0.iter().map(|x| x.to_bits()))
                .collect()
        };
        assert_eq!(bits(&a), bits(&b));
    }
}

#[test]
fn different_seeds_train_differently() {
    let a = run(&small(&[]), 1);
    let b = run(&small(&[("scenario.seed", "1")]), 1);
    assert_ne!(a.policy, b.policy);
}

#[test]
fn resume_continues_bit_identically() {
    let s = small(&[]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    let straight = train(
        &s,
        &TrainOptions {
            epochs: Some(4),
            ..Default::default()
        },
        |_| {},
    )
    .unwrap();
    let first = TrainOptions {
        epochs: Some(2),
        checkpoint: Some(path.clone()),
        resume: false,
    };
    train(&s, &first, |_| {}).unwrap();
    assert_eq!(Snapshot::load(&path).unwrap().epoch, 2);
    let mut seen = Vec::new();
    let second = TrainOptions {
        epochs: Some(4),
        checkpoint: Some(path.clone()),
        resume: true,
    };
    let resumed = train(&s, &second, |e| seen.push(e.epoch)).unwrap();
    assert_eq!(seen, [3, 4]);
    assert_eq!(resumed.policy, straight.policy);
    assert_eq!(
        common::curve(&resumed.curve),
        common::curve(&straight.curve)
    );
    // The checkpoint on disk holds the same state as an uninterrupted trainer.
    let on_disk = deterministic(Snapshot::load(&path).unwrap());
    assert_eq!(on_disk, run(&s, 4));
}

#[test]
fn checkpoint_round_trips_exactly() {
    let s = small(&[("train.distribution", "\"beta\"")]);
    let mut t = trainer(&s);
    t.run_epoch().unwrap();
    let snap = t.snapshot();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.ckpt");
    snap.save(&path).unwrap();
    assert_eq!(Snapshot::load(&path).unwrap(), snap);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}
