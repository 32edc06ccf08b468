"""The ``loky`` backend: worker processes on this machine, and each worker's life.

loky is the process pool joblib itself runs on (``joblib.externals.loky``). Each worker starts
once (its log file, its GPU, Keras imported up front), evaluates genome after genome, and is
replaced when it reaches a limit (evaluations, memory) right after sending a result. A worker
that hangs past the hard timeout ends itself (the watchdog of ``trial.run_trial``).
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from concurrent.futures import Executor
from dataclasses import dataclass, replace

from evolve.execution import gpus, trial
from evolve.execution.environment import quiet_process, worker_env

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
    parent_pid: int = 0
    """The process that started the pool (set by ``make``): a worker whose parent is already
    gone when it starts (a ``kill -9`` while the pool was starting) ends at once."""


def auto_workers() -> int:
    """One worker per core, at most 8 (each TensorFlow worker holds ~600 MB)."""
    return max(1, min(os.cpu_count() or 1, 8))


def make(workers: int, address: str, settings: WorkerSettings | None) -> Executor:
    """loky's reusable pool of ``workers`` processes; called again after a worker died, it
    returns a working pool with the same settings."""
    from joblib.externals.loky import get_reusable_executor

    # loky warns when a worker leaves with work queued; recycling workers is our intent.
    warnings.filterwarnings("ignore", message="A worker stopped while some jobs")
    return get_reusable_executor(
        max_workers=workers,
        timeout=600,
        env=worker_env(workers),
        initializer=init_worker,
        initargs=(replace(settings or WorkerSettings(), parent_pid=os.getpid()),),
    )


def capacity(address: str) -> int:
    return auto_workers()


_LIMITS: WorkerSettings | None = None
_EVALS = 0
_LAST_RSS = 0.0
_GROWTH: list[float] = []
"""Memory growth of this worker's recent evaluations, to forecast the next one's."""


def init_worker(settings: WorkerSettings) -> None:
    """Initializer of each loky worker process, run once before its first evaluation."""
    global _LIMITS
    # first: a parent killed before now (getppid is then init's) or during the imports below
    # leaves no worker behind
    _follow_parent(settings.parent_pid or os.getppid())
    quiet_process()
    if settings.log_path:
        fd = os.open(settings.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    gpus.pin(settings.lock_dir, settings.gpu_slots, settings.hide_gpus)
    if settings.preload_keras:
        import keras  # noqa: F401
    from joblib.externals.loky import process_executor

    # loky's own guard restarts a worker whose memory grew 300 MB past its first task: the
    # backend's import alone does that. Our limits decide instead (see _recycle_if_due), and
    # loky checks after every task so that a recycle happens right after the result is sent.
    process_executor._MAX_MEMORY_LEAK_SIZE = 1 << 62
    process_executor._MEMORY_LEAK_CHECK_DELAY = 0.0
    _LIMITS = settings
    trial.WATCHDOG["armed"] = True
    trial.AFTER_EVALUATION.append(_recycle_if_due)


def _follow_parent(parent: int, every: float = 0.5) -> None:
    """End this worker as soon as the process that started it is gone, however it died (a
    ``kill -9`` leaves no time to shut the pool down): no orphan keeps a GPU slot, its memory,
    or a half-trained genome that the resumed run will train again anyway."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def _recycle_if_due(rss: float) -> None:
    """Ask loky to replace this worker after the current result, when a limit is reached:
    its evaluation count, or its memory once the next evaluation, growing it as much as the most
    of the last five did, would pass the limit.

    loky exits a worker cleanly (result sent, a new worker started) when its memory check
    fails; setting the threshold below any possible growth makes that check fail next time.
    """
    global _EVALS, _LAST_RSS
    if _LIMITS is None:
        return
    _EVALS += 1
    if _LAST_RSS:
        _GROWTH[:] = [*_GROWTH[-4:], max(0.0, rss - _LAST_RSS)]
    _LAST_RSS = rss
    growth = max(_GROWTH, default=0.0)
    due = (_LIMITS.max_evals and _LIMITS.max_evals <= _EVALS) or (
        _LIMITS.max_rss_mb and rss + growth >= _LIMITS.max_rss_mb
    )
    if due:
        from joblib.externals.loky import process_executor

        process_executor._MAX_MEMORY_LEAK_SIZE = -(1 << 62)
