"""The tabular benchmark's look-up: configurations of the lesson's grid and their trained scores.

``bench/make_table.py`` writes the table; this module reads it. A configuration's *true*
quality is its mean validation accuracy over the table's seeds; a search sees one seed's result,
drawn at random per training, as it would from a real training.
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TABLE = ROOT / "bench" / "data" / "lesson_grid_digits_e1.csv"
GENES = ("dropout", "learning_rate", "filters", "kernel_size")

Key = tuple[float, ...]


def key_of(genes: Mapping[str, Any] | Sequence[Any]) -> Key:
    """A configuration's look-up key: its four alleles, rounded so floats compare exactly."""
    values = [genes[g] for g in GENES] if isinstance(genes, Mapping) else list(genes)
    return tuple(float(f"{float(v):.6g}") for v in values)


def lesson_genes() -> dict[str, Any]:
    """The ``[genes]`` table of ``configs/lesson_grid.toml``: the space the table covers."""
    with open(ROOT / "configs" / "lesson_grid.toml", "rb") as handle:
        return tomllib.load(handle)["genes"]


@dataclass
class Table:
    """Each configuration's validation accuracy per seed (a failed training counts as 0)."""

    scores: dict[Key, list[float]]
    values: dict[str, list[float]] = field(default_factory=dict)
    """Each gene's alleles, in order."""

    @classmethod
    def load(cls, path: Path = DEFAULT_TABLE) -> Table:
        scores: dict[Key, list[float]] = defaultdict(list)
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                accuracy = row["val_accuracy"]
                ok = row["status"] == "ok" and accuracy and math.isfinite(float(accuracy))
                scores[key_of(row)].append(float(accuracy) if ok else 0.0)
        values = {g: sorted({k[i] for k in scores}) for i, g in enumerate(GENES)}
        return cls(dict(scores), values)

    @property
    def keys(self) -> list[Key]:
        return list(self.scores)

    @cached_property
    def means(self) -> dict[Key, float]:
        """Each configuration's true quality: its mean over the seeds."""
        return {k: float(np.mean(v)) for k, v in self.scores.items()}

    def mean(self, key: Key) -> float:
        return self.means[key]

    @cached_property
    def best_mean(self) -> float:
        return max(self.means.values())

    def top(self, share: float = 0.01) -> set[Key]:
        """The configurations whose mean is in the best ``share`` (at least one)."""
        count = max(1, math.ceil(share * len(self.scores)))
        ranked = sorted(self.scores, key=self.mean, reverse=True)
        return set(ranked[:count])

    def draw(self, key: Key, rng: np.random.Generator) -> float:
        """One seed's accuracy for ``key``, chosen at random: what one training would give."""
        seeds = self.scores[key]
        return seeds[int(rng.integers(len(seeds)))]

    def regret(self, key: Key) -> float:
        return self.best_mean - self.mean(key)


class Enough(Exception):
    """Ends one of our searches once its trace holds all the benchmark needs."""


class Trace(list[tuple[Key, float]]):
    """The trainings of one search, in order: configuration and the accuracy it gave.

    ``enough`` turns true after ``cap`` trainings, or once a top configuration was trained and
    at least ``horizon`` trainings were made (the latest point where regret is reported).
    """

    def __init__(self, table: Table, top: set[Key], cap: int, horizon: int = 100) -> None:
        super().__init__()
        self.table, self.top, self.cap, self.horizon = table, top, cap, horizon
        self.found = False

    def train(self, key: Key, draws: np.random.Generator) -> float:
        accuracy = self.table.draw(key, draws)
        self.append((key, accuracy))
        self.found |= key in self.top
        return accuracy

    def enough(self) -> bool:
        return len(self) >= self.cap or (self.found and len(self) >= self.horizon)
