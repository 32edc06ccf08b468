"""TensorBoard logs of a run: each trained genome's curves, genes and results, for the
Scalars and HParams dashboards (``tensorboard --logdir RUN_DIR/tensorboard``).

Layout (TensorBoard's own, through its APIs; no hand-written event files):

- ``RUN_DIR/tensorboard/`` holds the experiment: every gene as an hparam (its alleles as the
  domain) and the metrics the dashboard shows, written once by the parent with TensorBoard's
  ``hparams`` summary protos and its pure-Python event writer, so the parent never imports
  TensorFlow;
- ``RUN_DIR/tensorboard/<genome id>/`` is one session of the HParams dashboard: its genes
  (``summary_v2.hparams``), the validation metrics the engine recorded (``val_*``, after early
  stopping restored the best weights) and ``params``, then the session's end (success, or
  failure for a NaN loss); ``train/`` and ``validation/`` hold Keras' ``TensorBoard`` callback's
  curves, per epoch. A re-evaluation with another seed is ``<id>-r<n>``; a promoted genome's
  later rungs go on in its folder from the epoch they continue, so its curve is one line.

``tensorboard`` is an optional dependency (``pip install keras-evolve[tensorboard]``); a run
asking for it without it installed is refused before anything trains (``check``).
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import os
import re
import shutil
import socket
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from evolve.execution.trial import RunDirWriteError
from genomes.genes import Gene
from genomes.space import SearchSpace

MAX_DISCRETE = 50
"""Genes with more alleles than this get an interval domain instead of a list of values."""


TEXT_ERRNOS = (
    ("No space left", errno.ENOSPC),
    ("Read-only file system", errno.EROFS),
    ("Permission denied", errno.EACCES),
    ("quota", errno.EDQUOT),
)
"""TensorFlow's write errors carry no errno: the one their text names."""


class TensorBoardMissing(ImportError):
    """``run.tensorboard`` is on but the ``tensorboard`` package is not installed."""


def check() -> None:
    """Raise ``TensorBoardMissing`` (one line) when ``tensorboard`` cannot be imported."""
    if importlib.util.find_spec("tensorboard") is None:
        raise TensorBoardMissing(
            "run.tensorboard = true needs the tensorboard package: "
            "pip install tensorboard (or keras-evolve[tensorboard])"
        )


def session_name(genome_id: str, repeat: int = 0) -> str:
    """The folder (and HParams trial id) of one training: ``<id>``, ``<id>-r<n>`` for a
    re-evaluation."""
    return f"{genome_id}-r{repeat}" if repeat else genome_id


def _domain(gene: Gene) -> Any:
    """TensorBoard's domain for ``gene``: its alleles when few and of one kind, else the
    numeric interval they span, else none (mixed kinds)."""
    from tensorboard.plugins.hparams import summary_v2 as hp

    values = list(gene.alleles)
    if all(isinstance(v, bool) for v in values):  # a flag
        return hp.Discrete([False, True])
    if all(isinstance(v, str) for v in values):
        return hp.Discrete(values)
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) != len(values):
        return None
    if len(numbers) <= MAX_DISCRETE:
        return hp.Discrete([float(v) for v in numbers])
    if all(isinstance(v, int) for v in numbers):
        return hp.IntInterval(min(numbers), max(numbers))
    return hp.RealInterval(float(min(numbers)), float(max(numbers)))


def metric_names(logged: Iterable[str], objective: str) -> list[tuple[str, str | None]]:
    """The dashboard's metrics as ``(tag, group)``: the objective first, the other final
    validation metrics (``val_*``, in the session's folder), ``params``, then the last epoch of
    each training metric (``epoch_<name>`` under ``train/``)."""
    names = list(dict.fromkeys(logged))
    final = [n for n in names if n.startswith("val_")]
    training = [n for n in names if not n.startswith("val_")]
    ordered = [objective] if objective in final else []
    ordered += [n for n in final if n != objective]
    return [
        *((n, None) for n in ordered),
        ("params", None),
        *((f"epoch_{n}", "train") for n in training),
    ]


def write_experiment(
    root: Path, space: SearchSpace, logged: Sequence[str], objective: str
) -> Path | None:
    """Write the experiment's hparams config under ``root`` once (a resumed run keeps the
    first); returns its event file, or ``None`` when one was there already.

    TensorBoard's ``hparams_config_pb``, written without TensorFlow (``_write_events``).
    """
    from tensorboard.plugins.hparams import summary_v2 as hp

    root.mkdir(parents=True, exist_ok=True)
    if any(root.glob("events.out.tfevents.*")):
        return None
    hparams = [hp.HParam(gene.name, _domain(gene)) for gene in space.genes]
    metrics = [
        hp.Metric(
            tag,
            group=group,
            display_name=f"{group}/{tag}" if group else tag,
            description=f"{tag}: the search's objective" if tag == objective else None,
        )
        for tag, group in metric_names(logged, objective)
    ]
    return _write_events(root, [hp.hparams_config_pb(hparams, metrics)])


