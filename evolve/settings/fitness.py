"""Which fitness a run evaluates, as its ``config.toml`` records it, and reading a run's config.

``run.fitness`` is ``keras`` (the config's networks), ``module:qualname`` (a function given to
``evolve.optimize`` that can be imported again, so ``resume`` works from the command line too),
or ``python`` (a function defined in a script or notebook: resume from Python).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evolve.rundir.store import RunDir, RunDirError
from evolve.settings import config as configuration
from evolve.settings.config import PYTHON_FITNESS, Config


class SessionError(ValueError):
    """A run that cannot start as asked; one line for the user."""


def fitness_path(fitness: Callable[..., Any]) -> str:
    """``module:qualname`` of a fitness that can be imported again, else ``"python"``."""
    module = getattr(fitness, "__module__", None)
    name = getattr(fitness, "__qualname__", "")
    if not module or module == "__main__" or not name or "<" in name:
        return PYTHON_FITNESS
    return f"{module}:{name}"


def load_fitness(path: str, run: Path) -> Callable[..., Any]:
    """Import ``module:qualname``; ``SessionError`` saying to resume from Python otherwise."""
    if path == PYTHON_FITNESS:
        raise SessionError(
            f"{run}'s fitness was given in Python and cannot be imported (defined in a script "
            "or a notebook); resume it from Python: evolve.resume(RUN_DIR, fitness)"
        )
    module, _, name = path.partition(":")
    if os.getcwd() not in sys.path:  # as `python -m` would: the folder you resume from
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise SessionError(
            f"cannot import the run's fitness {path}: {exc} (resume from the folder that holds "
            "its module, or put that folder on PYTHONPATH)"
        ) from None
    if not callable(found):
        raise SessionError(f"the run's fitness {path} is not a function")
    return found


def read_config(run: RunDir) -> Config:
    """A run's config: ``config.toml``, or the ``settings.json`` of an older Python run."""
    if run.config.exists():
        return configuration.load(run.config, family=False)
    legacy = run.path / "settings.json"
    if not legacy.exists():
        holder = run.holder() if run.path.is_dir() else None
        if holder is not None:  # a run in its first seconds: its config is not written yet
            raise RunDirError(f"{run.path} is in use by {holder}; one process per run")
        if not run.path.exists():
            raise RunDirError(f"{run.path} does not exist")
        raise RunDirError(f"{run.path} holds no run (no config.toml)")
    old = json.loads(legacy.read_text())
    search = {k: old[k] for k in ("strategy", "direction", "objective", "budget", "ordered")}
    if old.get("target") is not None:
        search["target"] = old["target"]
    data = {
        "run": {"seed": old["seed"], "backend": "inline", "fitness": PYTHON_FITNESS},
        "search": {**search, **old["search"]},
        "genes": old["genes"],
    }
    return configuration.from_dict(data)
