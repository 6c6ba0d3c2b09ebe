"""``sweep``: a grid of experiments as Ray tasks, results to CSV.

The grid is mechanism x vehicles x seed x overrides. Each cell is one Ray task that runs
:func:`iovmarket.simulate` (``kind="simulate"``) and returns one row: the cell's parameters, the
mean and standard deviation over its episodes of every per-episode metric, and the wall time.
Training cells (``kind="train"``) come when the learning crate lands.

Ray is imported only here and only when ``sweep`` runs: ``pip install "iovmarket[ray]"``.
``address=None`` starts (and afterwards stops) a local Ray unless one is already running;
``address="auto"`` or ``"ray://host:10001"`` joins a cluster, whose nodes need ``iovmarket``
installed (or a ``runtime_env`` in ``ray_init``). The config is resolved on the caller's side and
shipped to the tasks as TOML text, so config files need not exist on the workers.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _core
from ._config import ConfigLike, scenario_parts

__all__ = ["grid", "run_cell", "sweep", "write_csv_atomic"]

PARAM_COLUMNS = ["kind", "mechanism", "vehicles", "seed", "episodes", "bidder", "overrides"]


def grid(
    mechanisms: Iterable[str],
    vehicles: Iterable[int],
    seeds: Iterable[int],
    overrides: Iterable[Mapping[str, Any]] = ({},),
    *,
    episodes: int = 10,
    bidder: str | None = None,
    kind: str = "simulate",
) -> list[dict[str, Any]]:
    """The cells of the grid, in row order (mechanism, then vehicles, seed, overrides)."""
    cells = []
    for m, v, s, o in itertools.product(mechanisms, vehicles, seeds, list(overrides)):
        cells.append(
            {
                "kind": kind,
                "mechanism": str(m),
                "vehicles": int(v),
                "seed": int(s),
                "episodes": int(episodes),
                "bidder": bidder,
                "overrides": {k.replace("__", "."): val for k, val in dict(o).items()},
            }
        )
    return cells


def run_cell(text: str, base: Sequence[tuple[str, str]], cell: Mapping[str, Any]) -> dict[str, Any]:
    """Runs one cell (also usable without Ray) and returns its CSV row."""
    if cell["kind"] != "simulate":
        raise ValueError(f"unknown sweep kind {cell['kind']!r}; expected 'simulate'")
    _, pairs = scenario_parts(
        None,
        {
            "market.mechanism": cell["mechanism"],
            "scenario.vehicles": cell["vehicles"],
            **cell["overrides"],
        },
    )
    scenario = _core.Scenario(text, [*base, *pairs])
    bidder = cell["bidder"] or scenario.bidder
    start = time.perf_counter()
    result = _core.simulate(scenario, cell["episodes"], cell["seed"], bidder, False)
    row: dict[str, Any] = {
        **cell,
        "bidder": bidder,
        "overrides": json.dumps(cell["overrides"], sort_keys=True),
    }
    for name in [*_core.EPISODE_FLOAT_FIELDS, *_core.EPISODE_INT_FIELDS]:
        if name in ("episode", "slots"):
            continue
        col = np.asarray(result[name], dtype=np.float64)
        row[f"{name}_mean"] = float(col.mean())
        row[f"{name}_std"] = float(col.std())
    row["slots_per_episode"] = int(np.asarray(result["slots"])[0])
    row["wall_s"] = time.perf_counter() - start
    return row


def write_csv_atomic(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Writes ``rows`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sweep(
    mechanisms: Iterable[str] = ("mcafee",),
    vehicles: Iterable[int] = (20, 40, 60, 80),
    seeds: Iterable[int] = (0,),
    overrides: Iterable[Mapping[str, Any]] = ({},),
    *,
    config: ConfigLike = None,
    episodes: int = 10,
    bidder: str | None = None,
    out: str | os.PathLike[str] | None = "results/sweep.csv",
    address: str | None = None,
    num_cpus_per_task: float = 1,
    ray_init: Mapping[str, Any] | None = None,
    **config_overrides: Any,
) -> list[dict[str, Any]]:
    """Runs the grid ``mechanisms x vehicles x seeds x overrides`` as Ray tasks.

    Args:
        mechanisms: ``market.mechanism`` values.
        vehicles: ``scenario.vehicles`` values.
        seeds: first run seed of each cell (episode i of a cell plays ``seed + i``).
        overrides: extra config variations, each a dict of ``table.key`` (or ``table__key``)
            to value, e.g. ``[{}, {"agents.bidder": "random"}]``.
        config: the base scenario (``None``, TOML path or text, dict, ``Scenario``).
        episodes: episodes per cell.
        bidder: bidder for every cell; by default each cell's ``agents.bidder``.
        out: CSV path, written atomically once all tasks are done; ``None`` writes nothing.
        address: Ray cluster address; ``None`` runs locally.
        num_cpus_per_task: Ray CPUs reserved per task.
        ray_init: extra ``ray.init`` keyword arguments (``num_cpus``, ``runtime_env``, ...).
        **config_overrides: ``table__key=value`` overrides of the base config.

    Returns:
        One row per cell, in grid order (the CSV's rows).
    """
    import ray

    text, base = scenario_parts(config, config_overrides)
    _core.Scenario(text, base)  # fail fast, before starting Ray, on a bad base config
    cells = grid(mechanisms, vehicles, seeds, overrides, episodes=episodes, bidder=bidder)
    started = False
    if not ray.is_initialized():
        ray.init(address=address, **dict(ray_init or {}))
        started = True
    try:
        task = ray.remote(num_cpus=num_cpus_per_task)(run_cell)
        rows = ray.get([task.remote(text, base, cell) for cell in cells])
    finally:
        if started:
            ray.shutdown()
    if out is not None:
        write_csv_atomic(rows, out)
    return rows
