"""The PettingZoo ``ParallelEnv`` over the Rust market simulation."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.spaces import Box
from pettingzoo import ParallelEnv

from . import _core
from ._config import ConfigLike, resolve_scenario
from ._render import render_rgb

__all__ = ["IovParallelEnv", "env", "parallel_env"]


class IovParallelEnv(ParallelEnv):
    """Decentralised double-auction markets for mobile AIGC in the Internet of Vehicles.

    ==================== ==========================================================
    Import               ``iovmarket.parallel_env(config=None, **overrides)``
    Agents               ``vehicle_0`` ... ``vehicle_{V-1}``, V = ``scenario.vehicles``
                         (80 by default); fixed for the episode
    Actions              ``Box(0, 1, (1,), float32)``: the bid is ``a * bid_max``; 0 sits
                         the slot out; ignored for vehicles with no pending request
    Observations         ``Box(0, high, (2N + 5,), float32)`` (``extended``, default) or
                         ``(N + 2,)`` (``paper``), N = RSUs
    State (critic)       ``Box(0, high, (6N + 1,), float32)`` (25 for the paper's N = 4)
    Reward               ``reward__kind="shared"`` (default): R(t) = SW(t) - alpha * beta(t)^2
                         - lambda * L(t), every agent's entry this one value, so summing
                         the reward dict counts it once per agent (V times); use one entry.
                         ``reward__kind="individual"``: each buyer's own utility u_v - p_v
                         (0 without a trade; minus lambda * own latency when
                         ``reward__individual_latency=True``)
    Episode end          truncation after ``scenario.episode_slots`` (100) slots; never
                         terminated
    Render modes         ``"rgb_array"`` (a raster map of roads, RSUs and vehicles)
    ==================== ==========================================================

    Each slot every RSU clears a double auction (the configured mechanism, McAfee by default)
    between the vehicles in its range that have a pending AIGC request (buyers) and its VMs
    (sellers). Observation ``extended``: market shares of buyers+sellers per RSU (N), the last
    clearing price of the agent's market, log2(1 + mean rate in Mbit/s), own valuation, has-request
    flag, slots waited / TTL, one-hot of the agent's RSU (N). ``paper`` keeps the first N + 2.
    The state: per RSU buyer share, seller share, last price, mean and max pending valuation, mean
    ask; then t / T.

    Every agent's info carries the slot's metrics (``reward``, ``welfare`` and its three
    variants, ``budget``, ``latency_ms``, ``trades``, ``buyers``, ``sellers``, ``dropped``,
    ``mean_buyer_utility``, ``ir_violations``, ``late_deliveries``, ``clamped_actions``,
    ``slot``) and ``active``: whether the agent's next action matters (pending request, in range).

    Seeding: ``reset(seed=s)`` plays run seed ``s``; each ``reset()`` without a seed plays the next
    seed (s + 1, s + 2, ...), starting from ``scenario.seed``, the convention of
    :func:`iovmarket.simulate`. Same config and seed give bit-identical episodes.

    Version history:

    * v0: initial release (pettingzoo 1.27 API). ``step()`` raises ``KeyError`` when a live agent
      has no action (it used to bid 0 for it).
    """

    metadata = {  # noqa: RUF012 - the PettingZoo convention: a class attribute
        "name": "iovmarket_v0",
        "render_modes": ["rgb_array"],
        "render_fps": 1,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        config: ConfigLike = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, "
                f"not {render_mode!r}"
            )
        self.render_mode = render_mode
        self.scenario: _core.Scenario = resolve_scenario(config, overrides)
        self._env = _core.Env(self.scenario)
        n = self._env.num_agents
        self.possible_agents: list[str] = [f"vehicle_{i}" for i in range(n)]
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        obs_high = self._env.observation_high()
        self.observation_spaces = {
            a: Box(0.0, obs_high, dtype=np.float32) for a in self.possible_agents
        }
        self.action_spaces = {
            a: Box(0.0, 1.0, (1,), dtype=np.float32) for a in self.possible_agents
        }
        self.state_space = Box(0.0, self._env.state_high(), dtype=np.float32)
        self._next_seed = self.scenario.seed
        self._actions = np.zeros(n, dtype=np.float32)

    # Spaces: the same objects on every call.
    def observation_space(self, agent: str) -> Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> Box:
        return self.action_spaces[agent]

    @property
    def core(self) -> _core.Env:
        """The Rust env (positions, serving RSUs, built-in bidders' actions, ...)."""
        return self._env

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Starts an episode of run seed ``seed`` (by default the next one; see the class docs).

        ``options`` is accepted for the PettingZoo API and ignored.
        """
        if seed is None:
            seed = self._next_seed
        seed = int(seed)
        self._next_seed = seed + 1
        self._env.reset(seed)
        self.agents = self.possible_agents[:]
        obs = self._env.observe()
        active = self._env.active()
        observations = {a: obs[i] for i, a in enumerate(self.agents)}
        infos = {a: {"active": bool(active[i])} for i, a in enumerate(self.agents)}
        return observations, infos

    def step(
        self, actions: dict[str, Any]
    ) -> tuple[
        dict[str, np.ndarray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Plays one slot; ``actions`` maps every live agent to a value in [0, 1] (a ``(1,)``
        array, a number, or ``None`` to bid 0 and sit out).

        Raises:
            KeyError: a live agent has no entry (as PettingZoo's own envs do), or an entry names
                no agent of this env.
        """
        if not self.agents:
            return {}, {}, {}, {}, {}
        if len(actions) != len(self.agents) or actions.keys() != self._index.keys():
            missing = [a for a in self.agents if a not in actions]
            if missing:
                shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
                raise KeyError(
                    f"step(): no action for {len(missing)} live agent(s) ({shown}); give every "
                    "agent in env.agents an action (None or 0 to sit the slot out)"
                )
        _shared, truncated = self._env.step(self._action_array(actions))
        obs = self._env.observe()
        active = self._env.active().tolist()
        metrics = self._env.metrics()
        agents = self.agents
        observations = dict(zip(agents, obs))
        rewards = dict(zip(agents, self._env.rewards().tolist()))
        terminations = dict.fromkeys(agents, False)
        truncations = dict.fromkeys(agents, truncated)
        infos = {a: {**metrics, "active": act > 0.0} for a, act in zip(agents, active)}
        if truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _action_array(self, actions: dict[str, Any]) -> np.ndarray:
        """The agent-keyed actions (one per agent, any order) as one float32 array."""
        acts = self._actions
        values = list(actions.values())
        try:  # fast path: one (1,)-shaped array per agent
            flat = np.concatenate(values) if values else acts[:0]
            if flat.shape != (len(values),):
                raise ValueError
        except (ValueError, TypeError):
            flat = np.array(
                [0.0 if v is None else np.asarray(v).reshape(-1)[0] for v in values],
                dtype=np.float32,
            )
        if len(values) == len(acts) and list(actions) == self.possible_agents:
            acts[:] = flat
        else:
            acts.fill(0.0)
            acts[[self._index[a] for a in actions]] = flat
        return acts

    def state(self) -> np.ndarray:
        """The global state for a centralised critic, shape ``state_space.shape``."""
        return self._env.state()

    def render(self) -> np.ndarray | None:
        """An ``(H, W, 3)`` uint8 map of roads, RSU coverage, RSUs and vehicles, or ``None``.

        Vehicles are coloured by their serving RSU (grey: out of coverage) and drawn larger
        while they have a pending request.
        """
        if self.render_mode is None:
            gymnasium.logger.warn(
                "render() called without a render_mode; use parallel_env(render_mode='rgb_array')"
            )
            return None
        return render_rgb(self._env)

    def close(self) -> None:
        pass


def parallel_env(
    config: ConfigLike = None, render_mode: str | None = None, **overrides: Any
) -> IovParallelEnv:
    """The PettingZoo ``ParallelEnv`` of ``config`` with ``table__key=value`` overrides.

    See :class:`IovParallelEnv` for agents, spaces, reward and seeding, and
    ``iovmarket._config`` for the accepted ``config`` forms.
    """
    return IovParallelEnv(config, render_mode=render_mode, **overrides)


def env(config: ConfigLike = None, render_mode: str | None = None, **overrides: Any):
    """The same environment as a PettingZoo AEC env (via ``parallel_to_aec``)."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(parallel_env(config, render_mode=render_mode, **overrides))
