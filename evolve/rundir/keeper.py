"""The top-k trained models on disk, and the best one exported to ``best/`` as it improves."""

from __future__ import annotations

from evolve.engine.observers import Observer
from evolve.engine.ranking import Ranking
from evolve.engine.records import Outcome, Record, Status
from evolve.rundir.layout import model_file
from evolve.rundir.store import RunDir


class ModelKeeper(Observer):
    """Keeps the ``keep`` best trained models on disk and exports each new best (an observer:
    each new record is offered, each replayed one too, without export; ``finish`` at the end).

    With ``hold`` (a multi-fidelity run), no model is deleted while the run goes on: a genome's
    saved state is what a later promotion continues from. A promoted genome's state at its
    previous rung is deleted once the promotion is recorded (``promoted``), and ``finish``
    deletes all but the ``keep`` best at the end.

    A final pick (``reserve``: the genomes it re-evaluates) may name any of its candidates the
    best by their mean over seeds, so the ``reserve`` best models are kept while the run goes
    on, and a genome once re-evaluated keeps its model (a later pick, after ``resume
    --generations``, may still leave it the best); ``finish`` deletes those that the pick did
    not name.
    """

    def __init__(
        self, run: RunDir, keep: int, direction: str, hold: bool = False, reserve: int = 0
    ) -> None:
        self.run = run
        self.keep = keep
        self.direction = direction
        self.ranking = Ranking(direction)
        self.hold = hold
        self.reserve = reserve
        self.kept: list[Record] = []
        self.best: Record | None = None
        self.picked: set[str] = set()
        """Genomes re-evaluated by a final pick."""
        self.spared: list[Record] = []
        """Records out of the top models whose model was kept: picked, or the best."""

    def on_record(self, record: Record) -> None:
        self.offer(record)

    def on_replay(self, record: Record) -> None:
        self.offer(record, export=False)

    def on_finish(self, outcome: Outcome) -> None:
        self.finish(outcome.best)

    def offer(self, record: Record, export: bool = True) -> bool:
        """Consider a finished evaluation; True when it is the new best (exported at once
        unless ``export`` is False, as when a resumed run reads its history back).
        Re-evaluations (``repeat``) save no model and are not offered a place."""
        if record.repeat:
            self.picked.add(record.id)
        if record.status != Status.OK or record.repeat:
            return False
        if record.initial_epoch and export:
            self._drop_previous_rung(record)
        improved = self.best is None or self._rank(record) > self._rank(self.best)
        if improved:
            self.best = record
            if export:
                self.run.write_best(record)
        self.kept.append(record)
        self.kept.sort(key=self._rank, reverse=True)
        if self.hold:
            return improved
        room = max(self.keep, self.reserve)
        for dropped in self.kept[room:]:
            if dropped is self.best or dropped.id in self.picked:
                self.spared.append(dropped)
                continue
            path = self.run.model_of(dropped)
            if path is not None:
                path.unlink(missing_ok=True)
        self.kept = self.kept[:room]
        return improved

    def _rank(self, record: Record) -> tuple[int, float, int]:
        """``Ranking.key``: the rule of the run's best, so the exported model is the one the
        summary names, ties included (until a final pick by mean over seeds, which ``finish``
        exports)."""
        return self.ranking.key(record)

    def _drop_previous_rung(self, record: Record) -> None:
        """A promotion is recorded: the state it continued from is no longer needed."""
        path = self.run.model_of(record)
        if path is None:
            return
        previous = path.with_name(model_file(record.id, record.initial_epoch))
        if previous != path:
            previous.unlink(missing_ok=True)

    def finish(self, best: Record | None) -> None:
        """At the end of a run: export ``best`` (the run's pick, which a final pick by mean
        may have changed) and keep only the ``keep`` best models and its."""
        if (
            best is not None
            and best.status == Status.OK
            and (self.best is None or best.index != self.best.index)
        ):
            self.best = best
            self.run.write_best(best)
        keep = {id(r) for r in self.kept[: self.keep]} | {id(self.best)}
        for record in [*self.kept, *self.spared]:
            path = self.run.model_of(record)
            if id(record) not in keep and path is not None:
                path.unlink(missing_ok=True)
        self.kept = [r for r in self.kept if id(r) in keep]
        self.spared = []

    def export(self) -> None:
        """Write the best so far to ``best/`` (after a resumed run read its history back)."""
        if self.best is not None:
            self.run.write_best(self.best)
