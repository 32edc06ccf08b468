"""The ``dask`` backend: a dask.distributed cluster, through ``Client.get_executor``.

The cluster places work on its own resources (dask-cuda runs one worker per GPU). Dask cannot
stop a running task: past the hard timeout the loop records a timeout and cancels the future,
and the worker's thread runs on until the training ends (the Keras problem's own time limit
stops it at the next batch).
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

HARD_TIMEOUT = False


def _client(address: str) -> Any:
    from distributed import Client

    if not address:
        raise ValueError("the dask backend needs a scheduler address (--scheduler HOST:PORT)")
    return Client(address)


def make(workers: int, address: str, settings: Any) -> Executor:
    return _client(address).get_executor()


def capacity(address: str) -> int:
    """Evaluations the cluster runs at once: its worker threads."""
    return max(1, sum(_client(address).nthreads().values()))
