"""Shared test settings: quiet TensorFlow, a private KERAS_HOME, the repository root, and the
test lanes.

Lanes (markers): ``unit`` (no TensorFlow, no worker processes: ``python -m pytest -m unit``,
well under a minute), ``integration`` (the default: real worker processes, small Keras
trainings) and ``e2e`` (the ``slow`` tests: whole runs of the command line, kills, clusters).
A unit test that imports TensorFlow or leaves a child process fails, so the lane cannot drift.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
LANES = ("unit", "integration", "e2e")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
if "KERAS_HOME" not in os.environ:
    os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="keras-home-")
    atexit.register(shutil.rmtree, os.environ["KERAS_HOME"], ignore_errors=True)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (pyproject's addopts): one test process per core, at most four. Each test
    may start two worker processes of its own that import Keras (about 600 MB each), so more
    test processes than cores only queue on the CPU."""
    return max(1, min(psutil.cpu_count(logical=False) or os.cpu_count() or 1, 4))


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, each test process gets cores of its own (CPU affinity, which every process
    it starts inherits): a run a test starts then takes one worker per core it may use (one,
    on a 2-core machine with two test processes) instead of one per core of the machine, and
    the two test processes never queue on each other's core."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0)
    if not worker.startswith("gw") or count < 2 or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    share = len(cores) // count
    if share < 1:
        return
    index = int(worker[2:]) % count
    os.sched_setaffinity(0, cores[index * share : (index + 1) * share])


@pytest.fixture
def root() -> Path:
    return ROOT


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test without a lane marker is ``e2e`` when ``slow``, else ``integration``."""
    for item in items:
        if not any(item.get_closest_marker(lane) for lane in LANES):
            lane = "e2e" if item.get_closest_marker("slow") else "integration"
            item.add_marker(getattr(pytest.mark, lane))


@pytest.fixture(autouse=True)
def _unit_lane_guard(request: pytest.FixtureRequest):
    """Fail a ``unit`` test that imported TensorFlow or left a child process behind."""
    if request.node.get_closest_marker("unit") is None:
        yield
        return
    had_tensorflow = "tensorflow" in sys.modules
    children = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    if not had_tensorflow and "tensorflow" in sys.modules:
        pytest.fail("a unit test imported TensorFlow: mark it integration")
    new = {p.pid for p in psutil.Process().children(recursive=True)} - children
    if new:
        pytest.fail(f"a unit test left child processes {sorted(new)}: mark it integration")
