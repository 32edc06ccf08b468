"""The run directory: the only code that writes a run's files.

```
<run>/config.toml      the resolved config, seed included
<run>/history.jsonl    one JSON line per finished evaluation, flushed as it finishes
<run>/models/          the top-k trained models, <genome id>.keras
<run>/best/            genome.json and model.keras of the best genome so far; labels.json,
                       the label map of a classifier (output index -> original label)
<run>/checkpoint.json  strategy and loop state, atomic, at most every checkpoint_every s
<run>/summary.json     how the run ended
<run>/data.fingerprint.json  the digests of the data files the run trained on
```
Every file other than the journal is written atomically: a temporary file, fsync, rename.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from evolve.engine import faults
from evolve.engine.records import Record
from evolve.rundir import lock as run_lock
from evolve.rundir.atomic import copy_atomic, dump, write_atomic
from evolve.rundir.errors import RunDirError
from evolve.rundir.layout import BEST_MODEL
from evolve.rundir.reading import CHECKPOINT_FORMAT, checkpoint_line, read_checkpoint, read_history

__all__ = ["CHECKPOINT_FORMAT", "RunDir", "RunDirError"]


class RunDir:
    """Files of one run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.config = self.path / "config.toml"
        self.history = self.path / "history.jsonl"
        self.models = self.path / "models"
        self.best = self.path / "best"
        self.best_model = self.best / BEST_MODEL
        self.summary = self.path / "summary.json"
        self.workers_log = self.path / "workers.log"
        self.checkpoint = self.path / "checkpoint.json"
        self.previous_checkpoint = self.path / "checkpoint.prev.json"
        self.lock_file = self.path / "lock"
        self.log_file = self.path / "run.log"
        self.plots = self.path / "plots"
        self.tensorboard = self.path / "tensorboard"
        """TensorBoard's log directory (``run.tensorboard``): the experiment, and one folder per
        trained genome."""
        self.gpu_slots = self.path / ".gpu-slots"
        self.data_fingerprint = self.path / "data.fingerprint.json"
        """What the run trained on (``evolve.data.fingerprint``): a resume on other data is
        refused."""
        self._journal: Any = None
        self._lock: int | None = None
        self._made_parents: list[Path] = []
        """Folders above the run that ``create`` made (``results/``), deepest first: removed
        with a run that never started, when empty."""

    def create(self, unique: bool = False) -> None:
        """Make a new run directory and take its lock (see ``lock``).

        Refused (``RunDirError``) for a folder that holds a run, is in use, or holds other
        files. With ``unique``, a folder that exists is never reused: ``-2``, ``-3``, ... is
        appended to the name until ``mkdir`` makes a new one (two runs started in the same
        second get two folders).
        """
        made = [p for p in self.path.parents if not p.exists()]  # results/, made for this run
        if unique:
            base, n = self.path, 1
            while True:
                try:
                    self.path.mkdir(parents=True)
                    break
                except FileExistsError:
                    n += 1
                    self.__init__(base.with_name(f"{base.name}-{n}"))  # type: ignore[misc]
                except OSError as exc:
                    raise RunDirError(f"cannot create {self.path}: {exc.strerror}") from None
        if self.history.exists() or self.config.exists():
            raise RunDirError(f"{self.path} already holds a run; choose another --out")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            if not self._only_a_start():
                raise RunDirError(
                    f"{self.path} is not empty and holds no run; choose a new or empty folder"
                )
            self.lock()
            self._made_parents = made
            self.models.mkdir(exist_ok=True)
            self.workers_log.touch()
        except OSError as exc:
            self.close()
            raise RunDirError(f"cannot create {self.path}: {exc.strerror}") from None

    def _only_a_start(self) -> bool:
        """Whether the folder holds nothing but what a run writes before its config (a run
        killed in its first seconds): such a folder is taken over, not refused."""
        skeleton = {
            "lock", "models", "workers.log", ".gpu-slots", "best", "data.npz", "tensorboard"
        }  # fmt: skip
        if any(p.name not in skeleton for p in self.path.iterdir()):
            return False
        if self._has_sessions():
            return False
        models = list(self.models.iterdir()) if self.models.is_dir() else []
        return not models and not (self.best.is_dir() and any(
            p.name != "labels.json" for p in self.best.iterdir()
        ))  # fmt: skip

    def _has_sessions(self) -> bool:
        """Whether ``tensorboard/`` holds a genome's session (a folder), not just the
        experiment's file."""
        return self.tensorboard.is_dir() and any(p.is_dir() for p in self.tensorboard.iterdir())

    def discard_if_unused(self) -> None:
        """Remove the run directory this process created and holds (its lock), when it holds no
        result yet; a directory held by another process is never touched."""
        if self._lock is None or self.history.exists():
            return
        self.workers_log.unlink(missing_ok=True)
        self.config.unlink(missing_ok=True)
        (self.path / "data.npz").unlink(missing_ok=True)
        self.data_fingerprint.unlink(missing_ok=True)
        (self.best / "labels.json").unlink(missing_ok=True)
        self.lock_file.unlink(missing_ok=True)
        self.close()
        if not self._has_sessions():  # the experiment's file alone
            for events in self.tensorboard.glob("events.out.tfevents.*"):
                events.unlink(missing_ok=True)
        for folder in (self.models, self.best, self.tensorboard, self.path, *self._made_parents):
            with contextlib.suppress(OSError):  # a folder that is not empty stays
                folder.rmdir()

    def lock(self) -> None:
        """Hold this run for this process's life (``evolve.rundir.lock``); a second process
        gets a ``RunDirError`` naming the holder."""
        self._lock = run_lock.take(self.lock_file, self.path)

    def holder(self) -> str | None:
        """Who holds this run's lock (``pid N on HOST``), or ``None`` when no process does."""
        return run_lock.holder(self.lock_file)

    def log(self, line: str) -> None:
        """Append a timestamped line to ``run.log``."""
        with self.log_file.open("a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")

    def write_checkpoint(self, state: dict[str, Any]) -> None:
        text = checkpoint_line(state)
        write_atomic(self.checkpoint, text, keep_previous=self.previous_checkpoint)
        faults.point("checkpoint")

    def read_checkpoint(self) -> tuple[dict[str, Any] | None, list[str]]:
        """The newest readable checkpoint and notes on those left out (``reading``)."""
        return read_checkpoint(self.checkpoint, self.previous_checkpoint)

    def read_history(self, repair: bool = False) -> tuple[list[Record], list[str]]:
        """Every complete record of the journal and notes on the lines dropped (``reading``)."""
        return read_history(self.history, repair)

    def write_config(self, toml_text: str) -> None:
        write_atomic(self.config, toml_text)

    def append(self, record: Record) -> None:
        """Append one evaluation to the journal and hand it to the OS at once, its model path
        written relative to the run directory (so the run can be moved); ``record`` itself is
        left as it is."""
        if self._journal is None:
            self._journal = self.history.open("a", encoding="utf-8")
        line = json.dumps(self.localised(record)) + "\n"
        if os.environ.get("EVOLVE_CRASH_AT", "").startswith("journal-partial"):
            self._journal.write(line[: len(line) // 2])
            self._journal.flush()
            faults.point("journal-partial")
            self._journal.write(line[len(line) // 2 :])
        else:
            self._journal.write(line)
        self._journal.flush()
        faults.point("journal")

    def close_journal(self) -> None:
        """Close the journal (it opens again at the next ``append``)."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def write_best(self, record: Record, extra: dict[str, Any] | None = None) -> None:
        """Export the best genome: its model (if saved) and ``best/genome.json``. When its
        model is gone (deleted by hand), ``best/model.keras`` is removed rather than left
        beside a genome it does not belong to."""
        model = self.model_of(record)
        if model is not None and model.exists():
            copy_atomic(model, self.best_model)
        else:
            self.best_model.unlink(missing_ok=True)
        write_atomic(self.best / "genome.json", dump({**_best_view(record), **(extra or {})}))

    def write_data(self, arrays: dict[str, Any]) -> Path:
        """``data.npz``: arrays given in Python, the dataset of the run (written atomically)."""
        import numpy as np

        target = self.path / "data.npz"
        tmp = self.path / ".data.tmp.npz"
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(target)
        return target

    def write_json(self, path: Path, data: Any) -> None:
        """A JSON file of the run (atomically)."""
        write_atomic(path, dump(data))

    def read_json(self, path: Path) -> Any:
        """A JSON file of the run, or ``None`` when it is missing or damaged."""
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def write_labels(self, classes: list[Any]) -> None:
        """``best/labels.json``: the original label of each output of a classifier, so the
        exported model's predictions can be read (index i -> ``labels[i]``)."""
        self.best.mkdir(parents=True, exist_ok=True)
        write_atomic(self.best / "labels.json", dump({"labels": list(classes)}))

    def model_of(self, record: Record) -> Path | None:
        """Where the trained model of ``record`` is, if it saved one: always inside this run
        directory (a path recorded elsewhere, by a run that was copied or moved, is read as the
        file of the same name in ``models/``), so no file outside the run is ever touched."""
        path = record.metrics.get("model_path")
        if not path:
            return None
        found = Path(path)
        if not found.is_absolute():
            return self.path / found
        try:
            return self.path / found.relative_to(self.path.resolve())
        except ValueError:
            return self.models / found.name

    def localised(self, record: Record) -> dict[str, Any]:
        """The journal line of ``record``, its model path relative to the run directory."""
        data = record.to_json()
        model = self.model_of(record)
        if model is not None:
            data["metrics"] = {**data["metrics"], "model_path": str(model.relative_to(self.path))}
        return data

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_atomic(self.summary, dump(summary))

    def save_figure(self, name: str, figure: Any) -> None:
        """Save a matplotlib figure as ``plots/<name>.png`` (a temporary file, then rename)."""
        self.plots.mkdir(parents=True, exist_ok=True)
        target = self.plots / f"{name}.png"
        tmp = self.plots / f".{name}.tmp.png"
        figure.savefig(tmp, dpi=110, bbox_inches="tight")
        tmp.replace(target)

    def export_model(self, target: Path) -> None:
        """Copy ``best/model.keras`` to ``target`` (refused when it exists)."""
        if target.exists():
            raise RunDirError(f"{target} already exists; choose another --out")
        copy_atomic(self.best_model, target)
        self.export_labels(target.with_name(f"{target.stem}.labels.json"))

    def export_labels(self, target: Path) -> None:
        """Copy ``best/labels.json`` (a classifier's) to ``target``."""
        labels = self.best / "labels.json"
        if labels.exists():
            copy_atomic(labels, target)


def _best_view(record: Record) -> dict[str, Any]:
    keys = ("id", "genes", "fitness", "metrics", "generation", "index", "parents", "origin", "seed")
    return {k: record[k] for k in keys}
