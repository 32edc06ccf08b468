"""The ``ray`` backend: Ray tasks' futures as ``concurrent.futures`` futures.

Each evaluation asks Ray for one GPU when the cluster has GPUs (unless GPUs are hidden), so Ray
places every evaluation on a GPU of its own. Past the hard timeout the loop records a timeout and
cancels the future; Ray then stops the task.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

HARD_TIMEOUT = False


def _ray(address: str) -> Any:
    try:
        import ray
    except ImportError:
        raise ValueError("the ray backend needs ray: pip install 'ray[default]'") from None
    ray.init(address=address or None, ignore_reinit_error=True, log_to_driver=False)
    return ray


class RayExecutor(Executor):
    """Ray remote functions behind ``submit``."""

    def __init__(self, address: str, use_gpus: bool = True) -> None:
        self._ray = _ray(address)
        has_gpus = self._ray.cluster_resources().get("GPU", 0) > 0
        self._num_gpus = 1.0 if use_gpus and has_gpus else 0.0
        self._remote: dict[Any, Any] = {}
        self._running: dict[Future, Any] = {}

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if fn not in self._remote:
            self._remote[fn] = self._ray.remote(num_gpus=self._num_gpus)(fn)
        ref = self._remote[fn].remote(*args, **kwargs)
        future = ref.future()
        self._running[future] = ref
        future.add_done_callback(lambda done: self._running.pop(done, None))
        return future

    def stop(self, future: Future | None = None) -> None:
        """Cancel the task of ``future`` (``None``: every task still running), ending its
        worker process (``force``)."""
        chosen = [future] if future is not None else list(self._running)
        for done in chosen:
            ref = self._running.pop(done, None)
            if ref is not None:
                self._ray.cancel(ref, force=True)


def make(workers: int, address: str, settings: Any) -> Executor:
    return RayExecutor(address, use_gpus=not (settings and settings.hide_gpus))


def stop(executor: Executor, future: Future | None = None) -> bool:
    if isinstance(executor, RayExecutor):
        executor.stop(future)
    return False


def capacity(address: str) -> int:
    """Evaluations the cluster runs at once: its GPUs, else its CPUs."""
    resources = _ray(address).cluster_resources()
    return max(1, int(resources.get("GPU", 0) or resources.get("CPU", 1)))
