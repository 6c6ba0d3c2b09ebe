"""RLlib PPO on the iovmarket PettingZoo env (one policy shared by all vehicles).

Needs RLlib and torch, which the package's tests do not install::

    pip install ./crates/py "ray[rllib]" torch
    python crates/py/examples/rllib_ppo.py --iterations 20 --vehicles 20

RLlib wraps the env with ``ParallelPettingZooEnv``; every vehicle maps to the policy ``shared``
(parameter sharing, as in the paper's MAPPO, but with a decentralised critic: this is IPPO; for
the centralised critic use ``iovmarket.train`` or feed ``env.state()`` to a custom RLModule).
Hyperparameters follow the paper (DESIGN.md §2.1): lr 1e-3, gamma 0.95, entropy 0.02, value
coefficient 0.5, clip 0.2, GAE lambda 0.95. Each env runner gets its own run seeds through
``scenario.seed``. The script prints the mean episode return per iteration and, at the end, the
truthful-bidding baseline of the same scenario from ``iovmarket.simulate`` for comparison.
Not run by the tests.
"""

from __future__ import annotations

import argparse

import iovmarket


def make_env(env_config):
    """The RLlib env creator: a distinct seed range per env runner and vector index."""
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

    cfg = dict(env_config)
    worker = getattr(env_config, "worker_index", 0)
    vector = getattr(env_config, "vector_index", 0)
    cfg.setdefault("scenario__seed", 1_000_000 * worker + 10_000 * vector)
    return ParallelPettingZooEnv(iovmarket.parallel_env(**cfg))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--vehicles", type=int, default=20)
    p.add_argument("--mechanism", default="mcafee")
    p.add_argument("--env-runners", type=int, default=1)
    args = p.parse_args()

    import ray
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.tune.registry import register_env

    env_config = {"scenario__vehicles": args.vehicles, "market__mechanism": args.mechanism}
    register_env("iovmarket_v0", make_env)
    ray.init(include_dashboard=False)
    config = (
        PPOConfig()
        .environment("iovmarket_v0", env_config=env_config)
        .framework("torch")
        .env_runners(num_env_runners=args.env_runners)
        .multi_agent(
            policies={"shared"},
            policy_mapping_fn=lambda agent_id, episode, **kwargs: "shared",
        )
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(rl_module_specs={"shared": RLModuleSpec()}),
        )
        .training(
            lr=1e-3,
            gamma=0.95,
            lambda_=0.95,
            entropy_coeff=0.02,
            vf_loss_coeff=0.5,
            clip_param=0.2,
            num_epochs=10,
        )
    )
    algo = config.build_algo()
    for i in range(args.iterations):
        result = algo.train()
        ret = result.get("env_runners", {}).get("episode_return_mean", float("nan"))
        # An episode return sums the shared reward over all vehicles; per vehicle:
        print(f"iteration {i + 1:3d}: mean episode return per vehicle {ret / args.vehicles:9.3f}")
    algo.stop()
    ray.shutdown()

    baseline = iovmarket.simulate(episodes=10, bidder="truthful", **env_config)
    print(f"truthful bidding, mean episode reward: {baseline['reward'].mean():9.3f}")


if __name__ == "__main__":
    main()
