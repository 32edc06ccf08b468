"""Every environment variable the engine sets for a worker, in one place.

Set before the backend (TensorFlow, JAX) is imported in that process, so they take effect.
"""

from __future__ import annotations

import os

QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "ABSL_MIN_LOG_LEVEL": "2",
    "GRPC_VERBOSITY": "ERROR",
    "PYTHONWARNINGS": "ignore",
}
"""Silences TensorFlow's start-up lines."""

GPU_GROWTH_ENV = {
    "TF_FORCE_GPU_ALLOW_GROWTH": "true",  # TensorFlow: allocate GPU memory as needed
    "XLA_PYTHON_CLIENT_PREALLOCATE": "false",  # JAX: the same
}
"""Set in a worker pinned to a GPU, so that workers sharing one GPU can coexist."""

HIDDEN_GPUS = "-1"
"""``CUDA_VISIBLE_DEVICES`` of a CPU-only worker on a machine with GPUs."""


def worker_env(workers: int) -> dict[str, str]:
    """Environment of each loky worker process: quiet TensorFlow, cores shared among workers."""
    threads = str(max(1, (os.cpu_count() or 1) // max(1, workers)))
    return {
        **QUIET_ENV,
        "TF_NUM_INTRAOP_THREADS": threads,
        "TF_NUM_INTEROP_THREADS": "1",
        "OMP_NUM_THREADS": threads,
    }


def quiet_process() -> None:
    """Silence TensorFlow's start-up lines in this process (if its backend is not imported yet)."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


def pin_visible_devices(devices: str, growth: bool) -> None:
    """Make only ``devices`` visible to this process's backend (``HIDDEN_GPUS``: none)."""
    os.environ["CUDA_VISIBLE_DEVICES"] = devices
    if growth:
        for key, value in GPU_GROWTH_ENV.items():
            os.environ.setdefault(key, value)
