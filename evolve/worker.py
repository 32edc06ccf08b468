"""What a worker process runs for one genome: call the fitness, time it, catch its failure.

Imported in the parent too (to pickle references to these functions), so it must not import
TensorFlow or Keras at module level.
"""

from __future__ import annotations

import inspect
import math
import os
import socket
import time
import traceback
from collections.abc import Callable, Mapping
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


def _takes(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def call_fitness(
    fitness: Callable[..., Any], genes: dict[str, Any], seed: int, genome_id: str
) -> Any:
    """Call a fitness with the keyword arguments it declares among ``seed`` and ``genome_id``."""
    kwargs: dict[str, Any] = {}
    if _takes(fitness, "seed"):
        kwargs["seed"] = seed
    if _takes(fitness, "genome_id"):
        kwargs["genome_id"] = genome_id
    return fitness(genes, **kwargs)


def run_trial(
    fitness: Callable[..., Any],
    genes: Mapping[str, Any],
    seed: int,
    genome_id: str,
    objective: str,
) -> dict[str, Any]:
    """Evaluate one genome; never raises for a failure of the genome itself.

    Returns ``status`` ("ok" or "failed"), ``fitness``, ``metrics``, ``reason`` and where it
    ran. A fitness that returns a number is recorded as ``{"fitness": number}``.
    """
    quiet_process()
    started = time.perf_counter()
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
    except Exception as exc:
        metrics, value, status = {}, None, "failed"
        reason = one_line(exc)
        if os.environ.get("EVOLVE_DEBUG"):
            traceback.print_exc()
    return {
        "status": status,
        "fitness": value,
        "metrics": metrics,
        "reason": reason,
        "seconds": round(time.perf_counter() - started, 4),
        **where,
    }


def quiet_process() -> None:
    """Silence TensorFlow's start-up lines; effective if the backend is not imported yet."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


def init_loky_worker(log_path: str | None, preload_keras: bool, memory_growth_mb: int) -> None:
    """Initializer of each loky worker process, run once before its first evaluation.

    Sends the process's stdout and stderr (TensorFlow's C++ logging writes straight to file
    descriptor 2) to ``log_path``; imports Keras once, so that loky's memory guard measures its
    baseline with the backend loaded; and sets that guard to recycle the worker, cleanly and
    after the result in hand was sent, once its memory grows ``memory_growth_mb`` past the
    baseline.
    """
    quiet_process()
    if log_path:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    if preload_keras:
        import keras  # noqa: F401
    if memory_growth_mb > 0:
        from joblib.externals.loky import process_executor

        process_executor._MAX_MEMORY_LEAK_SIZE = memory_growth_mb * 2**20
