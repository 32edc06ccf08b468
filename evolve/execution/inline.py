"""The ``inline`` backend: every evaluation in this process, at submission.

For cheap fitness functions and debugging. Nothing can interrupt an evaluation here, so a
timeout is soft: the Keras problem stops training at the next batch, other code runs on.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

HARD_TIMEOUT = False


class InlineExecutor(Executor):
    """Runs each call at submission, in this process, and returns a finished future."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def make(workers: int, address: str, settings: Any) -> Executor:
    return InlineExecutor()


def capacity(address: str) -> int:
    return 1
