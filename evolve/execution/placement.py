"""How many workers a run starts, and the GPU each loky worker may claim."""

from __future__ import annotations

import os

from evolve.execution import capacity, gpus
from evolve.execution.gpus import GpuError, Placement


def place(
    backend: str, workers: int, address: str, gpu_spec: str, workers_per_gpu: int
) -> Placement:
    """Resolve ``workers`` (0: automatic) and the GPU slots for ``backend``.

    loky: one worker per GPU slot (``workers_per_gpu`` per GPU), or one per core without GPUs;
    with ``auto`` GPUs, more workers than slots share the GPUs evenly (explicit ids are strict);
    a cluster places work on its own resources; inline runs one evaluation at a time. Raises
    ``GpuError`` for a request that cannot be met, ``ValueError``/``OSError`` for a cluster that
    cannot be used.
    """
    if backend == "inline":
        return Placement(1, ())
    if backend != "loky":
        return Placement(
            workers or capacity(backend, address), (), hide_gpus=gpu_spec.strip() == "none"
        )
    found = gpus.parse(gpu_spec)
    if found and os.environ.get("CUDA_VISIBLE_DEVICES") is None:
        present = gpus.detect()
        missing = [g for g in found if g not in present]
        if missing:
            shown = f"GPUs {', '.join(present)}" if present else "no GPU"
            raise GpuError(f"GPU {missing[0]} is not visible: nvidia-smi shows {shown} here")
    if gpu_spec.strip().lower() == "auto" and found and workers > len(found) * workers_per_gpu:
        workers_per_gpu = -(-workers // len(found))  # auto: spread the workers asked for
    return gpus.plan(found, workers_per_gpu, workers, capacity("loky"))


__all__ = ["GpuError", "Placement", "place"]
