"""VecEnv and simulate agree with the single env step for step."""

from __future__ import annotations

import numpy as np
import pytest

import iovmarket


def _actions_dict(env, row: np.ndarray) -> dict:
    return {a: row[i : i + 1] for i, a in enumerate(env.possible_agents)}


def test_vec_env_equals_parallel_env_step_for_step() -> None:
    n_envs, seed = 3, 40
    venv = iovmarket.VecEnv(n_envs)
    envs = [iovmarket.parallel_env() for _ in range(n_envs)]
    obs, infos = venv.reset(seed=seed)
    assert obs.shape == (n_envs, 80, 13) and obs.dtype == np.float32
    for i, env in enumerate(envs):
        o, _ = env.reset(seed=seed + i)
        np.testing.assert_array_equal(obs[i], np.stack([o[a] for a in env.possible_agents]))
    rng = np.random.default_rng(9)
    for t in range(100):
        actions = rng.random((n_envs, 80), dtype=np.float32)
        obs, rewards, terms, truncs, infos = venv.step(actions)
        state = venv.state()
        for i, env in enumerate(envs):
            o, r, _, tr, inf = env.step(_actions_dict(env, actions[i]))
            np.testing.assert_array_equal(obs[i], np.stack([o[a] for a in env.possible_agents]))
            np.testing.assert_array_equal(state[i], env.state())
            assert rewards[i] == r["vehicle_0"]
            assert truncs[i] == tr["vehicle_0"] == (t == 99)
            for name in ("reward", "welfare", "budget", "latency_ms", "trades", "dropped"):
                assert infos[name][i] == inf["vehicle_0"][name], name
            np.testing.assert_array_equal(
                infos["active"][i], [inf[a]["active"] for a in env.possible_agents]
            )
        assert not terms.any()
    with pytest.raises(iovmarket.EpisodeOverError):
        venv.step(actions)


def test_vec_env_buffers_are_read_only_views_and_shapes_are_checked(small) -> None:
    venv = iovmarket.VecEnv(2, **small)
    obs, _ = venv.reset()
    assert not obs.flags.writeable
    with pytest.raises(ValueError):
        obs[0, 0, 0] = 1.0
    obs2, *_ = venv.step(np.full((2, 12, 1), 0.5))
    assert obs2 is obs, "zero copy: the same buffer every step"
    with pytest.raises(ValueError, match="expected shape"):
        venv.step(np.zeros((3, 12), dtype=np.float32))
    bad = np.zeros((2, 12), dtype=np.float32)
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"actions\[3\]"):
        venv.step(bad)


def test_vec_env_unseeded_resets_never_repeat(small) -> None:
    venv = iovmarket.VecEnv(2, scenario__seed=5, **small)
    first = venv.reset()[0].copy()
    second = venv.reset()[0].copy()
    env = iovmarket.parallel_env(**small)
    o, _ = env.reset(seed=7)  # env 0 of the second reset plays seed 5 + 2
    np.testing.assert_array_equal(second[0], np.stack([o[a] for a in env.possible_agents]))
    assert not np.array_equal(first, second)


# The env reads actions in the configured `agents.action`; each fixed bidder acts in its own kind
# (valuation-based ones relatively, random absolutely), so the env is configured to match it.
@pytest.mark.parametrize(
    ("bidder", "action"),
    [("truthful", "relative"), ("random", "absolute"), ("shaded:0.8", "relative")],
)
def test_simulate_equals_parallel_env_with_the_same_bidder(bidder: str, action: str) -> None:
    episodes, seed = 2, 13
    sim = iovmarket.simulate(
        episodes=episodes, seed=seed, bidder=bidder, per_slot=True, agents__action=action
    )
    assert list(sim["seed"]) == [seed, seed + 1]
    env = iovmarket.parallel_env(agents__action=action)
    for e in range(episodes):
        env.reset(seed=seed + e)
        rewards, trades = [], []
        while env.agents:
            _, r, _, _, info = env.step(_actions_dict(env, env.core.bidder_actions(bidder)))
            rewards.append(r["vehicle_0"])
            trades.append(info["vehicle_0"]["trades"])
        np.testing.assert_array_equal(sim["per_slot"]["reward"][e], rewards)
        np.testing.assert_array_equal(sim["per_slot"]["trades"][e], trades)
        assert sim["reward"][e] == pytest.approx(sum(rewards), rel=1e-12)
        assert sim["trades"][e] == sum(trades)
    assert (sim["ir_violations"] == 0).all()
    assert (sim["slots"] == 100).all()


def test_simulate_uses_the_configured_bidder_and_rejects_learned(small) -> None:
    a = iovmarket.simulate(episodes=2, agents__bidder="random", **small)
    b = iovmarket.simulate(episodes=2, bidder="random", **small)
    np.testing.assert_array_equal(a["reward"], b["reward"])
    c = iovmarket.simulate(episodes=2, **small)
    assert not np.array_equal(a["reward"], c["reward"])
    with pytest.raises(ValueError, match="learned"):
        iovmarket.simulate(bidder="learned", **small)
    with pytest.raises(ValueError, match="not a bidder"):
        iovmarket.simulate(bidder="greedy", **small)


def test_simulate_and_vec_env_release_the_gil() -> None:
    """A Python thread keeps running while Rust works: the longest stall of a busy loop in the
    main thread stays far below the duration of the call in the other thread."""
    import threading
    import time

    venv = iovmarket.VecEnv(8)
    actions = np.full((8, 80), 0.5, dtype=np.float32)

    def work() -> None:
        iovmarket.simulate(episodes=16)
        for _ in range(5):
            venv.reset()
            for _ in range(100):
                venv.step(actions)

    worker = threading.Thread(target=work)
    start = time.perf_counter()
    worker.start()
    last, longest = time.perf_counter(), 0.0
    while worker.is_alive():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    duration = time.perf_counter() - start
    assert duration > 0.05, "the call is long enough to tell"
    assert longest < 0.5 * duration, (longest, duration)
