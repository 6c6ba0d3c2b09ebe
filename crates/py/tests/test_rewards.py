"""Per-agent rewards: ``reward__kind="shared"`` gives every agent R(t), ``"individual"`` each
buyer its own utility (DESIGN.md §1.7), in the PettingZoo env and the vectorised env."""

from __future__ import annotations

import numpy as np
import pytest

import iovmarket


def _truthful(env) -> dict[str, np.ndarray]:
    """Relative action 0.5: every agent bids its valuation."""
    return {a: np.array([0.5], dtype=np.float32) for a in env.agents}


def test_shared_rewards_are_r_t_for_every_agent(small) -> None:
    env = iovmarket.parallel_env(**small)
    env.reset(seed=3)
    for _ in range(5):
        _, rewards, _, _, infos = env.step(_truthful(env))
        values = set(rewards.values())
        assert values == {infos[env.possible_agents[0]]["reward"]}


def test_individual_rewards_are_each_buyers_utility(small) -> None:
    env = iovmarket.parallel_env(reward__kind="individual", **small)
    env.reset(seed=3)
    distinct = 0
    for _ in range(10):
        _, rewards, _, _, infos = env.step(_truthful(env))
        info = infos[env.possible_agents[0]]
        # Truthful bids: the buyers' utilities add up to the buyer surplus of the slot.
        surplus = info["mean_buyer_utility"] * info["buyers"]
        assert sum(rewards.values()) == pytest.approx(surplus, abs=1e-9)
        assert all(r >= -1e-12 for r in rewards.values()), "IR: no buyer loses bidding truthfully"
        distinct += len(set(rewards.values())) > 1
    assert distinct > 0


def test_vec_env_agent_rewards_match_the_parallel_env(small) -> None:
    venv = iovmarket.VecEnv(2, reward__kind="individual", **small)
    venv.reset(seed=5)
    env = iovmarket.parallel_env(reward__kind="individual", **small)
    env.reset(seed=6)
    actions = np.full((2, venv.num_agents), 0.5, dtype=np.float32)
    for _ in range(5):
        venv.step(actions)
        _, rewards, _, _, _ = env.step(_truthful(env))
        got = venv.agent_rewards()
        assert got.shape == (2, venv.num_agents)
        np.testing.assert_array_equal(got[1], [rewards[a] for a in env.possible_agents])


def test_bad_reward_kind_names_the_key(small) -> None:
    with pytest.raises(iovmarket.ConfigError, match="kind"):
        iovmarket.parallel_env(reward__kind="selfish", **small)
