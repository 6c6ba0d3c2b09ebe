#!/usr/bin/env python3
"""Training-defaults sweep (issue 11, docs/TUNING.md): trains MAPPO at 80 IoVs under both readings
of the latency unit and scores each setting by its held-out reward.

Usage: scripts/tune.py BINARY OUT_DIR [--seeds 0,1] [--grid NAME]

For every grid point and training seed it runs `iovmarket train` then `iovmarket evaluate` on
held-out episodes (seed 100000 onwards, never used in training), and appends one CSV row:
reading, setting, seed, held-out mean reward per episode. The fixed references (McAfee +
truthful, latency_aware) are evaluated on the same held-out episodes.
"""
import argparse
import csv
import itertools
import os
import subprocess
import sys
import tempfile

READINGS = {"ms": "1.0", "s": "0.001"}
EVAL_SEED = 100000
EVAL_EPISODES = 16

GRIDS = {
    # name: list of dicts of --set overrides (train.* keys)
    "main": [
        {"train.lr": lr, "train.minibatches": mb, "train.entropy_coef": ent, "train.epochs": ep}
        for lr, mb, ent, ep in itertools.product(
            ["0.001", "0.003"], ["1", "4"], ["0.02", "0.0"], ["20", "40"]
        )
    ],
    "lr": [{"train.lr": lr, "train.epochs": "20"} for lr in ["0.0003", "0.001", "0.003", "0.01"]],
    "explore2": [
        {"train.lr": lr, "train.minibatches": mb, "train.epochs": ep, "train.threads": "1"}
        for ep, mb, lr in [("20", "4", "0.001"), ("20", "8", "0.001"), ("20", "16", "0.001"),
                           ("20", "8", "0.003"), ("40", "8", "0.001"), ("40", "16", "0.001")]
    ],
    "explore3": [
        {"train.lr": lr, "train.minibatches": mb, "train.epochs": ep, "train.threads": "1"}
        for ep, mb, lr in [("60", "4", "0.003"), ("80", "4", "0.003"), ("40", "4", "0.003")]
    ],
    "explore4": [
        {"train.lr": "0.003", "train.minibatches": "4", "train.epochs": "40", "train.threads": "1", **extra}
        for extra in [{"train.entropy_coef": "0.0"}, {"train.log_std_init": "0.0"},
                      {"train.minibatches": "8", "train.lr": "0.005"}, {"train.clip": "0.3"}]
    ],
    "explore": [
        {"train.lr": lr, "train.minibatches": mb, "train.epochs": "40", "train.threads": "1"}
        for lr, mb in itertools.product(["0.001", "0.003", "0.01"], ["1", "4"])
    ],
}


def mean_reward(episodes_csv):
    with open(episodes_csv) as f:
        rows = list(csv.DictReader(f))
    return sum(float(r["reward"]) for r in rows) / len(rows)


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("out")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--grid", default="main", choices=sorted(GRIDS))
    ap.add_argument("--vehicles", default="80")
    ap.add_argument("--readings", default="ms,s")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    table = os.path.join(args.out, f"tune_{args.grid}.csv")
    new = not os.path.exists(table)
    with open(table, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["reading", "setting", "seed", "held_out_reward"])
        for reading in args.readings.split(","):
            lam = READINGS[reading]
            base = ["--set", f"scenario.vehicles={args.vehicles}", "--set", f"reward.latency_weight={lam}"]
            for bidder in ["truthful", "latency_aware"]:
                with tempfile.TemporaryDirectory() as d:
                    run([args.binary, "simulate", *base, "--bidder", bidder, "--episodes", str(EVAL_EPISODES),
                         "--seed", str(EVAL_SEED), "--out", d])
                    w.writerow([reading, f"ref:{bidder}", "-", f"{mean_reward(os.path.join(d, 'episodes.csv')):.3f}"])
                    f.flush()
            for point in GRIDS[args.grid]:
                setting = " ".join(f"{k.split('.')[1]}={v}" for k, v in point.items())
                sets = [x for k, v in point.items() for x in ("--set", f"{k}={v}")]
                for seed in args.seeds.split(","):
                    with tempfile.TemporaryDirectory() as d:
                        run([args.binary, "train", *base, *sets, "--set", f"scenario.seed={seed}", "--out", d])
                        ev = os.path.join(d, "eval")
                        run([args.binary, "evaluate", "--checkpoint", os.path.join(d, "checkpoint.ckpt"),
                             "--episodes", str(EVAL_EPISODES), "--seed", str(EVAL_SEED), "--out", ev])
                        r = mean_reward(os.path.join(ev, "episodes.csv"))
                    w.writerow([reading, setting, seed, f"{r:.3f}"])
                    f.flush()
                    print(reading, setting, seed, f"{r:.2f}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
