"""The run's lock: one process per run, taken over safely when its holder died.

The lock is a ``flock`` on ``<run>/lock``: the kernel drops it when the holder dies, however it
dies (``kill -9`` included), so a lock left by a killed run is never stale. The file holds
``pid N on HOST`` so that a refusal can say who holds the run.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from evolve.rundir.errors import RunDirError


def take(lock_file: Path, run: Path) -> int:
    """Take the lock of the run at ``run`` for this process's life; returns its descriptor.

    Raises ``RunDirError`` (naming the holder) when a live process holds it.
    """
    fd = os.open(lock_file, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise RunDirError(f"{run} is in use by {holder}; one process per run") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode())
    return fd


def holder(lock_file: Path) -> str | None:
    """Who holds the lock (``pid N on HOST``) when a live process does; ``None`` when none
    does. Takes nothing: the lock is tried and let go at once."""
    if not lock_file.exists():
        return None
    fd = os.open(lock_file, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.read(fd, 200).decode(errors="replace").strip() or "another process"
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
