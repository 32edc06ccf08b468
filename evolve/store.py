"""The run directory: the only code that writes a run's files.

```
<run>/config.toml      the resolved config, seed included
<run>/history.jsonl    one JSON line per finished evaluation, flushed as it finishes
<run>/models/          the top-k trained models, <genome id>.keras
<run>/best/            genome.json and model.keras of the best genome so far
<run>/checkpoint.json  strategy and loop state, atomic, at most every checkpoint_every s
<run>/summary.json     how the run ended
```
Every file other than the journal is written atomically: a temporary file, fsync, rename.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

from evolve import faults
from evolve.strategies.base import score

CHECKPOINT_FORMAT = 1


class RunDirError(ValueError):
    """The run directory cannot be used; one line that says why."""


def write_atomic(path: Path, data: bytes | str, keep_previous: Path | None = None) -> None:
    """Write ``path`` so that a reader sees the old content or the new one, never a mix.

    With ``keep_previous``, the old content is moved there first (a second good copy).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        faults.point("checkpoint-temp")
        if keep_previous is not None and path.exists():
            os.replace(path, keep_previous)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_atomic(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.fchmod(fd, 0o644)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dump(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


class RunDir:
    """Files of one run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.config = self.path / "config.toml"
        self.history = self.path / "history.jsonl"
        self.models = self.path / "models"
        self.best = self.path / "best"
        self.summary = self.path / "summary.json"
        self.workers_log = self.path / "workers.log"
        self.checkpoint = self.path / "checkpoint.json"
        self.previous_checkpoint = self.path / "checkpoint.prev.json"
        self.lock_file = self.path / "lock"
        self.log_file = self.path / "run.log"
        self.plots = self.path / "plots"
        self._journal: Any = None
        self._lock: int | None = None

    def create(self) -> None:
        """Make a new run directory; refuse one that already holds a run."""
        if self.history.exists() or self.config.exists():
            raise RunDirError(f"{self.path} already holds a run; choose another --out")
        try:
            self.models.mkdir(parents=True, exist_ok=True)
            self.workers_log.touch()
        except OSError as exc:
            raise RunDirError(f"cannot create {self.path}: {exc.strerror}") from None

    def discard_if_unused(self) -> None:
        """Remove a run directory that this process created and that holds no result yet."""
        if self.history.exists():
            return
        self.workers_log.unlink(missing_ok=True)
        self.config.unlink(missing_ok=True)
        self.lock_file.unlink(missing_ok=True)
        for folder in (self.models, self.path):
            with contextlib.suppress(OSError):
                folder.rmdir()

    def lock(self) -> None:
        """Hold this run for this process's life; a second process gets a clear error.

        The lock is a ``flock``: the kernel drops it when the holder dies, however it dies, so a
        lock left by a killed run is taken over safely.
        """
        fd = os.open(self.lock_file, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunDirError(f"{self.path} is in use by {holder}; one process per run") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode())
        self._lock = fd

    def log(self, line: str) -> None:
        """Append a timestamped line to ``run.log``."""
        import time

        with self.log_file.open("a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")

    def write_checkpoint(self, state: dict[str, Any]) -> None:
        data = json.dumps({"format": CHECKPOINT_FORMAT, **state}, separators=(",", ":"))
        write_atomic(self.checkpoint, data, keep_previous=self.previous_checkpoint)
        faults.point("checkpoint")

    def read_checkpoint(self) -> tuple[dict[str, Any] | None, list[str]]:
        """The newest readable checkpoint, and a note for each one that could not be used.

        A checkpoint of an unknown format is an error, not something to skip.
        """
        notes = []
        for path in (self.checkpoint, self.previous_checkpoint):
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

    def read_history(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Every complete record of the journal, and a note for each line that was dropped.

        A line cut short by a crash (the last one) is dropped and cut from the file, so the
        journal stays valid JSON lines; a damaged line elsewhere is reported and skipped.
        """
        if not self.history.exists():
            return [], []
        raw = self.history.read_bytes()
        records, notes, good_end, offset = [], [], 0, 0
        for line in raw.splitlines(keepends=True):
            offset += len(line)
            try:
                records.append(json.loads(line))
                good_end = offset
            except ValueError:
                last = offset == len(raw)
                notes.append(
                    f"dropped {'a half-written last' if last else 'a damaged'} line of "
                    f"history.jsonl ({len(line)} bytes)"
                )
        if good_end < len(raw) and not raw.endswith(b"\n"):
            with self.history.open("r+b") as handle:
                handle.truncate(good_end)
        return records, notes

    def write_config(self, toml_text: str) -> None:
        write_atomic(self.config, toml_text)

    def append(self, record: dict[str, Any]) -> None:
        """Append one evaluation to the journal and hand it to the OS at once."""
        if self._journal is None:
            self._journal = self.history.open("a", encoding="utf-8")
        line = json.dumps(record) + "\n"
        if os.environ.get("EVOLVE_CRASH_AT", "").startswith("journal-partial"):
            self._journal.write(line[: len(line) // 2])
            self._journal.flush()
            faults.point("journal-partial")
            self._journal.write(line[len(line) // 2 :])
        else:
            self._journal.write(line)
        self._journal.flush()
        faults.point("journal")

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def write_best(self, record: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        """Export the best genome: its model (if saved) and ``best/genome.json``."""
        model = record.get("metrics", {}).get("model_path")
        if model and Path(model).exists():
            copy_atomic(Path(model), self.best / "model.keras")
        write_atomic(self.best / "genome.json", dump({**_best_view(record), **(extra or {})}))

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_atomic(self.summary, dump(summary))


def _best_view(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "genes", "fitness", "metrics", "generation", "index", "parents", "origin", "seed")
    return {k: record.get(k) for k in keys}


class ModelKeeper:
    """Keeps the ``keep`` best trained models on disk and exports each new best."""

    def __init__(self, run: RunDir, keep: int, direction: str) -> None:
        self.run = run
        self.keep = keep
        self.direction = direction
        self.kept: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None

    def offer(self, record: dict[str, Any], export: bool = True) -> bool:
        """Consider a finished evaluation; True when it is the new best (exported at once
        unless ``export`` is False, as when a resumed run reads its history back)."""
        if record["status"] != "ok":
            return False
        key = score(record["fitness"], self.direction)
        improved = self.best is None or key > score(self.best["fitness"], self.direction)
        if improved:
            self.best = record
            if export:
                self.run.write_best(record)
        self.kept.append(record)
        self.kept.sort(key=lambda r: (-score(r["fitness"], self.direction), r["index"]))
        for dropped in self.kept[self.keep :]:
            path = dropped.get("metrics", {}).get("model_path")
            if path and dropped is not self.best:
                Path(path).unlink(missing_ok=True)
        self.kept = self.kept[: self.keep]
        return improved

    def export(self) -> None:
        """Write the best so far to ``best/`` (after a resumed run read its history back)."""
        if self.best is not None:
            self.run.write_best(self.best)
