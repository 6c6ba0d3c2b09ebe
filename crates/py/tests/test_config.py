"""Config forms and error mapping: a bad config raises ConfigError carrying Rust's message."""

from __future__ import annotations

from pathlib import Path

import pytest

import iovmarket
from iovmarket import ConfigError, Scenario

PAPER = Path(__file__).resolve().parents[3] / "configs" / "paper.toml"


def test_config_error_is_a_value_error_naming_the_key() -> None:
    assert issubclass(ConfigError, ValueError)
    with pytest.raises(ConfigError, match=r"workload\.request_prob.*probability"):
        iovmarket.parallel_env(workload__request_prob=1.5)
    with pytest.raises(ConfigError, match=r"market\.foo.*unknown config key"):
        iovmarket.VecEnv(2, market__foo=1)
    with pytest.raises(ConfigError, match=r"market\.mechanism"):
        iovmarket.simulate({"market": {"mechanism": "nonsense"}})
    with pytest.raises(ConfigError, match="nope"):
        iovmarket.parallel_env("[nope]\nx = 1\n")
    with pytest.raises(ConfigError, match=r"scenario\.vehicles"):
        iovmarket.parallel_env({"scenario.vehicles": 0})


def test_bad_toml_file_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[channel]\nbandwidth_hz = -1.0\n")
    with pytest.raises(ConfigError, match=r"channel\.bandwidth_hz"):
        iovmarket.parallel_env(bad)
    with pytest.raises(ConfigError, match=r"channel\.bandwidth_hz"):
        iovmarket.parallel_env(str(bad))
    with pytest.raises(FileNotFoundError):
        iovmarket.parallel_env(str(tmp_path / "missing.toml"))
    with pytest.raises(TypeError):
        iovmarket.parallel_env(42)


def test_every_config_form_gives_the_same_scenario(tmp_path: Path) -> None:
    expected = Scenario("", [("market.bid_max", "1.5"), ("scenario.vehicles", "20")]).to_toml()
    f = tmp_path / "s.toml"
    f.write_text("[market]\nbid_max = 1.5\n[scenario]\nvehicles = 20\n")
    forms = [
        iovmarket.parallel_env(f),
        iovmarket.parallel_env(str(f)),
        iovmarket.parallel_env(f.read_text()),
        iovmarket.parallel_env({"market": {"bid_max": 1.5}, "scenario": {"vehicles": 20}}),
        iovmarket.parallel_env({"market.bid_max": 1.5, "scenario.vehicles": 20}),
        iovmarket.parallel_env(market__bid_max=1.5, scenario__vehicles=20),
        iovmarket.parallel_env(Scenario(f.read_text())),
    ]
    for env in forms:
        assert env.scenario.to_toml() == expected
        assert len(env.possible_agents) == 20


def test_paper_toml_is_the_default_and_overrides_apply_last() -> None:
    assert iovmarket.parallel_env(PAPER).scenario.to_toml() == Scenario().to_toml()
    s = iovmarket.parallel_env(PAPER, scenario__vehicles=8).scenario
    assert s.vehicles == 8
    s = iovmarket.parallel_env({"agents": {"bidder": "shaded:0.5"}}, agents__bidder="random")
    assert s.scenario.bidder == "random"


def test_episode_over_and_bad_actions_are_python_exceptions(small) -> None:
    env = iovmarket.parallel_env(**small)
    env.reset(seed=0)
    core = env.core
    while env.agents:
        env.step(dict.fromkeys(env.agents))
    import numpy as np

    with pytest.raises(iovmarket.EpisodeOverError, match="reset"):
        core.step(np.zeros(12, dtype=np.float32))
    core.reset(1)
    with pytest.raises(ValueError, match="expected length 12"):
        core.step(np.zeros(3, dtype=np.float32))


def test_typed_choices_keep_their_keys_and_override_names() -> None:
    """Issue 10: mechanism and bidder became enums; the TOML keys, ``--set`` names and
    ``table__key`` overrides stay as they were."""
    env = iovmarket.parallel_env(
        market__mechanism="kda", market__kda_k=0.25, agents__bidder="shaded:0.8", train__lr=0.01
    )
    s = env.scenario
    assert (s.mechanism, s.bidder) == ("kda", "shaded:0.8")
    toml = s.to_toml()
    for line in ['mechanism = "kda"', "kda_k = 0.25", 'bidder = "shaded:0.8"', "lr = 0.01"]:
        assert line in toml, toml
    assert "gamma = 0.95" in toml  # the [train] table is written out in full
    with pytest.raises(ConfigError, match=r"train\.foo.*unknown config key"):
        iovmarket.parallel_env(train__foo=1)
    with pytest.raises(ConfigError, match=r"train\.lr"):
        iovmarket.parallel_env(train__lr=-1.0)
    with pytest.raises(ConfigError, match=r"agents\.bidder"):
        iovmarket.parallel_env(agents__bidder="shaded:x")


def test_an_override_without_a_table_shows_the_table__key_form() -> None:
    # Issue 15: parallel_env(vehicles=20) failed with "expected `table.key`" only.
    with pytest.raises(iovmarket.ConfigError, match="scenario__vehicles"):
        iovmarket.parallel_env(vehicles=20)
    with pytest.raises(iovmarket.ConfigError, match="no table has a key `nonsense`"):
        iovmarket.parallel_env(nonsense=1)
