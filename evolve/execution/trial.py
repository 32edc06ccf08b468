"""What a worker runs for one genome: call the fitness, time it, catch its failure.

The same wrapper runs on every backend (loky, dask, ray, inline). Imported in the parent too (to
pickle references to these functions), so it must not import TensorFlow or Keras.
"""

from __future__ import annotations

import errno
import functools
import inspect
import math
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from evolve.execution.environment import pin_numerics, quiet_process
from evolve.execution.evaluation import Evaluation, Status
from evolve.execution.plain import plain_metrics

AFTER_EVALUATION: list[Callable[[float], None]] = []
"""Called in the worker with its resident memory (MB) after each evaluation; a pool that
manages its workers' lives (loky) registers its recycling rule here."""

STARTUP_ERRORS: list[str] = []
"""Why this worker process could not get ready (a GPU not claimed, the backend failing to
import), kept by a pool's initializer for ``ready`` to report."""

WATCHDOG = {"armed": False}
"""True in a process whose death the pool survives (a loky worker): there, an evaluation that
hangs past its hard timeout ends the process."""


class EvaluationTimeout(TimeoutError):
    """The evaluation ran past its time limit."""


class RunDirWriteError(OSError):
    """Writing the run directory failed in a worker (a full disk, a read-only mount...): the
    environment's fault, never the genome's."""


DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})
"""``OSError``s that no genome causes: the evaluation is not recorded and the run stops."""

def environment_fault(exc: BaseException) -> bool:
    """Whether an evaluation's error is the environment's (disk, run directory, data that
    changed under the run)."""
    from evolve.data.fingerprint import DataChanged

    return isinstance(exc, (RunDirWriteError, DataChanged)) or (
        isinstance(exc, OSError) and exc.errno in DISK_ERRNOS
    )


def one_line(exc: BaseException) -> str:
    """A short, single-line description of an exception."""
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


KEYWORDS = ("seed", "genome_id", "epochs", "initial_epoch", "repeat", "prune")
"""What a fitness may declare to be given: its training seed and genome id; and, when the run
sets them, the fidelity of a multi-fidelity run (``epochs`` to train to, ``initial_epoch``
already trained in an earlier rung), ``repeat`` (a re-evaluation with a new seed) and
``prune`` (the medians of median pruning)."""


