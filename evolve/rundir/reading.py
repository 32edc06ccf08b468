"""Reading a run's checkpoint and journal back, whatever a crash left of them.

A checkpoint is written atomically beside the one before it, so one of the two is whole; a
journal line is appended and flushed, so only the last can be cut short by a crash. Both
readers keep what is whole and say, in one note each, what they left out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from evolve.engine.records import Record, RecordFormatError
from evolve.rundir.atomic import write_atomic
from evolve.rundir.errors import RunDirError

CHECKPOINT_FORMAT = 1
"""The version of ``checkpoint.json`` this engine writes and reads."""


def checkpoint_line(state: dict[str, Any]) -> str:
    """The text of a checkpoint of ``state`` (the strategy's and the loop's), versioned."""
    return json.dumps({"format": CHECKPOINT_FORMAT, **state}, separators=(",", ":"))


def read_checkpoint(*paths: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """The first readable checkpoint of ``paths`` (newest first), and a note for each one that
    could not be used. A checkpoint of an unknown format raises ``RunDirError``: it is not
    something to skip."""
    notes: list[str] = []
    for path in paths:
        if not path.exists():
            continue
        try:
            state = json.loads(path.read_text())
            version = state["format"]
            if version != CHECKPOINT_FORMAT:
                raise RunDirError(
                    f"{path.name} has format {version}; this version of the engine reads "
                    f"format {CHECKPOINT_FORMAT}"
                )
            state["strategy"], state["runner"]
            return state, notes
        except RunDirError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            notes.append(f"{path.name} is damaged ({type(exc).__name__}); ignored")
    return None, notes


def read_history(history: Path, repair: bool = False) -> tuple[list[Record], list[str]]:
    """Every complete record of the journal ``history``, and a note for each line dropped.

    A line cut short by a crash (the last one) or damaged elsewhere is skipped and noted. Only
    with ``repair`` (a resume, which holds the run's lock) is the file mended: damaged lines
    move to ``history.damaged.jsonl`` beside it and the journal keeps the good ones, so it stays
    valid JSON lines; readers (``inspect``) never change it. A line of a format this engine
    cannot read raises ``RunDirError``.
    """
    if not history.exists():
        return [], []
    raw = history.read_bytes()
    records, notes, good, bad, offset = [], [], [], [], 0
    for number, line in enumerate(raw.splitlines(keepends=True), start=1):
        offset += len(line)
        try:
            data = json.loads(line)
        except ValueError:
            last = offset == len(raw) and not line.endswith(b"\n")
            notes.append(
                f"dropped {'a half-written last' if last else 'a damaged'} line of "
                f"history.jsonl ({len(line)} bytes, line {number})"
            )
            bad.append(line if line.endswith(b"\n") else line + b"\n")
            continue
        try:
            records.append(Record.from_json(data))
        except (RecordFormatError, TypeError, AttributeError) as exc:
            raise RunDirError(
                f"{history} line {number}: {exc}; it was written by another program "
                "or a version of the engine too old to resume"
            ) from None
        good.append(line)
    if repair and bad:
        with history.with_name("history.damaged.jsonl").open("ab") as handle:
            handle.writelines(bad)
            handle.flush()
            os.fsync(handle.fileno())
        write_atomic(history, b"".join(good))
        notes.append("the dropped lines are kept in history.damaged.jsonl")
    return records, notes
