"""Crossover: two parents' alleles (in gene order) -> two children's alleles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

Alleles = tuple[Any, ...]


def single_point(
    a: Sequence[Any], b: Sequence[Any], rng: np.random.Generator
) -> tuple[Alleles, Alleles]:
    """Cut both parents at one random point; each child takes a prefix and the other's suffix."""
    if len(a) < 2:
        return tuple(a), tuple(b)
    point = int(rng.integers(1, len(a)))
    return tuple(a[:point]) + tuple(b[point:]), tuple(b[:point]) + tuple(a[point:])


def uniform(
    a: Sequence[Any], b: Sequence[Any], rng: np.random.Generator, p: float = 0.5
) -> tuple[Alleles, Alleles]:
    """Each gene comes from the first parent with probability ``p``; the second child mirrors."""
    mask = rng.random(len(a)) < p
    first = tuple(x if m else y for x, y, m in zip(a, b, mask, strict=True))
    second = tuple(y if m else x for x, y, m in zip(a, b, mask, strict=True))
    return first, second


CROSSOVERS = {"single_point": single_point, "uniform": uniform}
