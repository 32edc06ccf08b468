"""The ``loky`` backend: worker processes on this machine, and each worker's life.

loky is the process pool joblib itself runs on (``joblib.externals.loky``). Each worker starts
once (its log file, its GPU, Keras imported up front), evaluates genome after genome, and is
replaced when it reaches a limit (evaluations, memory) right after sending a result. A worker
that hangs past the hard timeout ends itself (the watchdog of ``trial.run_trial``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from concurrent.futures import Executor
from dataclasses import dataclass, replace

from evolve.execution import gpus, trial
from evolve.execution.environment import auto_threads, quiet_process, usable_cores, worker_env

HARD_TIMEOUT = True


@dataclass(frozen=True)
class WorkerSettings:
    """How each loky worker process starts and when it is recycled."""

    log_path: str | None = None
    """The worker's stdout and stderr (TensorFlow's C++ logging writes to descriptor 2)."""
    preload_keras: bool = False
    """Import Keras once at start, not inside the first genome's timing."""
    lock_dir: str | None = None
    gpu_slots: tuple[str, ...] = ()
    """GPU ids to claim one of (see ``gpus``); empty for CPU workers."""
    hide_gpus: bool = False
    max_evals: int = 0
    """Recycle the worker after this many evaluations (0: never)."""
    max_rss_mb: int = 0
    """Recycle the worker once its resident memory passes this (0: never)."""
    threads: int = 0
    """TensorFlow threads for each worker's operations (0: this machine's cores shared among
    the workers)."""
    parent_pid: int = 0
    """The process that started the pool (set by ``make``): a worker whose parent is already
    gone when it starts (a ``kill -9`` while the pool was starting) ends at once."""


def auto_workers() -> int:
    """One worker per usable core (``usable_cores``: the process's CPU affinity), at most 8
    (each TensorFlow worker holds ~600 MB)."""
    return max(1, min(usable_cores(), 8))


def make(workers: int, address: str, settings: WorkerSettings | None) -> Executor:
    """loky's reusable pool of ``workers`` processes; called again after a worker died, it
    returns a working pool with the same settings."""
    from joblib.externals.loky import get_reusable_executor

    # loky warns when a worker leaves with work queued; recycling workers is our intent.
    warnings.filterwarnings("ignore", message="A worker stopped while some jobs")
    return get_reusable_executor(
        max_workers=workers,
        timeout=600,
        env=worker_env((settings and settings.threads) or auto_threads(workers)),
        initializer=init_worker,
        initargs=(replace(settings or WorkerSettings(), parent_pid=os.getpid()),),
    )


def capacity(address: str) -> int:
    return auto_workers()


def stop(executor: Executor, future: object = None) -> bool:
    """Kill the pool's workers now (SIGKILL, which also ends a stopped or hung process) and
    shut the pool down; the next ``make`` starts a fresh one. Their evaluations are lost and
    are reported to the loop as worker deaths."""
    shutdown = getattr(executor, "shutdown", None)
    if shutdown is None:
        return True
    # loky kills from its manager thread; wait (boundedly) until it has, or a new pool asked
    # for meanwhile could shut this one down again without killing (and its exit hang)
    manager = getattr(executor, "_executor_manager_thread", None)
    shutdown(wait=False, kill_workers=True)
    if manager is not None:
        manager.join(timeout=STOP_WITHIN)
    return True


STOP_WITHIN = 10.0
"""Seconds ``stop`` waits for loky to have killed a pool's workers."""


_LIMITS: WorkerSettings | None = None
_EVALS = 0
_LAST_RSS = 0.0
_GROWTH: list[float] = []
"""Memory growth of this worker's recent evaluations, to forecast the next one's."""


def init_worker(settings: WorkerSettings) -> None:
    """Initializer of each loky worker process, run once before its first evaluation.

    A failure to claim a GPU or import the backend is kept for ``trial.ready`` to report in one
    line (loky would only log it and break the pool, every genome then recorded as died)."""
    global _LIMITS, _LAST_RSS
    # first: a parent killed before now (getppid is then init's) or during the imports below
    # leaves no worker behind
    _follow_parent(settings.parent_pid or os.getppid())
    quiet_process()
    try:
        if settings.log_path:
            fd = os.open(settings.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
        gpus.pin(settings.lock_dir, settings.gpu_slots, settings.hide_gpus)
        if settings.preload_keras:
            import keras  # noqa: F401
    except Exception as exc:
        trial.STARTUP_ERRORS.append(trial.one_line(exc))
    from joblib.externals.loky import process_executor

    # loky's own guard restarts a worker whose memory grew 300 MB past its first task: the
    # backend's import alone does that. Our limits decide instead (``_due``).
    process_executor._MAX_MEMORY_LEAK_SIZE = 1 << 62
    _LIMITS = settings
    _LAST_RSS = trial.rss_mb()  # the first evaluation's growth counts too
    trial.WATCHDOG["armed"] = True
    trial.AFTER_EVALUATION.append(_count)
    if settings.max_evals or settings.max_rss_mb:
        _leave_when_due()


def _follow_parent(parent: int, every: float = 0.5) -> None:
    """End this worker as soon as the process that started it is gone, however it died (a
    ``kill -9`` leaves no time to shut the pool down): no orphan keeps a GPU slot, its memory,
    or a half-trained genome that the resumed run will train again anyway."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def _count(rss: float) -> None:
    """After each evaluation: count it and note how much it grew this worker's memory."""
    global _EVALS, _LAST_RSS
    _EVALS += 1
    _GROWTH[:] = [*_GROWTH[-4:], max(0.0, rss - _LAST_RSS)]
    _LAST_RSS = rss


def _due() -> bool:
    """Whether this worker must leave before its next evaluation: it has done
    ``max_evals``, or its memory now, grown as much as the most of its last five evaluations
    grew it, would pass ``max_rss_mb``."""
    limits = _LIMITS
    if limits is None or not _EVALS:
        return False
    if limits.max_evals and limits.max_evals <= _EVALS:
        return True
    if limits.max_rss_mb:
        return trial.rss_mb() + max(_GROWTH, default=0.0) >= limits.max_rss_mb
    return False


def _leave_when_due() -> None:
    """Make this worker leave cleanly, before it takes another genome, once ``_due``.

    loky's worker loop reads its next task from a queue, and a ``None`` read there is its
    sentinel: the worker tells the pool it leaves (its result already sent), the pool starts
    a replacement, and no evaluation is lost. So this worker's queue read answers ``None``
    when it is due. (loky's memory check, the other way out of that loop, is skipped after a
    worker's first task: a limit of one evaluation would let it run two.) The queue is the
    ``call_queue`` of loky's ``_process_worker``, which calls this initializer."""
    frame = sys._getframe()
    while frame is not None and "call_queue" not in frame.f_locals:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        raise RuntimeError("loky's worker loop was not found: cannot recycle workers")
    queue = frame.f_locals["call_queue"]
    take = queue.get

    def get(block: bool = True, timeout: float | None = None) -> object:
        return None if _due() else take(block, timeout)

    queue.get = get