def _accepted(fn: Callable[..., Any]) -> frozenset[str]:
    """Which of ``KEYWORDS`` a fitness accepts as keywords."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return frozenset()
    anything = any(p.kind is p.VAR_KEYWORD for p in params.values())
    named = {n for n, p in params.items() if p.kind is not p.POSITIONAL_ONLY}
    return frozenset(k for k in KEYWORDS if anything or k in named)


def accepts(fitness: Callable[..., Any], keyword: str) -> bool:
    """Whether ``fitness`` takes ``keyword`` (one of ``KEYWORDS``)."""
    return keyword in _accepted(fitness)


_accepted_cached = functools.lru_cache(maxsize=64)(_accepted)


def call_fitness(
    fitness: Callable[..., Any],
    genes: dict[str, Any],
    seed: int,
    genome_id: str,
    fidelity: Mapping[str, Any] | None = None,
) -> Any:
    """Call a fitness with the keyword arguments it declares among ``seed``, ``genome_id`` and
    the keys of ``fidelity`` that are set (see ``KEYWORDS``)."""
    try:
        accepted = _accepted_cached(fitness)
    except TypeError:  # an unhashable callable object
        accepted = _accepted(fitness)
    given = {"seed": seed, "genome_id": genome_id}
    given.update({k: v for k, v in (fidelity or {}).items() if v})
    return fitness(genes, **{k: given[k] for k in accepted if k in given})


def run_trial(
    fitness: Callable[..., Any],
    genes: Mapping[str, Any],
    seed: int,
    genome_id: str,
    objective: str,
    hard_timeout: float = 0.0,
    fidelity: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Evaluate one genome; never raises for a failure of the genome itself.

    Returns its ``Evaluation``: status ok, failed or timeout (failed with ``environment`` set
    for a fault of the disk, the run directory or the data), fitness, metrics, reason, seconds
    and where it ran. A fitness that returns a number is recorded as ``{"fitness": number}``.
    ``fidelity`` holds the keywords of a multi-fidelity, re-evaluated or pruned run
    (``call_fitness``). Where the
    watchdog is armed (a loky worker), ``hard_timeout`` seconds (0: none) end the process if the
    evaluation hangs past them; the loop records the timeout and the pool starts a fresh worker.
    """
    quiet_process()
    started = time.perf_counter()
    began = time.time()
    watchdog = None
    if hard_timeout > 0 and WATCHDOG["armed"]:
        watchdog = threading.Timer(hard_timeout, _expire, (hard_timeout,))
        watchdog.daemon = True
        watchdog.start()
    where: dict[str, str | None] = {
        "host": socket.gethostname(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
    }
    try:
        out = call_fitness(fitness, dict(genes), seed, genome_id, fidelity)
        raw = out if isinstance(out, Mapping) else {"fitness": out}
        if objective not in raw:
            got = ", ".join(map(str, raw))
            raise KeyError(f"the fitness returned no '{objective}' (got: {got})")
        value = raw[objective]
        if callable(getattr(value, "item", None)) and getattr(value, "shape", None) == ():
            value = value.item()  # a numpy scalar or 0-d array
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{objective} is {value!r}, not a number")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{objective} is {value}")
        metrics = plain_metrics(raw)
        status, reason, environment = Status.OK, "", False
    except (Exception, SystemExit) as exc:  # a failing genome is a result, not a crash
        metrics, value = {}, None
        status = Status.TIMEOUT if isinstance(exc, EvaluationTimeout) else Status.FAILED
        environment = environment_fault(exc)
        reason = " ".join(str(exc).split()) if environment else one_line(exc)
        status = Status.FAILED if environment else status
        if os.environ.get("EVOLVE_DEBUG"):
            traceback.print_exc()
    finally:
        if watchdog is not None:
            watchdog.cancel()
    rss = rss_mb()
    for hook in AFTER_EVALUATION:
        hook(rss)
    return Evaluation(
        status, value, metrics, reason, environment,
        seconds=round(time.perf_counter() - started, 4), started=began, rss_mb=round(rss, 1),
        pid=os.getpid(), host=where["host"], cuda_visible_devices=where["cuda_visible_devices"],
    )  # fmt: skip


def ready(keras: bool, threads: int = 0) -> dict[str, Any]:
    """Run in a worker before the search, on any backend: raises ``RuntimeError`` (one line)
    when the worker cannot train (its start failed, or, for a Keras run, Keras does not
    import); else where it runs and its resident memory in MB before any genome. The run's
    numerics (``threads``, ``pin_numerics``) are set before Keras is imported: a dask or ray
    worker that imported TensorFlow here with its own settings would train differently."""
    try:
        if STARTUP_ERRORS:
            raise RuntimeError(STARTUP_ERRORS[0])
        if keras:
            pin_numerics(threads)
            quiet_process()
            import keras as backend  # noqa: F401
    except Exception as exc:
        chosen = os.environ.get("KERAS_BACKEND")
        where = f" (KERAS_BACKEND={chosen})" if chosen else ""
        why = str(exc) if isinstance(exc, RuntimeError) and STARTUP_ERRORS else one_line(exc)
        raise RuntimeError(f"a worker cannot start: {why}{where}") from None
    return {"pid": os.getpid(), "host": socket.gethostname(), "rss_mb": round(rss_mb(), 1)}


def rss_mb() -> float:
    """This process's resident memory in MB."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _expire(seconds: float) -> None:
    print(f"evaluation ran past its {seconds:g} s timeout: stopping this worker", flush=True)
    os._exit(124)
