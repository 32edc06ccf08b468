"""The top-k trained models on disk, and the best one exported to ``best/`` as it improves."""

from __future__ import annotations

from evolve.engine.records import Record, Status
from evolve.rundir.store import RunDir
from evolve.search.base import score


class ModelKeeper:
    """Keeps the ``keep`` best trained models on disk and exports each new best."""

    def __init__(self, run: RunDir, keep: int, direction: str) -> None:
        self.run = run
        self.keep = keep
        self.direction = direction
        self.kept: list[Record] = []
        self.best: Record | None = None

    def offer(self, record: Record, export: bool = True) -> bool:
        """Consider a finished evaluation; True when it is the new best (exported at once
        unless ``export`` is False, as when a resumed run reads its history back)."""
        if record.status != Status.OK:
            return False
        key = score(record.fitness, self.direction)
        improved = self.best is None or key > score(self.best.fitness, self.direction)
        if improved:
            self.best = record
            if export:
                self.run.write_best(record)
        self.kept.append(record)
        self.kept.sort(key=lambda r: (-score(r.fitness, self.direction), r.index))
        for dropped in self.kept[self.keep :]:
            path = self.run.model_of(dropped)
            if path is not None and dropped is not self.best:
                path.unlink(missing_ok=True)
        self.kept = self.kept[: self.keep]
        return improved

    def export(self) -> None:
        """Write the best so far to ``best/`` (after a resumed run read its history back)."""
        if self.best is not None:
            self.run.write_best(self.best)
