"""PettingZoo's own API tests, on the parallel env and (via parallel_to_aec) the AEC form."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test
from pettingzoo.test.render_test import collect_render_results
from pettingzoo.utils.conversions import parallel_to_aec

import iovmarket


def _no_warnings(fn, *args, **kwargs) -> None:
    """Runs ``fn`` and fails on any warning (PettingZoo reports soft API problems as warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args, **kwargs)
    messages = [str(w.message) for w in caught]
    assert not messages, messages


@pytest.mark.parametrize("observation", ["extended", "paper"])
def test_parallel_api(observation: str, small) -> None:
    env = iovmarket.parallel_env(agents__observation=observation, **small)
    _no_warnings(parallel_api_test, env, num_cycles=1000)


def test_parallel_api_paper_scenario() -> None:
    _no_warnings(parallel_api_test, iovmarket.parallel_env(), num_cycles=200)


def test_aec_api_through_parallel_to_aec(small) -> None:
    env = parallel_to_aec(iovmarket.parallel_env(render_mode="rgb_array", **small))
    _no_warnings(api_test, env, num_cycles=1000)


def test_aec_factory_matches(small) -> None:
    env = iovmarket.env(**small)
    _no_warnings(api_test, env, num_cycles=100)


def test_render_rgb_array(small) -> None:
    env = iovmarket.parallel_env(render_mode="rgb_array", **small)
    # PettingZoo's render_test also asks for "human", which we do not offer; its rgb_array part:
    for res in collect_render_results(iovmarket.env(render_mode="rgb_array", **small)):
        assert isinstance(res, np.ndarray) and res.shape == (512, 512, 3)
        assert res.dtype == np.uint8
    env.reset(seed=0)
    img = env.render()
    assert img.shape == (512, 512, 3) and img.dtype == np.uint8
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 4, "the map draws something"


def test_render_without_mode_returns_none(small) -> None:
    env = iovmarket.parallel_env(**small)
    env.reset(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert env.render() is None
    with pytest.raises(ValueError, match="render_mode"):
        iovmarket.parallel_env(render_mode="human")


def test_metadata_spaces_and_shapes() -> None:
    env = iovmarket.parallel_env()
    assert env.metadata["name"] == "iovmarket_v0"
    assert env.possible_agents == [f"vehicle_{i}" for i in range(80)]
    assert env.observation_space("vehicle_3") is env.observation_space("vehicle_3")
    assert env.action_space("vehicle_3") is env.action_space("vehicle_3")
    assert env.observation_space("vehicle_0").shape == (13,)
    assert env.action_space("vehicle_0").shape == (1,)
    assert env.state_space.shape == (25,)
    assert iovmarket.parallel_env(agents__observation="paper").observation_space(
        "vehicle_0"
    ).shape == (6,)
    assert "vehicle_0" in (env.__doc__ or "") and "Version history" in (env.__doc__ or "")


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"market.vm_capacity": 3, "market.vm_power_resample": "per_episode"},
        {"agents.observation": "paper", "channel.bandwidth_hz": 2e7},
    ],
)
def test_episode_stays_inside_spaces_and_infos_carry_metrics(overrides) -> None:
    env = iovmarket.parallel_env({"scenario.vehicles": 40, **overrides})
    obs, infos = env.reset(seed=7)
    rng = np.random.default_rng(0)
    steps = 0
    while env.agents:
        agents = list(env.agents)
        for a in agents:
            assert env.observation_space(a).contains(obs[a]), (a, obs[a])
        assert env.state_space.contains(env.state())
        actions = {a: rng.random(1, dtype=np.float32) for a in agents}
        obs, rewards, terms, truncs, infos = env.step(actions)
        steps += 1
        assert set(infos) == set(agents)
        info = infos[agents[0]]
        assert info["slot"] == steps
        assert info["ir_violations"] == 0
        assert rewards[agents[0]] == pytest.approx(info["reward"])
        assert len(set(rewards.values())) == 1, "the reward is shared"
        assert not any(terms.values())
    assert steps == 100
    assert all(truncs.values()) and env.agents == []
    assert env.step({}) == ({}, {}, {}, {}, {})


def test_action_forms_are_equivalent(small) -> None:
    """(1,) arrays, floats, lists, shuffled keys and None (bid 0) all map the same."""
    rng = np.random.default_rng(3)
    row = rng.random(12, dtype=np.float32)
    row[[2, 7]] = 0.0
    agents = [f"vehicle_{i}" for i in range(12)]
    forms = [
        {a: row[i : i + 1] for i, a in enumerate(agents)},
        {a: float(row[i]) for i, a in enumerate(agents)},
        {a: [row[i]] for i, a in reversed(list(enumerate(agents)))},
        {a: (0.0 if i in (2, 7) else row[i : i + 1]) for i, a in enumerate(agents)},
        {a: (None if i in (2, 7) else row[i : i + 1]) for i, a in enumerate(agents)},
    ]
    results = []
    for actions in forms:
        env = iovmarket.parallel_env(**small)
        env.reset(seed=1)
        results.append([env.step(actions)[1]["vehicle_0"] for _ in range(5)])
    assert all(r == results[0] for r in results)


def test_space_bounds_are_tight_enough_to_fail(small) -> None:
    """Issue 10: the bounds come from the core's ObservationLayout; a valuation above the size
    table's largest, or a price above ``bid_max``, is outside the space."""
    env = iovmarket.parallel_env(**small)
    obs, _ = env.reset(seed=1)
    a = env.possible_agents[0]
    space = env.observation_space(a)
    assert space.contains(obs[a])
    rsus = env.scenario.rsus
    too_valuable = obs[a].copy()
    too_valuable[rsus + 2] = np.float32(env.scenario.bid_max)  # above ln(1 + 1989/1000)
    assert not space.contains(too_valuable)
    too_dear = obs[a].copy()
    too_dear[rsus] = np.float32(env.scenario.bid_max * 1.01)
    assert not space.contains(too_dear)
    state = env.state()
    assert env.state_space.contains(state)
    state[1] = 1.5  # a seller share above 1
    assert not env.state_space.contains(state)


def test_clamped_actions_are_counted_in_the_infos(small) -> None:
    env = iovmarket.parallel_env(**small)
    env.reset(seed=0)
    actions = {a: np.array([1.5], dtype=np.float32) for a in env.agents}
    _, _, _, _, infos = env.step(actions)
    assert all(info["clamped_actions"] == len(env.possible_agents) for info in infos.values())


def test_a_step_that_leaves_out_a_live_agent_raises(small) -> None:
    # Issue 15: as PettingZoo's own envs, a missing live agent is an error, not a silent 0 bid.
    env = iovmarket.parallel_env(**small)
    env.reset(seed=0)
    actions = {a: 0.5 for a in env.agents if a != "vehicle_3"}
    with pytest.raises(KeyError, match="vehicle_3"):
        env.step(actions)
    with pytest.raises(KeyError, match="12 live agent"):
        env.step({})
    env.step({a: 0.5 for a in env.agents})


def test_the_reward_is_shared_so_the_dict_sums_it_once_per_agent(small) -> None:
    env = iovmarket.parallel_env(**small)
    env.reset(seed=2)
    _, rewards, _, _, infos = env.step({a: 0.7 for a in env.agents})
    slot_reward = infos["vehicle_0"]["reward"]
    assert all(r == slot_reward for r in rewards.values())
    assert sum(rewards.values()) == pytest.approx(len(env.possible_agents) * slot_reward)
    assert "once per agent" in type(env).__doc__
