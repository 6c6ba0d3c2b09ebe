"""``VecEnv``: many envs stepped in one call on numpy arrays (the fast path for learners)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _core
from ._config import ConfigLike, resolve_scenario

__all__ = ["VecEnv"]


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class VecEnv:
    """``n_envs`` copies of one scenario, stepped together in Rust with the GIL released.

    ================ ==================================================================
    ``reset``        ``obs, infos``
    ``step``         ``obs, rewards, terminations, truncations, infos``
    obs              ``(n_envs, num_agents, obs_dim)`` float32
    rewards          ``(n_envs,)`` float64: the shared reward R(t) of each env;
                     ``agent_rewards()`` gives ``(n_envs, num_agents)``, each agent's own
                     reward (R(t) for all, or its utility with ``reward__kind="individual"``)
    terminations     ``(n_envs,)`` bool, always False
    truncations      ``(n_envs,)`` bool; all envs truncate together after ``episode_slots``
    infos            dict of ``(n_envs,)`` arrays, one per slot metric (float64 values,
                     int64 counts), plus ``"active"``: ``(n_envs, num_agents)`` float32, 1
                     where the agent's next action matters
    ``state()``      ``(n_envs, state_dim)`` float32, for a centralised critic
    ================ ==================================================================

    Actions are ``(n_envs, num_agents)`` (or ``(n_envs, num_agents, 1)``) in [0, 1]; float32
    C-contiguous arrays are used without a copy.

    **Zero copy.** Every array returned is a read-only view of a buffer this object owns and
    Rust writes in place; the next ``reset`` or ``step`` overwrites it. Copy what you keep
    (``obs.copy()``). There is no auto-reset: after the truncating step, call ``reset``.

    Seeding: ``reset(seed=s)`` gives env i the run seed ``s + i``; ``reset()`` continues with the
    next unused seeds, starting from ``scenario.seed``. Env i therefore plays exactly the episode
    that ``parallel_env(...).reset(seed=s + i)`` plays.
    """

    def __init__(self, n_envs: int, config: ConfigLike = None, **overrides: Any) -> None:
        self.scenario: _core.Scenario = resolve_scenario(config, overrides)
        self._core = _core.VecEnv(self.scenario, int(n_envs))
        obs, state, active, rewards, truncations, floats, ints = self._core.buffers()
        self._obs = _readonly(obs)
        self._state = _readonly(state)
        self._rewards = _readonly(rewards)
        self._truncations = _readonly(truncations)
        self._terminations = _readonly(np.zeros(self.n_envs, dtype=bool))
        self._infos: dict[str, np.ndarray] = {}
        for k, name in enumerate(_core.SLOT_FLOAT_FIELDS):
            self._infos[name] = _readonly(floats[k])
        for k, name in enumerate(_core.SLOT_INT_FIELDS):
            self._infos[name] = _readonly(ints[k])
        self._infos["active"] = _readonly(active)
        self._next_seed = self.scenario.seed

    @property
    def n_envs(self) -> int:
        return self._core.n_envs

    @property
    def num_agents(self) -> int:
        return self._core.num_agents

    @property
    def obs_dim(self) -> int:
        return self._core.obs_dim

    @property
    def state_dim(self) -> int:
        return self._core.state_dim

    @property
    def episode_slots(self) -> int:
        return self._core.episode_slots

    def reset(
        self, seed: int | Sequence[int] | None = None
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Starts a new episode in every env (see the class docs for the seeds)."""
        if seed is None:
            seed = self._next_seed
        if isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(self.n_envs)]
        else:
            seeds = [int(s) for s in seed]
        self._core.reset(seeds)
        self._next_seed = max(seeds) + 1
        return self._obs, self._infos

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Plays one slot in every env."""
        a = np.ascontiguousarray(actions, dtype=np.float32)
        if a.ndim == 3 and a.shape[2] == 1:
            a = a.reshape(a.shape[0], a.shape[1])
        self._core.step(a)
        return self._obs, self._rewards, self._terminations, self._truncations, self._infos

    def agent_rewards(self) -> np.ndarray:
        """Each agent's reward of the last slot, ``(n_envs, num_agents)`` float64 (a new array):
        R(t) for every agent, or each buyer's own utility with ``reward__kind="individual"``."""
        return self._core.agent_rewards()

    def state(self) -> np.ndarray:
        """The global state of every env, ``(n_envs, state_dim)`` float32 (a read-only view)."""
        return self._state

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"VecEnv(n_envs={self.n_envs}, {self.scenario!r})"