def _write_events(folder: Path, summaries: Sequence[Any]) -> Path:
    """One event file of ``summaries`` in ``folder``: TensorBoard's ``RecordWriter`` on a plain
    file (its ``EventFileWriter`` would import TensorFlow for ``tf.io.gfile``)."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    stamp = f"{int(now):010d}.{socket.gethostname()}.{os.getpid()}.{time.monotonic_ns()}"
    path = folder / f"events.out.tfevents.{stamp}"
    with path.open("wb") as file:
        writer = RecordWriter(file)
        writer.write(event_pb2.Event(wall_time=now, file_version="brain.Event:2")
                     .SerializeToString())  # fmt: skip
        for summary in summaries:
            writer.write(event_pb2.Event(wall_time=now, step=0, summary=summary)
                         .SerializeToString())  # fmt: skip
    return path


def write_failed(root: Path, genome_id: str, repeat: int, genes: dict[str, Any]) -> Path:
    """The failed end of a training's session (it raised, gave a NaN loss, timed out, or its
    worker died before its start was written): after the worker's start when it wrote one,
    else with the genes as its start, so every genome of the history is in the dashboard.
    Written by the parent, without TensorFlow, for every record that did not succeed."""
    from tensorboard.plugins.hparams import summary_v2 as hp

    name = session_name(genome_id, repeat)
    folder = root / name
    summaries = [_session_end(success=False)]
    if not any(folder.glob("events.out.tfevents.*")):  # the worker never started it
        summaries.insert(0, hp.hparams_pb(plain(genes), trial_id=name))
    return _write_events(folder, summaries)


def _session_end(success: bool) -> Any:
    """The HParams plugin's session-end summary (its status and time), built from TensorBoard's
    protos alone: the parent writes it without TensorFlow, a worker through ``tf.summary``."""
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
    from tensorboard.plugins.hparams import summary_v2 as hp

    status = api_pb2.STATUS_SUCCESS if success else api_pb2.STATUS_FAILURE
    end = plugin_data_pb2.HParamsPluginData(
        session_end_info=plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=time.time())
    )
    summary = hp.summary_pb2.Summary()
    summary.value.add(tag=metadata.SESSION_END_INFO_TAG,
                      metadata=metadata.create_summary_metadata(end),
                      tensor=metadata.NULL_TENSOR)  # fmt: skip
    return summary


def plain(genes: dict[str, Any]) -> dict[str, bool | int | float | str]:
    """Genes as TensorBoard takes hparam values (anything else as its text)."""
    return {k: v if isinstance(v, (bool, int, float, str)) else str(v) for k, v in genes.items()}


class SessionLog:
    """One training's TensorBoard session, in a worker: ``callback()`` for ``fit`` (Keras'
    ``TensorBoard``), ``start()`` before it (the genes), ``finish(scores, params, epoch)`` after
    it; a training that fails is ended by the parent (``write_failed``).

    A training from epoch 0 clears the folder first, so a genome trained again after a kill has
    one curve, not two. A log that cannot be written (a read-only or full disk) raises
    ``RunDirWriteError``: the run stops and the genome is trained again on resume, never
    recorded as failed (``writing``; ``caused`` tells such an error raised inside ``fit``).
    """

    def __init__(self, root: str, genome_id: str, repeat: int, initial_epoch: int) -> None:
        self.name = session_name(genome_id, repeat)
        self.folder = Path(root) / self.name
        if not initial_epoch:
            shutil.rmtree(self.folder, ignore_errors=True)
        self._writer: Any = None

    def callback(self, keras: Any) -> Any:
        """Keras' ``TensorBoard`` callback writing the per-epoch curves into the folder."""
        return keras.callbacks.TensorBoard(
            log_dir=str(self.folder), write_graph=False, profile_batch=0
        )

    def _summary(self) -> Any:
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.folder))
        return self._writer

    def caused(self, exc: BaseException) -> bool:
        """Whether ``exc`` is a failure to write this session's files (TensorFlow's errors
        name the file; an ``OSError`` its path)."""
        return str(self.folder) in str(exc) or str(self.folder) in str(
            getattr(exc, "filename", "") or ""
        )

    def write_error(self, exc: BaseException) -> RunDirWriteError:
        """``exc`` as the run directory's fault."""
        why = " ".join(str(getattr(exc, "message", None) or exc).split())
        why = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", why)  # TensorFlow's op, not news
        code = getattr(exc, "errno", None) or next(
            (code for text, code in TEXT_ERRNOS if text in why), errno.EIO
        )
        return RunDirWriteError(code, f"cannot write TensorBoard logs to {self.folder}: {why}")

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Any error inside is the run directory's (``RunDirWriteError``)."""
        try:
            yield
        except RunDirWriteError:
            raise
        except Exception as exc:
            raise self.write_error(exc) from exc

    def start(self, genes: dict[str, Any]) -> None:
        """The session's start: its genes as hparams, its id as the trial id."""
        from tensorboard.plugins.hparams import summary_v2 as hp

        with self.writing(), self._summary().as_default():
            hp.hparams(plain(genes), trial_id=self.name)

    def finish(self, scores: dict[str, float], params: int, epoch: int) -> None:
        """The recorded results at ``epoch`` (``val_*`` and ``params``) and a successful end."""
        import tensorflow as tf

        with self.writing():
            with self._summary().as_default():
                for name, value in scores.items():
                    tf.summary.scalar(name, float(value), step=epoch)
                tf.summary.scalar("params", float(params), step=epoch)
            self._end()

    def _end(self) -> None:
        import tensorflow as tf

        with self._summary().as_default():
            raw = _session_end(success=True).SerializeToString()
            tf.summary.experimental.write_raw_pb(raw, step=0)
        self.close()

    def close(self) -> None:
        """Flush and close what was written (the failed end is the parent's)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):  # a failed training's error matters more
                self._writer.close()
            self._writer = None


class FailedSessions:
    """An observer (``evolve.engine.observers``): the failed end of the TensorBoard session of
    every record that did not succeed (the worker ends only the trainings that succeed); a log
    that cannot be written is a warning in the run's log."""

    def __init__(self, run: Any) -> None:
        self.run = run

    def on_record(self, record: Any) -> None:
        if record.succeeded:
            return
        try:
            write_failed(self.run.tensorboard, record.id, record.repeat, record.genes)
        except OSError as exc:
            self.run.log(f"warning: no TensorBoard session for {record.id}: {exc}")
