"""``simulate``: episodes with a built-in (non-learned) bidder, run entirely in Rust."""

from __future__ import annotations

from typing import Any

from . import _core
from ._config import ConfigLike, resolve_scenario

__all__ = ["simulate"]


def simulate(
    config: ConfigLike = None,
    episodes: int = 1,
    seed: int | None = None,
    bidder: str | None = None,
    per_slot: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """Runs ``episodes`` episodes and returns their metrics as numpy columns.

    Args:
        config: scenario (``None``, TOML path or text, dict, ``Scenario``).
        episodes: number of episodes; episode i plays run seed ``seed + i``, exactly as
            ``parallel_env(...).reset(seed=seed + i)`` does.
        seed: first run seed; by default ``scenario.seed``.
        bidder: ``"truthful"``, ``"random"`` or ``"shaded:F"``; by default the config's
            ``agents.bidder`` (itself ``"truthful"`` by default), so a bidder set in the config is
            not silently replaced.
        per_slot: also return per-slot metrics under ``"per_slot"``.
        **overrides: ``table__key=value`` config overrides.

    Returns:
        ``{"seed", "episode", "slots", "reward", "welfare", "welfare_gains",
        "welfare_participants", "welfare_paper_eq1", "budget", "latency_ms", "trades",
        "buyers", "dropped", "ir_violations"}`` as ``(episodes,)`` arrays of per-episode totals
        (``"slots"`` is the slot count), and with ``per_slot`` a dict ``"per_slot"`` of
        ``(episodes, T)`` arrays, one per slot metric.

    Episodes run in parallel in Rust with the GIL released.
    """
    scenario = resolve_scenario(config, overrides)
    return _core.simulate(
        scenario,
        int(episodes),
        scenario.seed if seed is None else int(seed),
        scenario.bidder if bidder is None else bidder,
        bool(per_slot),
    )
