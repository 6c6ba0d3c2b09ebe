"""A 2-task Ray sweep on a local Ray, and the CSV it writes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import iovmarket
from iovmarket._sweep import grid, run_cell, scenario_parts, write_csv_atomic

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_two_task_sweep_writes_csv(local_ray, tmp_path: Path) -> None:
    out = tmp_path / "results" / "sweep.csv"
    rows = iovmarket.sweep(
        mechanisms=["mcafee"],
        vehicles=[10, 20],
        seeds=[3],
        episodes=2,
        out=out,
        scenario__episode_slots=20,
    )
    assert [r["vehicles"] for r in rows] == [10, 20]
    with out.open() as f:
        table = list(csv.DictReader(f))
    assert len(table) == 2
    assert {"mechanism", "vehicles", "seed", "reward_mean", "reward_std", "wall_s"} <= set(table[0])
    assert [int(r["vehicles"]) for r in table] == [10, 20]
    assert all(float(r["ir_violations_mean"]) == 0.0 for r in table)
    assert not list(out.parent.glob(".*.tmp")), "no temporary file left behind"
    # The Ray result equals the same cell run in-process.
    text, base = scenario_parts(None, {"scenario__episode_slots": 20})
    cell = grid(["mcafee"], [10], [3], episodes=2)[0]
    local = run_cell(text, base, cell)
    assert local["reward_mean"] == rows[0]["reward_mean"]
    sim = iovmarket.simulate(episodes=2, seed=3, scenario__vehicles=10, scenario__episode_slots=20)
    assert rows[0]["reward_mean"] == pytest.approx(sim["reward"].mean())


def test_sweep_rejects_a_bad_base_config_before_starting_ray() -> None:
    with pytest.raises(iovmarket.ConfigError, match=r"market\.bid_max"):
        iovmarket.sweep(vehicles=[10], market__bid_max=-1, out=None)


def test_grid_order_and_overrides() -> None:
    cells = grid(["mcafee"], [20, 40], [0, 1], [{}, {"agents__bidder": "random"}], episodes=3)
    assert len(cells) == 8
    assert cells[1]["overrides"] == {"agents.bidder": "random"}
    assert [c["vehicles"] for c in cells[:4]] == [20] * 4


def test_csv_write_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    out.write_text("old\n")
    with pytest.raises(TypeError):
        write_csv_atomic([{"a": 1}, object()], out)  # fails midway
    assert out.read_text() == "old\n", "a failed write leaves the old file intact"
    assert not list(tmp_path.glob(".*.tmp"))
    write_csv_atomic([{"a": 1, "b": 2}, {"a": 3, "c": 4}], out)
    assert out.read_text().splitlines() == ["a,b,c", "1,2,", "3,,4"]
