"""Where evaluations run: existing engines behind ``concurrent.futures``, one module each.

| backend | module | runs on |
|---|---|---|
| ``loky`` | ``loky_pool`` | joblib's process pool on this machine, one GPU per worker |
| ``dask`` | ``dask_cluster`` | a dask.distributed cluster (``Client.get_executor``) |
| ``ray`` | ``ray_cluster`` | Ray tasks |
| ``inline`` | ``inline`` | this process (cheap fitness functions, debugging) |

A backend module offers ``make(workers, address, settings) -> Executor``, ``capacity(address)``
(evaluations at once when the user does not say), ``HARD_TIMEOUT`` (whether a hung evaluation
can be ended where it runs), and optionally ``stop(executor, future)`` (end what runs there
now, when the parent gives up waiting) and ``release()`` (the end of a session). Adding a
backend is one module and one line in ``BACKENDS``.
"""

from __future__ import annotations

import importlib
from concurrent.futures import Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from types import ModuleType
from typing import Any

BACKENDS = {
    "loky": "evolve.execution.loky_pool",
    "dask": "evolve.execution.dask_cluster",
    "ray": "evolve.execution.ray_cluster",
    "inline": "evolve.execution.inline",
}


def backend(name: str) -> ModuleType:
    """The module of backend ``name``; ``ValueError`` naming the known ones otherwise."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend '{name}' (known: {', '.join(BACKENDS)})")
    return importlib.import_module(BACKENDS[name])


def make_executor(name: str, workers: int, address: str = "", settings: Any = None) -> Executor:
    """An executor for ``workers`` parallel evaluations on backend ``name``.

    ``settings`` (``loky_pool.WorkerSettings``) say how each loky worker starts and when it is
    recycled. Raises ``ValueError`` (an unknown backend, a missing address or package) or
    ``OSError`` (a cluster that cannot be reached). Called again after a worker died, it returns
    a working executor with the same settings.
    """
    return backend(name).make(workers, address, settings)


class WaitTimeout(TimeoutError):
    """The parent gave up waiting for a worker; the message is one line naming what overran."""


def wait_for(future: Future, seconds: float, what: str) -> Any:
    """``future``'s result, waiting at most ``seconds`` (0: no bound); ``WaitTimeout`` naming
    ``what`` when it overran (the caller then stops the worker: ``stop``)."""
    try:
        return future.result(timeout=seconds or None)
    except FutureTimeout:
        future.cancel()
        raise WaitTimeout(f"{what} gave no answer within {seconds:g} s") from None


def stop(name: str, executor: Executor, future: Future | None = None) -> bool:
    """End what runs on ``executor`` now, without waiting: the task of ``future`` (a worker
    that hangs past every timeout; loky cannot single it out and ends the whole pool), or
    everything (``None``: a run that ends with evaluations in flight). A backend that cannot
    stop its tasks (dask) does nothing. Returns whether ``executor`` is now unusable (the
    caller makes a new one)."""
    halt = getattr(backend(name), "stop", None)
    return bool(halt(executor, future)) if halt is not None else False


def capacity(name: str, address: str = "") -> int:
    """How many evaluations backend ``name`` runs at once by default."""
    return int(backend(name).capacity(address))


def check_sendable(fitness: Any, name: str, executor: Executor | None = None) -> None:
    """Raise ``ValueError`` (one line) when ``fitness`` cannot be sent to the workers of
    backend ``name`` (or of a user's ``executor``): found once, before the first genome, rather
    than as a failure of every genome."""
    from concurrent.futures import ProcessPoolExecutor

    if executor is not None and not isinstance(executor, ProcessPoolExecutor):
        return  # threads, or the user's own engine: it decides
    if executor is None and name == "inline":
        return
    if executor is not None:
        import pickle

        dumps = pickle.dumps
    else:  # loky, dask and ray all send functions with cloudpickle (a joblib dependency)
        import cloudpickle

        dumps = cloudpickle.dumps
    try:
        dumps(fitness)
    except Exception as exc:
        from evolve.execution.trial import one_line

        raise ValueError(
            f"the fitness cannot be sent to worker processes ({one_line(exc)}); define it at "
            "module level without locks, open files or connections, or run with workers=1"
        ) from None


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
