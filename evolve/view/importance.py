"""Which genes matter: permutation importance of a random forest fitted to the history.

scikit-learn's ``RandomForestRegressor`` learns fitness from the genes of every successful
training (at the highest rung reached, re-evaluations aside); ``permutation_importance``
(Breiman 2001; scikit-learn's implementation) then measures how much the forest's fit of the
history drops when one gene's column is shuffled. scikit-learn is already a dependency (the
embedded datasets), works with any number of genes, and needs no optional extra; Optuna's
fANOVA evaluator would need Optuna installed for every run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from evolve.engine.records import Status

MIN_RECORDS = 8
"""Fewer successful trainings than this say nothing about genes: no importance."""


def encode(values: Sequence[Any]) -> np.ndarray:
    """A gene's alleles as numbers: numbers as they are, anything else by its sorted rank."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=float)
    order = {v: i for i, v in enumerate(sorted(set(map(str, values))))}
    return np.asarray([order[str(v)] for v in values], dtype=float)


def comparable(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The trainings to compare genes on: each successful one (no re-evaluation, no cache
    answer) at the highest rung with ``MIN_RECORDS`` of them, else at the rung with most (every
    training in a run without rungs): a 1-epoch result beside a full one would mislead."""
    ok = [
        r for r in records
        if Status(r["status"]) == Status.OK and r["fitness"] is not None and not r.get("repeat")
    ]  # fmt: skip
    if not ok:
        return []
    count = Counter(r.get("rung", 0) for r in ok)
    enough = [k for k in sorted(count, reverse=True) if count[k] >= MIN_RECORDS]
    rung = enough[0] if enough else count.most_common(1)[0][0]
    return [r for r in ok if r.get("rung", 0) == rung]


def gene_importance(
    records: Sequence[Mapping[str, Any]], seed: int = 0
) -> dict[str, dict[str, float]] | None:
    """``{gene: {"mean", "std"}}``, the drop in R^2 when the gene is shuffled (10 repeats),
    largest first, from the highest rung with ``MIN_RECORDS`` successful trainings (every
    training in a run without rungs); ``None`` when no rung has that many, or no gene varies.
    Genes that never vary are left out."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance

    ok = comparable(records)
    if len(ok) < MIN_RECORDS:
        return None
    names = [g for g in ok[0]["genes"] if len({str(r["genes"].get(g)) for r in ok}) > 1]
    if not names:
        return None
    x = np.column_stack([encode([r["genes"].get(g) for r in ok]) for g in names])
    y = np.asarray([float(r["fitness"]) for r in ok])
    forest = RandomForestRegressor(n_estimators=200, random_state=seed, n_jobs=1).fit(x, y)
    found = permutation_importance(forest, x, y, n_repeats=10, random_state=seed, n_jobs=1)
    ranked = sorted(zip(names, found.importances_mean, found.importances_std, strict=True),
                    key=lambda t: -t[1])  # fmt: skip
    return {name: {"mean": float(m), "std": float(s)} for name, m, s in ranked}
