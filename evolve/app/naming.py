"""A run's folder name: ``<strategy>-<dataset>-<timestamp>`` by default, or the user's
``run.name``; always one plain folder under ``results/``, whatever the dataset is called."""

from __future__ import annotations

import re
import time
import unicodedata
from pathlib import Path

from evolve.settings.sections import ConfigError

MOST_CHARACTERS = 40
"""The dataset's part of a default name is cut to this many characters."""


def dataset_label(dataset: str) -> str:
    """A short, plain label for a dataset in a folder name: its name (``digits``), a file's
    stem (``/data/wine.csv`` -> ``wine``), a folder's last part (``~/photos/`` -> ``photos``),
    folded to ASCII letters, digits, ``.``, ``_`` and ``-`` (``Données brutes.csv`` ->
    ``Donnees-brutes``); ``data`` when nothing is left."""
    path = Path(dataset.strip()).expanduser()
    if path.suffix.lower() in (".npz", ".csv", ".parquet"):
        label = path.stem
    else:
        label = path.name or path.resolve().name
    ascii_only = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_only).strip("-._")
    return plain[:MOST_CHARACTERS].strip("-._") or "data"


def default_name(strategy: str, dataset: str, now: float | None = None) -> str:
    """``ga-wine-20261203-101500``: what ``run`` names a run that has no ``run.name``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    kind = strategy.rpartition(":")[2]  # a strategy of yours: its class name
    return f"{kind}-{dataset_label(dataset)}-{stamp}"


def check_name(name: str) -> None:
    """``ConfigError`` (one line) for a ``run.name`` that is not one plain folder name: a path
    (``/``, ``\\``), ``.`` or ``..``, a control character, or more than 200 bytes."""
    if not name.strip():
        raise ConfigError("run.name is empty: give a folder name, or leave it out")
    if "/" in name or "\\" in name or name.strip() in (".", ".."):
        raise ConfigError(f"run.name = {name!r} must be a folder name, not a path (use --out)")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ConfigError(f"run.name = {name!r} holds a control character: use a plain name")
    if len(name.encode()) > 200:
        raise ConfigError(f"run.name is {len(name.encode())} bytes long; at most 200")
