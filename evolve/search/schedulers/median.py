"""Median pruning: stop a training whose learning curve falls below the median of earlier ones.

The median stopping rule of Google Vizier (Golovin et al., KDD 2017) in the form of Optuna's
``MedianPruner``: at epoch ``e``, a training whose objective is worse than the median of the
earlier trainings' objectives at ``e`` stops, once ``startup`` trainings have finished. The
scheduler (``MedianStopping``) keeps the curves (``MedianRule``) in the parent and puts the
medians in each new training's request; the training itself (``evolve.training.callbacks``)
compares and stops. A pruned genome is recorded with the
fitness it had when it stopped and ``metrics.pruned_at``.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from evolve.search.base import Proposal, Signal, Strategy
from evolve.search.schedulers.base import Scheduler
from genomes.genome import Genome

STARTUP = 5
"""Finished trainings before pruning starts (Optuna's ``n_startup_trials`` default)."""


class MedianRule:
    """The curves seen so far, and the per-epoch medians a new training compares against."""

    def __init__(self, objective: str, direction: str, startup: int = STARTUP) -> None:
        self.objective = objective
        self.direction = direction
        self.startup = startup
        self.curves: list[list[float]] = []

    def see(self, record: Mapping[str, Any]) -> None:
        """Keep the objective's curve of a successful training (not a repeat or a cache hit)."""
        if record["status"] != "ok" or record.get("repeat", 0):
            return
        metrics = record["metrics"] or {}
        curves = metrics.get("curve")
        curve = curves.get(self.objective) if isinstance(curves, Mapping) else None
        if isinstance(curve, list) and curve and not metrics.get("initial_epoch"):
            self.curves.append([float(v) for v in curve])

    def limits(self) -> dict[str, Any] | None:
        """What a new training stops below: ``{"objective", "direction", "medians"}`` with
        ``medians[e]`` the median at epoch ``e + 1``; ``None`` before ``startup`` curves."""
        if len(self.curves) < self.startup:
            return None
        medians = []
        for epoch in range(max(len(c) for c in self.curves)):
            values = [c[epoch] for c in self.curves if len(c) > epoch]
            if len(values) < self.startup:
                break
            medians.append(statistics.median(values))
        return {"objective": self.objective, "direction": self.direction, "medians": medians}


class MedianStopping(Scheduler):
    """The median stopping rule around ``base``: each new training it proposes carries the
    medians of the curves seen so far (``TrainingRequest.prune``); a re-evaluation trains in
    full. Its curves are rebuilt from the journal on resume (``observe``), so its checkpoint
    is its base's."""

    def __init__(self, base: Strategy, objective: str, startup: int = STARTUP) -> None:
        super().__init__(base)
        self.rule = MedianRule(objective, base.direction, startup)

    def ask(self) -> Genome | Proposal | Signal:
        proposal = super().ask()
        if isinstance(proposal, Signal):
            return proposal
        if isinstance(proposal, Genome):
            proposal = Proposal(proposal)
        return Proposal(proposal.genome, proposal.request.pruned_by(self.rule.limits()))

    def observe(self, record: Mapping[str, Any]) -> None:
        self.rule.see(record)
        self.base.observe(record)


def worse(value: float, median: float, direction: str) -> bool:
    """Whether ``value`` is strictly worse than ``median`` in ``direction``."""
    return value < median if direction == "maximize" else value > median
