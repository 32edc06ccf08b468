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
        improved = self.best is None or self._rank(record) > self._rank(self.best)
        if improved:
            self.best = record
            if export:
                self.run.write_best(record)
        self.kept.append(record)
        self.kept.sort(key=self._rank, reverse=True)
        for dropped in self.kept[self.keep :]:
            path = self.run.model_of(dropped)
            if path is not None and dropped is not self.best:
                path.unlink(missing_ok=True)
        self.kept = self.kept[: self.keep]
        return improved

    def _rank(self, record: Record) -> tuple[float, int]:
        """Better fitness first, then the earlier genome: the rule of ``best_record``, so the
        exported model is always the one the summary names, ties included."""
        return (score(record.fitness, self.direction), -record.index)

    def export(self) -> None:
        """Write the best so far to ``best/`` (after a resumed run read its history back)."""
        if self.best is not None:
            self.run.write_best(self.best)
