"""Steps per second of the PettingZoo dict API versus VecEnv, on the paper's scenario.

    python crates/py/bench/bench_env.py [--vehicles 80] [--slots 2000] [--n-envs 1 8 32]

Every variant steps with uniformly random actions precomputed with numpy, so the numbers measure
the env, not the action sampling. "env-steps/s" counts slots of one env; "agent-steps/s" counts
agent transitions (env-steps x vehicles), the unit learners report.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import iovmarket


def bench_dict_api(vehicles: int, slots: int) -> float:
    env = iovmarket.parallel_env(scenario__vehicles=vehicles)
    agents = env.possible_agents
    rng = np.random.default_rng(0)
    pool = [
        {a: row[i : i + 1] for i, a in enumerate(agents)}
        for row in rng.random((64, vehicles), dtype=np.float32)
    ]
    env.reset(seed=0)
    done = 0
    start = time.perf_counter()
    while done < slots:
        if not env.agents:
            env.reset()
        env.step(pool[done % len(pool)])
        done += 1
    return done / (time.perf_counter() - start)


def bench_core_env(vehicles: int, slots: int) -> float:
    """The Rust env through its raw binding (numpy in, numpy out), no dicts."""
    env = iovmarket.parallel_env(scenario__vehicles=vehicles).core
    actions = np.random.default_rng(0).random((64, vehicles), dtype=np.float32)
    env.reset(0)
    start = time.perf_counter()
    for t in range(slots):
        if env.done:
            env.reset(t)
        env.step(actions[t % 64])
        env.observe()
    return slots / (time.perf_counter() - start)


def bench_vec_env(vehicles: int, slots: int, n_envs: int) -> float:
    venv = iovmarket.VecEnv(n_envs, scenario__vehicles=vehicles)
    actions = np.random.default_rng(0).random((64, n_envs, vehicles), dtype=np.float32)
    venv.reset(seed=0)
    steps = max(slots // n_envs, venv.episode_slots)
    start = time.perf_counter()
    for t in range(steps):
        _, _, _, trunc, _ = venv.step(actions[t % 64])
        if trunc[0]:
            venv.reset()
    return steps * n_envs / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vehicles", type=int, default=80)
    p.add_argument("--slots", type=int, default=4000, help="env-steps per variant")
    p.add_argument("--n-envs", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--repeats", type=int, default=3, help="best of N")
    args = p.parse_args()

    print(
        f"iovmarket {iovmarket.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {args.vehicles} vehicles, best of {args.repeats}"
    )
    print(f"{'variant':<28}{'env-steps/s':>14}{'agent-steps/s':>16}")
    variants = [("parallel_env (dict API)", lambda: bench_dict_api(args.vehicles, args.slots))]
    variants.append(
        ("_core.Env (numpy, no dicts)", lambda: bench_core_env(args.vehicles, args.slots))
    )
    for n in args.n_envs:
        variants.append(
            (f"VecEnv n_envs={n}", lambda n=n: bench_vec_env(args.vehicles, args.slots, n))
        )
    for name, fn in variants:
        best = max(fn() for _ in range(args.repeats))
        print(f"{name:<28}{best:>14,.0f}{best * args.vehicles:>16,.0f}")


if __name__ == "__main__":
    main()
