"""What a worker process runs for one genome: call the fitness, time it, catch its failure.

Imported in the parent too (to pickle references to these functions), so it must not import
TensorFlow or Keras at module level.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "ABSL_MIN_LOG_LEVEL": "2",
    "GRPC_VERBOSITY": "ERROR",
    "PYTHONWARNINGS": "ignore",
}
"""Silences TensorFlow's start-up lines in workers (set before the backend is imported)."""


def one_line(exc: BaseException) -> str:
    """A short, single-line description of an exception."""
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _accepted(fn: Callable[..., Any]) -> frozenset[str]:
    """Which of ``seed`` and ``genome_id`` a fitness accepts as keywords."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return frozenset()
    anything = any(p.kind is p.VAR_KEYWORD for p in params.values())
    return frozenset(k for k in ("seed", "genome_id") if anything or k in params)


_accepted_cached = functools.lru_cache(maxsize=64)(_accepted)


def call_fitness(
    fitness: Callable[..., Any], genes: dict[str, Any], seed: int, genome_id: str
) -> Any:
    """Call a fitness with the keyword arguments it declares among ``seed`` and ``genome_id``."""
    try:
        accepted = _accepted_cached(fitness)
    except TypeError:  # an unhashable callable object
        accepted = _accepted(fitness)
    given = {"seed": seed, "genome_id": genome_id}
    return fitness(genes, **{k: given[k] for k in accepted})


class EvaluationTimeout(TimeoutError):
    """The evaluation ran past its time limit."""


def run_trial(
    fitness: Callable[..., Any],
    genes: Mapping[str, Any],
    seed: int,
    genome_id: str,
    objective: str,
    hard_timeout: float = 0.0,
) -> dict[str, Any]:
    """Evaluate one genome; never raises for a failure of the genome itself.

    Returns ``status`` ("ok", "failed" or "timeout"), ``fitness``, ``metrics``, ``reason`` and
    where it ran. A fitness that returns a number is recorded as ``{"fitness": number}``. In a
    loky worker, ``hard_timeout`` arms a watchdog that ends the process if the evaluation hangs
    past it (the run loop records the timeout and starts a fresh worker).
    """
    quiet_process()
    started = time.perf_counter()
    began = time.time()
    watchdog = None
    if hard_timeout > 0 and _SETTINGS is not None:
        watchdog = threading.Timer(hard_timeout, _expire, (hard_timeout,))
        watchdog.daemon = True
        watchdog.start()
    where = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
    }
    try:
        out = call_fitness(fitness, dict(genes), seed, genome_id)
        metrics = dict(out) if isinstance(out, Mapping) else {"fitness": float(out)}
        if objective not in metrics:
            raise KeyError(f"the fitness returned no '{objective}' (got: {', '.join(metrics)})")
        value = float(metrics[objective])
        if not math.isfinite(value):
            raise ValueError(f"{objective} is {value}")
        status, reason = "ok", ""
    except Exception as exc:  # a failing genome is a result, not a crash
        metrics, value = {}, None
        status = "timeout" if isinstance(exc, EvaluationTimeout) else "failed"
        reason = one_line(exc)
        if os.environ.get("EVOLVE_DEBUG"):
            traceback.print_exc()
    finally:
        if watchdog is not None:
            watchdog.cancel()
    rss = rss_mb()
    _recycle_if_due(rss)
    return {
        "status": status,
        "fitness": value,
        "metrics": metrics,
        "reason": reason,
        "seconds": round(time.perf_counter() - started, 4),
        "started": began,
        "rss_mb": round(rss, 1),
        **where,
    }


def quiet_process() -> None:
    """Silence TensorFlow's start-up lines; effective if the backend is not imported yet."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


@dataclass(frozen=True)
class WorkerSettings:
    """How each loky worker process starts and when it is recycled."""

    log_path: str | None = None
    """The worker's stdout and stderr (TensorFlow's C++ logging writes to descriptor 2)."""
    preload_keras: bool = False
    """Import Keras once at start, not inside the first genome's timing."""
    lock_dir: str | None = None
    slots: tuple[str, ...] = ()
    """GPU ids to claim one of (see evolve.gpus); empty for CPU workers."""
    hide_gpus: bool = False
    max_evals: int = 0
    """Recycle the worker after this many evaluations (0: never)."""
    max_rss_mb: int = 0
    """Recycle the worker once its resident memory passes this (0: never)."""


_SETTINGS: WorkerSettings | None = None
_EVALS = 0
_LAST_RSS = 0.0
_GROWTH: list[float] = []
"""Memory growth of this worker's recent evaluations, to forecast the next one's."""


def init_loky_worker(settings: WorkerSettings) -> None:
    """Initializer of each loky worker process, run once before its first evaluation."""
    global _SETTINGS
    quiet_process()
    if settings.log_path:
        fd = os.open(settings.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    from evolve import gpus

    gpus.pin(settings.lock_dir, settings.slots, settings.hide_gpus)
    if settings.preload_keras:
        import keras  # noqa: F401
    from joblib.externals.loky import process_executor

    # loky's own guard restarts a worker whose memory grew 300 MB past its first task: the
    # backend's import alone does that. Our limits decide instead (see _recycle_if_due), and
    # loky checks after every task so that a recycle happens right after the result is sent.
    process_executor._MAX_MEMORY_LEAK_SIZE = 1 << 62
    process_executor._MEMORY_LEAK_CHECK_DELAY = 0.0
    _SETTINGS = settings


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _recycle_if_due(rss: float) -> None:
    """Ask loky to replace this worker after the current result, when a limit is reached:
    its evaluation count, or its memory once the next evaluation, growing it as much as the most
    of the last five did, would pass the limit.

    loky exits a worker cleanly (result sent, a new worker started) when its memory check
    fails; setting the threshold below any possible growth makes that check fail next time.
    """
    global _EVALS, _LAST_RSS
    if _SETTINGS is None:
        return
    _EVALS += 1
    if _LAST_RSS:
        _GROWTH[:] = [*_GROWTH[-4:], max(0.0, rss - _LAST_RSS)]
    _LAST_RSS = rss
    growth = max(_GROWTH, default=0.0)
    due = (_SETTINGS.max_evals and _SETTINGS.max_evals <= _EVALS) or (
        _SETTINGS.max_rss_mb and rss + growth >= _SETTINGS.max_rss_mb
    )
    if due:
        from joblib.externals.loky import process_executor

        process_executor._MAX_MEMORY_LEAK_SIZE = -(1 << 62)


def _expire(seconds: float) -> None:
    print(f"evaluation ran past its {seconds:g} s timeout: stopping this worker", flush=True)
    os._exit(124)
