"""The run directory: the only code that writes a run's files.

```
<run>/config.toml      the resolved config, seed included
<run>/history.jsonl    one JSON line per finished evaluation, flushed as it finishes
<run>/models/          the top-k trained models, <genome id>.keras
<run>/best/            genome.json and model.keras of the best genome so far
<run>/summary.json     how the run ended
```
Every file other than the journal is written atomically: a temporary file, fsync, rename.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from evolve.strategies.base import score


class RunDirError(ValueError):
    """The run directory cannot be used; one line that says why."""


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``path`` so that a reader sees the old content or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
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
        self._journal: Any = None

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
        for folder in (self.models, self.path):
            with contextlib.suppress(OSError):
                folder.rmdir()

    def write_config(self, toml_text: str) -> None:
        write_atomic(self.config, toml_text)

    def append(self, record: dict[str, Any]) -> None:
        """Append one evaluation to the journal and hand it to the OS at once."""
        if self._journal is None:
            self._journal = self.history.open("a", encoding="utf-8")
        self._journal.write(json.dumps(record) + "\n")
        self._journal.flush()

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

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

    def offer(self, record: dict[str, Any]) -> bool:
        """Consider a finished evaluation; True when it is the new best."""
        if record["status"] != "ok":
            return False
        key = score(record["fitness"], self.direction)
        improved = self.best is None or key > score(self.best["fitness"], self.direction)
        if improved:
            self.best = record
            self.run.write_best(record)
        self.kept.append(record)
        self.kept.sort(key=lambda r: (-score(r["fitness"], self.direction), r["index"]))
        for dropped in self.kept[self.keep :]:
            path = dropped.get("metrics", {}).get("model_path")
            if path and dropped is not self.best:
                Path(path).unlink(missing_ok=True)
        self.kept = self.kept[: self.keep]
        return improved
