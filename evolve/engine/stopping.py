"""When a run stops asking: a budget of trainings, a target fitness, too many failures."""

from __future__ import annotations

from dataclasses import dataclass

from evolve.engine.failures import Failures
from evolve.engine.ranking import Ranking
from evolve.engine.records import Record


@dataclass
class StopRules:
    """``budget`` caps trainings (0: none); ``target`` stops the run once a fitness at least
    that good (for ``direction``) is found (None: never)."""

    budget: int = 0
    target: float | None = None
    direction: str = "maximize"
    reached: bool = False
    full: int = 0
    """A multi-fidelity run's top-rung epochs: only a result trained that far reaches the
    target (0: every result counts)."""

    def see(self, record: Record) -> None:
        """Note a finished record (the target may now be reached)."""
        if self.full and record.fidelity != self.full:
            return
        if self.target is not None and record.succeeded:
            ranking = Ranking(self.direction)
            self.reached |= ranking.score(record.fitness) >= ranking.score(self.target)

    def reason(self, trainings: int, failures: Failures) -> str | None:
        """Why the run must stop asking now, or ``None``."""
        if self.budget and trainings >= self.budget:
            return f"budget of {self.budget} trainings reached"
        if self.reached:
            return f"target fitness {self.target} reached"
        if failures.aborted:
            return failures.reason
        return None
