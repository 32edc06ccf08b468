"""The run configuration: a TOML file -> validated dataclasses, and back to TOML."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from evolve.search.registry import (
    SettingError,
    coerce,
    load_strategy,
    strategy_settings,
    suggest,
)
from evolve.settings.checks import DIRECTIONS, check, choices, max_epochs
from evolve.settings.objective import default_direction, resolve_objective
from evolve.settings.sections import (
    KERAS_FITNESS,
    PYTHON_BUILD,
    PYTHON_FITNESS,
    Config,
    ConfigError,
    DataSection,
    ModelSection,
    RunSection,
    SearchSection,
    TrainingSection,
)
from genomes.genes import GeneError
from genomes.space import SearchSpace

__all__ = [
    "DIRECTIONS",
    "KERAS_FITNESS",
    "PYTHON_FITNESS",
    "Config",
    "ConfigError",
    "DataSection",
    "ModelSection",
    "RunSection",
    "SearchSection",
    "TrainingSection",
    "choices",
    "default_direction",
    "from_dict",
    "load",
    "max_epochs",
    "resolve_objective",
]

SECTIONS = {f.name: f for f in dataclasses.fields(Config) if f.name != "genes"}


def _coerce(key: str, value: Any, like: Any) -> Any:
    if isinstance(like, list):
        if not isinstance(value, list) or len(value) != len(like) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
        ):
            raise ConfigError(f"{key} must be [height, width] in pixels, got {value!r}")
        return value
    try:
        return coerce(key, value, like)
    except SettingError as exc:
        raise ConfigError(str(exc)) from None


def from_dict(data: dict[str, Any]) -> Config:
    """A validated config from parsed TOML; every unknown key is an error."""
    cfg = Config()
    named = data.get("search", {}).get("strategy") if isinstance(data.get("search"), dict) else None
    if isinstance(named, str) and ":" in named:  # a strategy of yours: its settings known first
        try:
            load_strategy(named)
        except SettingError as exc:
            raise ConfigError(str(exc)) from None
    for section, table in data.items():
        if section == "genes":
            if not isinstance(table, dict):
                raise ConfigError("[genes] must be a table of gene declarations")
            cfg.genes = table
            continue
        if section not in SECTIONS:
            raise ConfigError(
                f"unknown section [{section}]" + suggest(section, [*SECTIONS, "genes"])
            )
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] must be a table")
        target = getattr(cfg, section)
        names = [f.name for f in dataclasses.fields(target) if f.name != "options"]
        extra = strategy_settings() if section == "search" else {}
        for key, value in table.items():
            where = f"{section}.{key}"
            if key in extra:
                try:
                    target.options[key] = extra[key].parse(value, section)
                except SettingError as exc:
                    raise ConfigError(str(exc)) from None
            elif key not in names:
                raise ConfigError(f"unknown key {where}" + suggest(key, [*names, *extra]))
            else:
                setattr(target, key, _coerce(where, value, getattr(target, key)))
    check(cfg)
    return cfg


def load(
    path: str | Path, overrides: dict[str, Any] | None = None, family: bool = True
) -> Config:
    """Read a TOML config, apply ``{"section.key": value}`` overrides, and validate; with
    ``family``, the model family too (a user's build function is imported): a run's saved
    config is read without it, so ``inspect`` and ``export`` need no importable module."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    for key, value in (overrides or {}).items():
        section, name = key.split(".")
        data.setdefault(section, {})[name] = value
    cfg = from_dict(data)
    if not cfg.genes:
        if cfg.run.keras and cfg.model.family != PYTHON_BUILD and family:
            cfg.family()  # a family that cannot be used says so first
        raise ConfigError(f"{path} declares no genes: add a [genes] table")
    if cfg.model.family == PYTHON_BUILD or not family:  # resuming asks for the function
        try:
            SearchSpace.from_config(cfg.genes)
        except GeneError as exc:
            raise ConfigError(str(exc)) from None
    else:
        cfg.space()
    return cfg
