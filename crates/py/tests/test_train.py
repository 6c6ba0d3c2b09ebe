"""``iovmarket.train``: MAPPO from Python, deterministic, with an evaluation."""

import numpy as np
import pytest

import iovmarket

SMALL = dict(
    scenario__vehicles=10,
    scenario__episode_slots=10,
    train__n_envs=2,
    train__ppo_epochs=2,
)


def test_train_returns_the_curve_and_an_evaluation() -> None:
    out = iovmarket.train(epochs=3, eval_episodes=2, **SMALL)
    curve, evaluation = out["curve"], out["evaluation"]
    assert list(curve["epoch"]) == [1, 2, 3]
    assert curve["reward"].shape == (3,)
    assert np.isfinite(curve["reward"]).all()
    assert evaluation["reward"].shape == (2,)
    assert np.isfinite(evaluation["latency_ms"]).all()


def test_train_is_deterministic() -> None:
    a = iovmarket.train(epochs=2, eval_episodes=1, **SMALL)
    b = iovmarket.train(epochs=2, eval_episodes=1, **SMALL)
    np.testing.assert_array_equal(a["curve"]["reward"], b["curve"]["reward"])
    np.testing.assert_array_equal(a["evaluation"]["reward"], b["evaluation"]["reward"])


def test_train_rejects_a_bad_config_with_the_rust_message() -> None:
    with pytest.raises(iovmarket.ConfigError, match=r"train\.lr"):
        iovmarket.train(epochs=1, train__lr=-1.0)
