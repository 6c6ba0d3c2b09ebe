"""Shared fixtures: a small scenario keeps the suite fast; the paper's runs where it matters."""

from __future__ import annotations

import pytest

# 12 vehicles, 20 slots: every code path, a fraction of the time.
SMALL = {"scenario__vehicles": 12, "scenario__episode_slots": 20}


@pytest.fixture
def small() -> dict[str, int]:
    return dict(SMALL)
