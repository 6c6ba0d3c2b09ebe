"""Turning the ``config`` and ``**overrides`` arguments into a validated :class:`Scenario`.

Every public entry point (``parallel_env``, ``VecEnv``, ``simulate``, ``sweep``) takes

* ``config``: ``None`` (the paper's scenario, ``configs/paper.toml``), a path to a TOML file
  (``str`` or ``os.PathLike``), TOML text (a ``str`` that is not an existing file and contains
  ``=`` or a ``[table]`` header), a ``dict`` (nested ``{"market": {"mechanism": "kda"}}`` or
  dotted ``{"market.mechanism": "kda"}``), or a ready :class:`Scenario`;
* ``**overrides``: ``table__key=value`` keyword arguments (``market__mechanism="kda"``,
  ``scenario__vehicles=20``), applied after ``config``.

Values are sent to Rust as TOML literals; Rust checks every key and range and raises
:class:`ConfigError` naming the key.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np

from ._core import ConfigError, Scenario

ConfigLike = Union[None, str, "os.PathLike[str]", Mapping[str, Any], Scenario]

__all__ = ["ConfigLike", "resolve_scenario", "scenario_parts", "toml_literal"]


def toml_literal(value: Any) -> str:
    """``value`` as a TOML literal (strings quoted, lists bracketed)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (Sequence, np.ndarray)):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    raise TypeError(f"cannot express {value!r} ({type(value).__name__}) as a TOML value")


def _flatten(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            pairs.extend(_flatten(value, dotted + "."))
        else:
            pairs.append((dotted, toml_literal(value)))
    return pairs


def _looks_like_toml(text: str) -> bool:
    return "=" in text or "\n" in text or text.lstrip().startswith("[")


def scenario_parts(
    config: ConfigLike = None, overrides: Mapping[str, Any] | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """``config`` and ``overrides`` as TOML text plus ``("table.key", literal)`` pairs."""
    text = ""
    pairs: list[tuple[str, str]] = []
    if config is None:
        pass
    elif isinstance(config, Scenario):
        text = config.to_toml()
    elif isinstance(config, os.PathLike):
        text = Path(config).read_text(encoding="utf-8")
    elif isinstance(config, str):
        if os.path.isfile(config):
            text = Path(config).read_text(encoding="utf-8")
        elif _looks_like_toml(config) or not config.strip():
            text = config
        else:
            raise FileNotFoundError(f"config file not found: {config!r}")
    elif isinstance(config, Mapping):
        pairs.extend(_flatten(config))
    else:
        raise TypeError(
            "config must be None, a TOML path or text, a dict or a Scenario, "
            f"not {type(config).__name__}"
        )
    for key, value in (overrides or {}).items():
        if "__" not in key and "." not in key:  # internal callers pass dotted keys
            raise ConfigError(_override_hint(key))
        pairs.append((key.replace("__", "."), toml_literal(value)))
    return text, pairs


def _override_hint(key: str) -> str:
    """The error for an override keyword without a table (``vehicles=20``), showing the
    ``table__key`` form (``scenario__vehicles=20``) when ``key`` exists in exactly one table."""
    import tomllib

    tables = tomllib.loads(Scenario().to_toml())
    homes = [t for t, keys in tables.items() if isinstance(keys, dict) and key in keys]
    form = f"{homes[0]}__{key}" if len(homes) == 1 else f"TABLE__{key}"
    unknown = "" if homes else f" (no table has a key `{key}`)"
    return f"override `{key}`: overrides are written table__key, e.g. `{form}=...`{unknown}"


def resolve_scenario(
    config: ConfigLike = None, overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """The validated scenario for ``config`` plus ``overrides``.

    Raises:
        ConfigError: a malformed config, unknown key or out-of-range value (the message names
            the key).
        FileNotFoundError: ``config`` names a file that does not exist.
    """
    if isinstance(config, Scenario) and not overrides:
        return config
    text, pairs = scenario_parts(config, overrides)
    return Scenario(text, pairs)
