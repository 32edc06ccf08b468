"""Mending a run's journal for a resume: evaluations set aside to train again, and lines a
rebuilt run did not ask for. Nothing is deleted: set-aside lines go to
``history.superseded.jsonl``."""

from __future__ import annotations

import json
import os

from evolve.engine.records import Record
from evolve.rundir.atomic import write_atomic
from evolve.rundir.store import RunDir


def supersede(run: RunDir, statuses: tuple[str, ...]) -> int:
    """Set aside the evaluations recorded with one of ``statuses`` (and the cache hits that
    copied them) so that a resume trains them again; returns how many were set aside.

    Their lines move to ``history.superseded.jsonl`` (nothing is deleted), ``history.jsonl``
    is rewritten atomically without them, and the checkpoints, which counted them, move to
    ``checkpoint.superseded.json``: the run is then rebuilt from the journal, each genome
    answered from it, except those set aside.
    """
    records, _ = run.read_history(repair=True)
    gone = {r.index for r in records if r.status in statuses and r.cached_from is None}
    gone |= {r.index for r in records if r.cached_from in gone}
    if not gone:
        return 0
    keep = [r for r in records if r.index not in gone]
    dropped = [r for r in records if r.index in gone]
    with (run.path / "history.superseded.jsonl").open("a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r.to_json()) + "\n" for r in dropped)
        handle.flush()
        os.fsync(handle.fileno())
    write_atomic(run.history, "".join(json.dumps(r.to_json()) + "\n" for r in keep))
    for path in (run.checkpoint, run.previous_checkpoint):
        if path.exists():
            os.replace(path, run.path / "checkpoint.superseded.json")
    return len(gone)


def set_aside(run: RunDir, records: list[Record]) -> None:
    """Move these journal lines (the very lines: index, id and time) to
    ``history.superseded.jsonl``: evaluations a rebuilt run did not ask for again."""
    if not records:
        return
    run.close_journal()
    marks = {(r.index, r.id, r.time) for r in records}
    lines = run.history.read_bytes().splitlines(keepends=True)

    def stale(line: bytes) -> bool:
        try:
            data = json.loads(line)
            return (data["index"], data["id"], data["time"]) in marks
        except (ValueError, KeyError, TypeError):
            return False

    with (run.path / "history.superseded.jsonl").open("ab") as handle:
        handle.writelines(line for line in lines if stale(line))
        handle.flush()
        os.fsync(handle.fileno())
    write_atomic(run.history, b"".join(line for line in lines if not stale(line)))
