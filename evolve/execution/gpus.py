"""One GPU per worker: which GPUs to use, and pinning a worker process to one for its life.

Detection reads ``CUDA_VISIBLE_DEVICES`` or asks ``nvidia-smi``; it never imports a framework.
A worker claims a *slot* (a GPU, repeated ``workers_per_gpu`` times) by holding an exclusive
``flock`` on the slot's lock file for its whole life. The kernel releases the lock when the
process ends, however it ends, so a replacement worker takes exactly the slot that was freed.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from dataclasses import dataclass

from evolve.execution.environment import HIDDEN_GPUS, pin_visible_devices

_HELD: list[int] = []
"""File descriptors of the slot locks this process holds (kept open for its life)."""


class GpuError(ValueError):
    """A GPU request that cannot be met; one line."""


def detect() -> list[str]:
    """Ids of the visible NVIDIA GPUs (``CUDA_VISIBLE_DEVICES`` first, then nvidia-smi)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip() and d.strip() != "-1"]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]


def check_spec(spec: str) -> None:
    """``GpuError`` for a ``--gpus`` value that is not auto, none, or distinct ids (the
    syntax only; ``parse`` also reads what is visible)."""
    spec = spec.strip().lower()
    if spec in ("auto", "none", "cpu", ""):
        return
    ids = [part.strip() for part in spec.split(",")]
    if not all(part.isdigit() for part in ids) or len(set(ids)) != len(ids):
        raise GpuError(f"run.gpus must be auto, none, or distinct GPU ids like 0,1 (got '{spec}')")


def parse(spec: str) -> list[str] | None:
    """``auto`` -> detected GPUs; ``none`` -> None (GPUs hidden); ``0,1`` -> those GPUs.

    Ids are read as CUDA and every framework read them: relative to ``CUDA_VISIBLE_DEVICES``
    when it is set (with ``2,3`` visible, ``--gpus 1`` is physical GPU 3); the result is the
    physical ids. An id that is not visible is a ``GpuError``.
    """
    spec = spec.strip().lower()
    if spec == "auto":
        return detect()
    if spec in ("none", "cpu", ""):
        return None
    check_spec(spec)
    ids = [part.strip() for part in spec.split(",")]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return ids
    shown = detect()
    outside = [i for i in ids if int(i) >= len(shown)]
    if outside:
        raise GpuError(
            f"GPU {outside[0]} is not visible: CUDA_VISIBLE_DEVICES={visible} shows "
            f"{len(shown)} GPU(s), numbered 0 to {len(shown) - 1} as CUDA numbers them"
        )
    return [shown[int(i)] for i in ids]


@dataclass(frozen=True)
class Placement:
    """How many workers to start, and the GPU slot each may claim."""

    workers: int
    slots: tuple[str, ...]
    """One GPU id per worker slot; empty for CPU workers."""
    hide_gpus: bool = False
    """CPU workers on a machine with GPUs: hide them from the backend."""


def plan(gpus: list[str] | None, workers_per_gpu: int, workers: int, cpu_default: int) -> Placement:
    """Workers and slots for a GPU list (``None``: GPUs refused, ``[]``: none found)."""
    if workers_per_gpu < 1:
        raise GpuError(f"workers_per_gpu must be at least 1, got {workers_per_gpu}")
    if not gpus:
        return Placement(workers or cpu_default, (), hide_gpus=gpus is None)
    slots = tuple(g for g in gpus for _ in range(workers_per_gpu))
    if workers and workers > len(slots):
        raise GpuError(
            f"{workers} workers but only {len(slots)} GPU slots "
            f"({len(gpus)} GPUs x {workers_per_gpu} workers per GPU); raise workers_per_gpu "
            "or lower --workers"
        )
    return Placement(workers or len(slots), slots)


def claim(lock_dir: str, slots: tuple[str, ...], wait: float = 120.0) -> str:
    """Take a free slot for this process's life and return its GPU id."""
    os.makedirs(lock_dir, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        for index, device in enumerate(slots):
            fd = os.open(os.path.join(lock_dir, f"slot-{index}.lock"), os.O_CREAT | os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            _HELD.append(fd)
            return device
        if time.monotonic() > deadline:
            raise GpuError(f"no free GPU slot in {lock_dir} after {wait:.0f} s")
        time.sleep(0.05)


def pin(lock_dir: str | None, slots: tuple[str, ...], hide_gpus: bool) -> None:
    """Pin this process before any backend starts: a GPU of its own, or none at all."""
    if slots and lock_dir:
        pin_visible_devices(claim(lock_dir, slots), growth=True)
    elif hide_gpus:
        pin_visible_devices(HIDDEN_GPUS, growth=False)
