"""The ``inline`` backend: every evaluation in this process, at submission.

For cheap fitness functions and debugging. Nothing can interrupt an evaluation here, so a
timeout is soft: the Keras problem stops training at the next batch, other code runs on.

A Keras run's evaluations write their descriptor 2 (TensorFlow's C++ start-up lines, which no
environment variable silences) to the run's ``workers.log``, as a loky worker's do, so that the
terminal shows the run's own lines only.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import Any

HARD_TIMEOUT = False


@contextlib.contextmanager
def stderr_to(path: str | None) -> Iterator[None]:
    """Descriptor 2 (and ``sys.stderr``) appended to ``path`` inside the block; nothing
    changes when ``path`` is ``None`` or cannot be opened."""
    if path is None:
        yield
        return
    try:
        target = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(target, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)


class InlineExecutor(Executor):
    """Runs each call at submission, in this process, and returns a finished future;
    ``log_path``, when set, receives descriptor 2 during each call."""

    def __init__(self, log_path: str | None = None) -> None:
        self.log_path = log_path

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            with stderr_to(self.log_path):
                result = fn(*args, **kwargs)
            future.set_result(result)
        except BaseException as exc:
            future.set_exception(exc)
        return future


def make(workers: int, address: str, settings: Any) -> Executor:
    keras = settings is not None and getattr(settings, "preload_keras", False)
    return InlineExecutor(getattr(settings, "log_path", None) if keras else None)


def capacity(address: str) -> int:
    return 1
