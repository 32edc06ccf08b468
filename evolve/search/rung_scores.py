"""How the GA compares genomes trained to different rungs (multi-fidelity).

A genome stopped at a low rung has only a noisy, early score; one promoted has a score at a
higher rung too. Two genomes are compared at the highest rung both reached, and the population
is ranked by those pairwise comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cmp_to_key

import numpy as np

from evolve.search.base import score


def rung_scores(
    ids: Sequence[str],
    fitness: Sequence[float | None],
    rungs: Mapping[str, Mapping[int, float | None]],
    direction: str,
) -> np.ndarray:
    """What selection, elitism and replacement compare, shape ``(len(ids),)``, higher is
    better: the fitness (``score``: failures lowest, minimised objectives negated); when any
    genome has a score at a higher rung (``rungs``: id -> {rung: fitness}), each genome's rank
    instead (1 for the worst, n for the best) when they are sorted by comparing each pair at
    the highest rung both reached (``fitness`` is rung 0). Such comparisons can go round in a
    cycle (a beats b at rung 1, b beats c and c beats a at rung 0); the sort then settles the
    cycle, and the ranks stay a total order. Ties: the earlier genome ranks higher."""
    if not rungs:
        return np.array([score(f, direction) for f in fitness])
    levels = [{0: f, **rungs.get(i, {})} for i, f in zip(ids, fitness, strict=True)]

    def compare(i: int, j: int) -> int:
        shared = max(levels[i].keys() & levels[j].keys())
        a = score(levels[i][shared], direction)
        b = score(levels[j][shared], direction)
        return (a > b) - (a < b) or (j - i)

    order = sorted(range(len(ids)), key=cmp_to_key(compare))
    ranks = np.empty(len(ids))
    ranks[order] = np.arange(1, len(ids) + 1)
    return ranks
