"""Checkpoint and resume: the loop's bookkeeping as plain data, and how it is rebuilt.

The journal (``history.jsonl``) is the source of truth; a checkpoint is a snapshot that saves
replaying from the start. Resume loads the newest checkpoint, takes the journal lines it
accounts for as they are, and keeps the later ones to answer the strategy's asks by index and
genome id, so no finished evaluation is trained again; evaluations in flight at the checkpoint
and not in the journal run again. (The idea of Optuna's journal storage: the log, replayed.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from evolve.engine.failures import Failures
from evolve.engine.records import Record, Trial
from evolve.search.base import Strategy


@dataclass
class Ledger:
    """What the loop knows about the run so far, apart from the strategy's own state."""

    records: list[Record] = field(default_factory=list)
    """Every finished evaluation, in finishing order."""
    cache: dict[str, Record] = field(default_factory=dict)
    """Genome id (at its fidelity, ``Trial.key``) -> the record of its training: a genome is
    never trained twice to the same fidelity."""
    twins: dict[str, list[Trial]] = field(default_factory=dict)
    """Key in flight -> later trials of the same genome and fidelity, answered when it
    finishes."""
    buffer: dict[int, tuple[Trial, Record]] = field(default_factory=dict)
    """Finished evaluations not told to the strategy yet, by index."""
    next_index: int = 0
    """Index of the next proposal."""
    next_tell: int = 0
    """Ordered mode: index of the next result to tell."""
    trainings: int = 0
    """Trainings started (cache hits excluded): what ``budget`` counts."""
    journal_lines: int = 0
    stop_reason: str = ""
    replay: dict[int, Record] = field(default_factory=dict)
    """Journal records of a resumed run past its checkpoint, by index, not yet asked again."""
    pending: list[Trial] = field(default_factory=list)
    """Trials in flight when the run was interrupted: submitted again on resume."""
    stale: list[Record] = field(default_factory=list)
    """Journal records a rebuilt run did not ask for again (it went another way): set aside."""


def snapshot(
    ledger: Ledger, failures: Failures, strategy: Strategy, in_flight: list[Trial]
) -> dict[str, Any]:
    """The loop's state and the strategy's, as plain data for ``checkpoint.json``."""
    waiting = [t for trials in ledger.twins.values() for t in trials]
    open_trials = sorted(
        [*in_flight, *failures.suspects, *ledger.pending, *waiting], key=lambda t: t.index
    )
    return {
        "runner": {
            "next_index": ledger.next_index,
            "trained": ledger.trainings,
            "failures": failures.count,
            "aborted": failures.aborted,
            "stop_reason": ledger.stop_reason or failures.reason,
            "journal_lines": ledger.journal_lines,
            "next_tell": ledger.next_tell,
            "buffered": sorted(ledger.buffer),
            "in_flight": [t.to_json() for t in open_trials],
            "attempts": {str(t.index): failures.attempts.get(t.index, 0) for t in open_trials},
        },
        "strategy": strategy.state_dict(),
    }


def restore(
    ledger: Ledger,
    failures: Failures,
    strategy: Strategy,
    state: dict[str, Any] | None,
    journal: list[Record],
) -> None:
    """Continue from a checkpoint (or from the start, when None) and the journal.

    Records the checkpoint accounts for are taken as they are; later ones wait in
    ``ledger.replay`` to be matched, by index and genome id, to the evaluations the resumed loop
    asks for; trials in flight at the checkpoint go to ``ledger.pending``. Every genome in the
    journal is also in the cache. Raises ``KeyError`` or ``ValueError`` for a state that does not
    fit the strategy (a changed search space, say).
    """
    seen = 0
    if state is not None:
        r = state["runner"]
        strategy.load_state_dict(state["strategy"])
        ledger.next_index, ledger.trainings = r["next_index"], r["trained"]
        failures.count, failures.aborted = r["failures"], r["aborted"]
        ledger.stop_reason, ledger.next_tell = r["stop_reason"], r["next_tell"]
        if failures.aborted:
            failures.reason = r["stop_reason"]
        seen = min(r["journal_lines"], len(journal))
        ledger.pending = [Trial.from_json(t) for t in r["in_flight"]]
        failures.attempts = {int(k): v for k, v in r["attempts"].items()}
    head, tail = journal[:seen], journal[seen:]
    by_index = {record.index: record for record in head}
    ledger.records = list(by_index.values())
    for record in journal:
        if record.cached_from is None:
            ledger.cache.setdefault(record.key, record)
    ledger.replay = {record.index: record for record in tail}
    ledger.journal_lines = len(journal)
    for index in state["runner"]["buffered"] if state else ():
        ledger.buffer[index] = (Trial.from_json(by_index[index]), by_index[index])


class Checkpoints:
    """Hands the state to ``save`` when something changed since the last time, at most every
    ``every`` seconds (a stale checkpoint is safe: resume replays the journal written after it).
    """

    def __init__(self, save: Callable[[dict[str, Any]], None] | None, every: float) -> None:
        self.save = save
        self.every = every
        self._saved: tuple[int, int] | None = None
        self._saved_at = -float("inf")

    def offer(
        self, version: tuple[int, int], state: Callable[[], dict[str, Any]], force: bool
    ) -> None:
        """Save ``state()`` if ``version`` is new and the interval passed (or ``force``)."""
        if self.save is None or version == self._saved:
            return
        if not force and time.monotonic() - self._saved_at < self.every:
            return
        self.save(state())
        self._saved, self._saved_at = version, time.monotonic()


def differences(saved: dict[str, Any], current: dict[str, Any], where: str = "") -> list[str]:
    """What changed between two nested dicts of settings, one short phrase per change."""
    changes = []
    for key in sorted(saved.keys() | current.keys(), key=str):
        name = f"{where}.{key}" if where else str(key)
        if key not in current:
            changes.append(f"{name} was removed")
        elif key not in saved:
            changes.append(f"{name} was added")
        elif isinstance(saved[key], dict) and isinstance(current[key], dict):
            changes += differences(saved[key], current[key], name)
        elif saved[key] != current[key]:
            changes.append(f"{name} changed from {saved[key]!r} to {current[key]!r}")
    return changes
