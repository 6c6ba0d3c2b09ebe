"""``train``: MAPPO (or IPPO) bidders trained in Rust, returning the curve and an evaluation."""

from __future__ import annotations

from typing import Any

from . import _core
from ._config import ConfigLike, resolve_scenario

__all__ = ["train"]


def train(
    config: ConfigLike = None,
    epochs: int | None = None,
    eval_episodes: int = 10,
    eval_seed: int | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Trains the bidders of a scenario with MAPPO (``train.critic = "local"``: IPPO).

    Args:
        config: scenario (``None``, TOML path or text, dict, ``Scenario``); its ``[train]``
            table holds the hyperparameters and ``scenario.seed`` seeds the run.
        epochs: PPO iterations; by default ``train.epochs``.
        eval_episodes: held-out episodes played afterwards with the deterministic policy.
        eval_seed: first seed of those episodes; by default ``scenario.seed + 1_000_000_007``.
        **overrides: ``table__key=value`` config overrides.

    Returns:
        ``{"curve": {column: array}, "evaluation": {column: array}}`` of numpy arrays: one entry
        per epoch (every field of the Rust ``EpochStats``: mean episode metrics of the
        rollouts, losses, timings) and one per evaluation episode (every field of
        ``EpisodeMetrics``, as in ``EPISODE_FLOAT_FIELDS`` and ``EPISODE_INT_FIELDS``).
        Integer fields are ``int64``, float fields ``float64`` (``log_std`` is NaN for Beta
        actors).

    Runs in Rust with the GIL released; the same config gives bit-identical results.
    """
    scenario = resolve_scenario(config, overrides)
    seed = scenario.seed + 1_000_000_007 if eval_seed is None else int(eval_seed)
    return _core.train(scenario, None if epochs is None else int(epochs), int(eval_episodes), seed)
