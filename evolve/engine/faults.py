"""Crash points for the kill-and-resume tests.

``EVOLVE_CRASH_AT="name:N"`` makes the process SIGKILL itself the N-th time it reaches the
point ``name`` (``journal``, ``journal-partial``, ``checkpoint-temp``, ``checkpoint``, ``ask``).
Unset, a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_SPEC = os.environ.get("EVOLVE_CRASH_AT", "")
_NAME, _, _COUNT = _SPEC.partition(":")
_SEEN: dict[str, int] = {}


def point(name: str) -> None:
    """Die here if this is the configured crash point and count."""
    if name != _NAME:
        return
    _SEEN[name] = _SEEN.get(name, 0) + 1
    if _SEEN[name] == int(_COUNT or 1):
        os.kill(os.getpid(), signal.SIGKILL)
