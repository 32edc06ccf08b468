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

_CLIENTS: dict[str, Any] = {}
"""One client per scheduler address for a session (closed by ``release``), rather than one per
executor: a client left open keeps reconnecting, and logging errors, once its cluster is gone."""


def _client(address: str) -> Any:
    from distributed import Client

    if not address:
        raise ValueError("the dask backend needs a scheduler address (--scheduler HOST:PORT)")
    client = _CLIENTS.get(address)
    if client is None or client.status in ("closing", "closed"):
        client = _CLIENTS[address] = Client(address)
    return client


def release() -> None:
    """Close the clients this process opened (the end of a session); the cluster runs on."""
    while _CLIENTS:
        _, client = _CLIENTS.popitem()
        client.close(timeout=CLOSE_WITHIN)


CLOSE_WITHIN = 10
"""Seconds a client may take to close at the end of a session (a scheduler that is gone)."""


def make(workers: int, address: str, settings: Any) -> Executor:
    return _client(address).get_executor()


def capacity(address: str) -> int:
    """Evaluations the cluster runs at once: its worker threads."""
    return max(1, sum(_client(address).nthreads().values()))
