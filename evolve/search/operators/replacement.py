"""Survival: elitism, and which member a steady-state step replaces."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evolve.search.operators.selection import ranked


def elites(scores: Sequence[float], k: int) -> list[int]:
    """Indices of the ``k`` best (ties: earliest first). These survive unchanged."""
    return [int(i) for i in ranked(np.asarray(scores, dtype=float))[: max(0, k)]]


def evict(scores: Sequence[float], born: Sequence[int], how: str, protect: int = 0) -> int:
    """Index of the member a steady-state step removes.

    ``how`` is ``"oldest"`` (aging, as in regularized evolution) or ``"worst"``; the ``protect``
    best members are never removed (elitism).
    """
    kept = set(elites(scores, protect))
    candidates = [i for i in range(len(scores)) if i not in kept] or list(range(len(scores)))
    if how == "oldest":
        return min(candidates, key=lambda i: (born[i], i))
    if how == "worst":
        return min(candidates, key=lambda i: (scores[i], -born[i]))
    raise ValueError(f"unknown replacement '{how}' (known: generational, oldest, worst)")


REPLACEMENTS = ("generational", "oldest", "worst")
