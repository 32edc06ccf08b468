"""Where evaluations run: existing engines behind ``concurrent.futures``.

``loky`` is the process pool that joblib itself runs on (``joblib.externals.loky``), ``dask``
is a dask.distributed cluster (``Client.get_executor``), ``ray`` uses Ray tasks' futures, and
``inline`` runs in this process (for cheap custom fitness functions and debugging).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from evolve.worker import QUIET_ENV, WorkerSettings, init_loky_worker

BACKENDS = ("loky", "dask", "ray", "inline")


class InlineExecutor(Executor):
    """Runs each call at submission, in this process, and returns a finished future."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def auto_workers() -> int:
    """One worker per core, at most 8 (each TensorFlow worker holds ~600 MB)."""
    return max(1, min(os.cpu_count() or 1, 8))


def worker_env(workers: int) -> dict[str, str]:
    """Environment of each worker process: quiet TensorFlow, cores shared among workers."""
    threads = str(max(1, (os.cpu_count() or 1) // max(1, workers)))
    return {
        **QUIET_ENV,
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": "1",
        "OMP_NUM_THREADS": threads,
    }


class RayExecutor(Executor):
    """Ray tasks as ``concurrent.futures`` futures; each asks for one GPU when the cluster has
    GPUs (unless ``use_gpus`` is False), so Ray places every evaluation on a GPU of its own."""

    def __init__(self, address: str, use_gpus: bool = True) -> None:
        import ray

        ray.init(address=address or None, ignore_reinit_error=True, log_to_driver=False)
        self._ray = ray
        has_gpus = ray.cluster_resources().get("GPU", 0) > 0
        self._num_gpus = 1.0 if use_gpus and has_gpus else 0.0
        self._remote: dict[Any, Any] = {}

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if fn not in self._remote:
            self._remote[fn] = self._ray.remote(num_gpus=self._num_gpus)(fn)
        return self._remote[fn].remote(*args, **kwargs).future()


def make_executor(
    backend: str,
    workers: int,
    address: str = "",
    settings: WorkerSettings | None = None,
) -> Executor:
    """An executor for ``workers`` parallel evaluations on ``backend``.

    For loky, ``settings`` say how each worker process starts (its log file, its GPU, Keras
    imported up front) and when it is recycled. Calling this again after a worker died returns
    a fresh pool with the same settings.
    """
    if backend == "inline":
        return InlineExecutor()
    if backend == "loky":
        from joblib.externals.loky import get_reusable_executor

        # loky warns when a worker leaves with work queued; recycling workers is our intent.
        warnings.filterwarnings("ignore", message="A worker stopped while some jobs")

        return get_reusable_executor(
            max_workers=workers,
            timeout=600,
            env=worker_env(workers),
            initializer=init_loky_worker,
            initargs=(settings or WorkerSettings(),),
        )
    if backend == "dask":
        from distributed import Client

        if not address:
            raise ValueError("the dask backend needs a scheduler address (--scheduler HOST:PORT)")
        return Client(address).get_executor()
    if backend == "ray":
        try:
            return RayExecutor(address, use_gpus=not (settings and settings.hide_gpus))
        except ImportError:
            raise ValueError("the ray backend needs ray: pip install 'ray[default]'") from None
    raise ValueError(f"unknown backend '{backend}' (known: {', '.join(BACKENDS)})")


def cluster_workers(backend: str, address: str) -> int:
    """Evaluations a cluster runs at once: its worker threads (dask) or GPUs, else CPUs (ray)."""
    if backend == "dask":
        from distributed import Client

        if not address:
            raise ValueError("the dask backend needs a scheduler address (--scheduler HOST:PORT)")
        return max(1, sum(Client(address).nthreads().values()))
    if backend == "ray":
        import ray

        ray.init(address=address or None, ignore_reinit_error=True, log_to_driver=False)
        resources = ray.cluster_resources()
        return max(1, int(resources.get("GPU", 0) or resources.get("CPU", 1)))
    return auto_workers()


WORKER_DEATHS = frozenset(
    {
        "TerminatedWorkerError",
        "BrokenProcessPool",
        "BrokenExecutor",
        "KilledWorker",
        "WorkerCrashedError",
        "ShutdownExecutorError",
    }
)


def is_worker_death(exc: BaseException) -> bool:
    """Whether an executor's error means the worker process died (not that the task raised)."""
    return any(cls.__name__ in WORKER_DEATHS for cls in type(exc).__mro__)
