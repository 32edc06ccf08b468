"""The journal as an observer: each new record appended to ``history.jsonl`` as it finishes."""

from __future__ import annotations

from evolve.engine.observers import Observer
from evolve.engine.records import Record
from evolve.rundir.store import RunDir


class Journal(Observer):
    """Appends every new record to the run's journal (``RunDir.append``), first among the
    observers: a record is on disk before anything else reacts to it."""

    def __init__(self, run: RunDir) -> None:
        self.run = run

    def on_record(self, record: Record) -> None:
        self.run.append(record)
