"""Every environment variable the engine sets for a worker, in one place.

Set before the backend (TensorFlow, JAX) is imported in that process, so they take effect.
"""

from __future__ import annotations

import contextlib
import os
import sys

QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "ABSL_MIN_LOG_LEVEL": "2",
    "GRPC_VERBOSITY": "ERROR",
    "PYTHONWARNINGS": "ignore",
}
"""Silences TensorFlow's start-up lines."""

NUMERICS_ENV = {
    "TF_ENABLE_ONEDNN_OPTS": "0",  # oneDNN's kernels round differently from Eigen's
    "TF_NUM_INTEROP_THREADS": "1",
}
"""What a training's numbers depend on besides its seed and its thread count: set the same in
every worker of every backend (``pin_numerics``), so a genome and seed give the same fitness
on loky, dask or ray."""

GPU_GROWTH_ENV = {
    "TF_FORCE_GPU_ALLOW_GROWTH": "true",  # TensorFlow: allocate GPU memory as needed
    "XLA_PYTHON_CLIENT_PREALLOCATE": "false",  # JAX: the same
}
"""Set in a worker pinned to a GPU, so that workers sharing one GPU can coexist."""

HIDDEN_GPUS = "-1"
"""``CUDA_VISIBLE_DEVICES`` of a CPU-only worker on a machine with GPUs."""


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (what ``taskset``, Slurm and
    container CPU sets leave it), else every core of the machine (``os.cpu_count``, which
    counts cores the process may not use)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this platform (macOS)
        return max(1, os.cpu_count() or 1)


def auto_threads(workers: int) -> int:
    """TensorFlow threads per training when the run does not say: the cores this process may
    use (``usable_cores``) shared among its ``workers``."""
    return max(1, usable_cores() // max(1, workers))


def worker_env(threads: int) -> dict[str, str]:
    """Environment of each loky worker process: quiet TensorFlow, ``threads`` threads for its
    operations (intra-op), and the numerics every backend shares."""
    return {
        **QUIET_ENV,
        **NUMERICS_ENV,
        "TF_NUM_INTRAOP_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
    }


def pin_numerics(threads: int) -> None:
    """Make this process train as every worker of the run does, whatever backend started it:
    ``NUMERICS_ENV`` and ``threads`` intra-op threads (0: leave them). Effective before the
    backend starts its runtime (a dask or ray worker's first training); TensorFlow's thread
    pools, once made, keep their size (``RuntimeError`` swallowed: loky workers were started
    with these values already)."""
    if not threads:
        return
    os.environ.update(NUMERICS_ENV)
    os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(threads)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        with contextlib.suppress(RuntimeError):
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)


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
