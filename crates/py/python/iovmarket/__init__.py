"""iovmarket: decentralised double-auction markets for mobile AIGC in the Internet of Vehicles.

A Rust simulator (RSUs clear local double auctions every slot; VMs sell, vehicles bid) with

* :func:`parallel_env`: a PettingZoo ``ParallelEnv`` (``iovmarket_v0``), and :func:`env`, its
  AEC form;
* :class:`VecEnv`: many envs stepped in one Rust call on numpy arrays;
* :func:`simulate`: whole episodes with a built-in bidder, returning numpy columns;
* :func:`sweep`: a grid of runs as Ray tasks, results to CSV.

``config`` arguments take ``None`` (the paper's scenario), a TOML path or text, a dict or a
:class:`Scenario`; keyword overrides are written ``table__key=value``. A bad config raises
:class:`ConfigError` (a ``ValueError``) whose message names the key.
"""

from ._core import ConfigError, EpisodeOverError, Scenario, __version__
from ._env import IovParallelEnv, env, parallel_env
from ._simulation import simulate
from ._sweep import sweep
from ._train import train
from ._vector import VecEnv

__all__ = [
    "ConfigError",
    "EpisodeOverError",
    "IovParallelEnv",
    "Scenario",
    "VecEnv",
    "__version__",
    "env",
    "parallel_env",
    "simulate",
    "sweep",
    "train",
]
