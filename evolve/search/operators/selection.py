"""Parent selection: functions from scores (higher is better) to chosen indices.

Scores of failed evaluations are ``-inf``; they are never chosen by fitness-proportionate
methods unless every individual failed.
"""

from __future__ import annotations

import math

import numpy as np


def proportions(scores: np.ndarray) -> np.ndarray:
    """Slice of the pie for each individual.

    Non-negative scores are used as they are (the lesson's pie of fitness). When any score is
    negative (a loss to minimise is scored as its negative) they are shifted so the worst gets
    zero. Non-finite scores get nothing; if nothing is left, every individual gets an equal slice.
    """
    s = np.asarray(scores, dtype=float)
    finite = np.isfinite(s)
    if not finite.any():
        return np.full(len(s), 1.0 / len(s))
    low = s[finite].min()
    w = np.where(finite, s - low if low < 0 else s, 0.0)
    if w.sum() <= 0:
        w = finite.astype(float)
    return w / w.sum()


def sus(scores: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Stochastic universal sampling: ``n`` equally spaced pointers on one spin of the pie.

    The population is not sorted, as in the lesson. Each individual is chosen either
    floor(n * p) or ceil(n * p) times, where p is its slice.
    """
    edges = np.cumsum(proportions(scores))
    edges[-1] = 1.0
    pointers = rng.uniform(0.0, 1.0 / n) + np.arange(n) / n
    return np.searchsorted(edges, pointers, side="right").clip(0, len(edges) - 1)


def roulette(scores: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Fitness-proportionate selection with ``n`` independent spins."""
    return rng.choice(len(scores), size=n, p=proportions(scores))


def tournament(scores: np.ndarray, n: int, rng: np.random.Generator, k: int = 3) -> np.ndarray:
    """``n`` tournaments of ``k`` distinct contestants; the best of each wins."""
    s = np.asarray(scores, dtype=float)
    k = max(1, min(k, len(s)))
    winners = np.empty(n, dtype=int)
    for i in range(n):
        entrants = rng.choice(len(s), size=k, replace=False)
        winners[i] = entrants[np.argmax(s[entrants])]
    return winners


def truncation(
    scores: np.ndarray, n: int, rng: np.random.Generator, fraction: float = 0.5
) -> np.ndarray:
    """Keep the best ``fraction`` of the population and draw ``n`` parents from it uniformly."""
    order = ranked(scores)
    keep = order[: max(1, math.ceil(fraction * len(order)))]
    return rng.choice(keep, size=n, replace=True)


def ranked(scores: np.ndarray) -> np.ndarray:
    """Indices from best to worst; ties keep their original order."""
    return np.argsort(-np.asarray(scores, dtype=float), kind="stable")


SELECTIONS = {"sus": sus, "roulette": roulette, "tournament": tournament, "truncation": truncation}
