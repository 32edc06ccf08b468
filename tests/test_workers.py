"""Worker processes: GPU pinning, isolated failures, bounded memory. Real loky processes,
cheap fitness functions (no TensorFlow)."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

import evolve
from evolve.engine.failures import FailurePolicy
from evolve.engine.loop import Loop
from evolve.execution import gpus, make_executor
from evolve.execution.loky_pool import WorkerSettings
from evolve.search import DONE, Strategy, make_strategy
from evolve.settings.config import ConfigError
from evolve.settings.fitness import SessionError
from genomes import SearchSpace
from support import SPACE, history, toy

cloudpickle.register_pickle_by_value(sys.modules[__name__])


class Scripted(Strategy):
    name = "scripted"

    def __init__(self, space, genes):
        super().__init__(space)
        self.todo = [space.genome(g) for g in genes]

    def ask(self):
        return self.todo.pop(0) if self.todo else DONE

    def tell(self, genome, fitness):
        pass


def slow(genes):
    time.sleep(0.15)
    return float(genes["x"])


def test_each_worker_is_pinned_to_its_own_gpu_for_life(tmp_path):
    slots = ("0", "1", "2", "3")
    settings = WorkerSettings(lock_dir=str(tmp_path / "slots"), gpu_slots=slots)
    space = SearchSpace.from_config({"x": {"type": "int", "min": 0, "max": 99}})
    strategy = make_strategy("random", space, "maximize", 0, budget=24)
    executor = make_executor("loky", 4, settings=settings)
    outcome = Loop(strategy, slow, executor, workers=4).run()
    records = outcome.records
    assert len(records) == 24 and os.environ.get("CUDA_VISIBLE_DEVICES") != "0,1,2,3"
    assert {r["cuda_visible_devices"] for r in records} == set(slots)
    device_of = {}
    for r in records:  # one device per process, for its whole life
        assert (
            device_of.setdefault(r["pid"], r["cuda_visible_devices"]) == r["cuda_visible_devices"]
        )
    overlapping = 0
    for a in records:
        for b in records:
            end_a, end_b = a["started"] + a["seconds"], b["started"] + b["seconds"]
            if a is not b and a["started"] < end_b and b["started"] < end_a:
                overlapping += 1
                assert a["cuda_visible_devices"] != b["cuda_visible_devices"]
    assert overlapping > 20  # evaluations really ran concurrently


@pytest.mark.unit
def test_gpu_plans():
    assert gpus.parse("0, 2") == ["0", "2"] and gpus.parse("none") is None
    with pytest.raises(gpus.GpuError, match="distinct GPU ids"):
        gpus.parse("0,0")
    assert gpus.plan(["0", "1"], 2, 0, 8) == gpus.Placement(4, ("0", "0", "1", "1"))
    assert gpus.plan([], 1, 0, 2) == gpus.Placement(2, ())
    assert gpus.plan(None, 1, 3, 2) == gpus.Placement(3, (), hide_gpus=True)
    with pytest.raises(gpus.GpuError, match="3 workers but only 2 GPU slots"):
        gpus.plan(["0", "1"], 1, 3, 8)


@pytest.mark.unit
def test_auto_detection_follows_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert gpus.parse("auto") == ["3", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpus.parse("auto") == []


def misbehave(genes):
    kind = genes["kind"]
    time.sleep(0.05)
    if kind == "raise":
        raise RuntimeError("bad genome\nsecond line")
    if kind == "nan":
        return float("nan")
    if kind == "oom":
        return float(np.ones(2**50).sum())  # numpy raises MemoryError without allocating
    if kind == "timeout":
        time.sleep(60)
    if kind == "exit":
        os._exit(3)
    if kind == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "segfault":
        ctypes.string_at(0)
    time.sleep(0.3)
    return float(genes["n"])


KINDS = ["ok", "raise", "nan", "oom", "timeout", "exit", "sigkill", "segfault"]


def test_every_kind_of_failure_is_recorded_and_the_run_goes_on(tmp_path):
    space = SearchSpace.from_config({"kind": KINDS, "n": {"type": "int", "min": 0, "max": 20}})
    script = []
    for n, kind in enumerate(KINDS[1:]):
        script += [{"kind": "ok", "n": 2 * n}, {"kind": kind, "n": 2 * n + 1}]
    script.append({"kind": "ok", "n": 20})
    executor = make_executor("loky", 2, settings=WorkerSettings(log_path=str(tmp_path / "w.log")))

    def renew():
        return make_executor("loky", 2, settings=WorkerSettings(log_path=str(tmp_path / "w.log")))

    runner = Loop(
        Scripted(space, script),
        misbehave,
        executor,
        workers=2,
        policy=FailurePolicy(timeout=1.5, max_failure_share=1.0),
        renew=renew,
    )
    outcome = runner.run()
    by_kind = {r["genes"]["kind"]: r for r in outcome.records if r["genes"]["kind"] != "ok"}
    oks = [r for r in outcome.records if r["genes"]["kind"] == "ok"]
    assert len(outcome.records) == len(script)  # nothing lost, nothing twice
    assert len({r["index"] for r in outcome.records}) == len(script)
    assert all(r["status"] == "ok" for r in oks), [(r["status"], r["reason"]) for r in oks]
    assert (
        by_kind["raise"]["status"] == "failed"
        and by_kind["raise"]["reason"] == "RuntimeError: bad genome second line"
    )
    assert by_kind["nan"]["status"] == "failed" and "fitness is nan" in by_kind["nan"]["reason"]
    assert by_kind["oom"]["status"] == "failed" and "MemoryError" in by_kind["oom"]["reason"]
    assert (
        by_kind["timeout"]["status"] == "timeout"
        and "1.5 s timeout" in by_kind["timeout"]["reason"]
    )
    for kind in ("exit", "sigkill", "segfault"):
        assert by_kind[kind]["status"] == "died", by_kind[kind]
        assert by_kind[kind]["attempts"] == 2 and "\n" not in by_kind[kind]["reason"]
    assert by_kind["raise"]["attempts"] == 1  # no retry after a deterministic failure
    assert outcome.failed == 7 and outcome.best["genes"] == {"kind": "ok", "n": 20}


def always_fails(genes):
    raise ValueError("broken")


@pytest.mark.unit
def test_too_many_failures_stop_the_run_with_a_clear_reason():
    space = SearchSpace.from_config({"x": {"type": "int", "min": 0, "max": 999}})
    strategy = make_strategy("random", space, "maximize", 0, budget=500)
    from evolve.execution.inline import InlineExecutor

    outcome = Loop(strategy, always_fails, InlineExecutor(), policy=FailurePolicy(max_failure_share=0.5)).run()
    assert outcome.aborted and len(outcome.records) == 10
    assert outcome.stop_reason.startswith("stopped early: 10 of 10 evaluations failed")


def leaky(genes):
    sys.__dict__.setdefault("_evolve_test_leak", []).append(np.ones(40 * 2**17))  # 40 MB, touched
    time.sleep(0.05)
    return float(genes["x"])


def test_workers_are_recycled_by_count_and_by_memory():
    space = SearchSpace.from_config({"x": {"type": "int", "min": 0, "max": 999}})
    by_count = WorkerSettings(max_evals=3)
    outcome = Loop(
        make_strategy("random", space, "maximize", 0, budget=18),
        slow,
        make_executor("loky", 2, settings=by_count),
        workers=2,
    ).run()
    per_pid = {}
    for r in outcome.records:
        per_pid[r["pid"]] = per_pid.get(r["pid"], 0) + 1
    assert len(outcome.records) == 18 and max(per_pid.values()) <= 3 and len(per_pid) >= 6

    by_memory = WorkerSettings(max_rss_mb=400)
    outcome = Loop(
        make_strategy("random", space, "maximize", 1, budget=30),
        leaky,
        make_executor("loky", 2, settings=by_memory),
        workers=2,
    ).run()
    assert len(outcome.records) == 30 and all(r["status"] == "ok" for r in outcome.records)
    assert (
        max(r["rss_mb"] for r in outcome.records) < 400
    )  # recycled before the next leak passes it
    assert len({r["pid"] for r in outcome.records}) > 2


@pytest.mark.unit
def test_the_final_report_survives_a_worker_death(capsys):
    from concurrent.futures import Future

    from evolve.training.report import in_worker

    class TerminatedWorkerError(Exception):
        """Named like loky's: how the engine recognises a dead worker."""

    deaths = []

    class Dying:
        def __init__(self, times):
            self.times = times

        def submit(self, fn, *args):
            future = Future()
            if len(deaths) < self.times:
                deaths.append(1)
                future.set_exception(TerminatedWorkerError("a worker was killed"))
            else:
                future.set_result(fn(*args))
            return future

    def add_one(x):
        return x + 1

    assert in_worker(lambda: Dying(1), add_one, 1) == 2  # once more, on a fresh pool
    deaths.clear()
    assert in_worker(lambda: Dying(2), add_one, 1) is None  # twice: a warning, no traceback
    assert (
        "warning: add_one failed: TerminatedWorkerError: a worker was killed"
        in capsys.readouterr().err
    )


def test_a_worker_whose_parent_is_gone_before_it_starts_ends_at_once():
    import subprocess
    import sys
    import time

    code = ("import time; from evolve.execution.loky_pool import _follow_parent; "
            "_follow_parent(2 ** 22 + 7); time.sleep(20); print('orphan')")  # fmt: skip
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 1 and "orphan" not in done.stdout
    assert time.monotonic() - started < 15  # not the 20 s an orphan would live


# -- issue 20, kind 3: the worker limits hold exactly, from a worker's first evaluation --------


def per_pid(records):
    counts = {}
    for r in records:
        counts[r["pid"]] = counts.get(r["pid"], 0) + 1
    return counts


@pytest.mark.parametrize("limit", [1, 2])
def test_max_evals_per_worker_is_never_exceeded_not_even_by_one(limit):
    """The issue's example: max_evals_per_worker = 1 ran two evaluations in each worker (loky
    skips its memory check after a worker's first task)."""
    import evolve

    outcome = evolve.optimize({"x": {"type": "int", "min": 0, "max": 999}}, slow,
                              strategy="random", budget=8, workers=2, backend="loky",
                              max_evals_per_worker=limit)  # fmt: skip
    counts = per_pid(outcome.records)
    assert len(outcome.records) == 8 and all(r["status"] == "ok" for r in outcome.records)
    assert max(counts.values()) <= limit and len(counts) >= 8 // limit


def grows(genes):
    """Each call keeps 120 MB more (touched, so resident)."""
    sys.__dict__.setdefault("_evolve_test_leak", []).append(np.ones(120 * 2**17))
    return float(genes["x"])


def test_the_memory_limit_counts_a_workers_first_evaluation():
    """A worker that passes the limit after two evaluations must leave after its first: the
    first one's growth is the forecast, as every later one's is."""
    import evolve

    space = {"x": {"type": "int", "min": 0, "max": 999}}
    base = evolve.optimize(space, rss_now, strategy="random", budget=1, workers=1,
                           backend="loky", max_evals_per_worker=1).records[0]  # fmt: skip
    limit = int(base["metrics"]["fitness"]) + 200  # one evaluation fits, two do not
    outcome = evolve.optimize(space, grows, strategy="random", budget=6, workers=2,
                              backend="loky", max_worker_rss_mb=limit)  # fmt: skip
    assert all(r["status"] == "ok" for r in outcome.records)
    assert max(r["rss_mb"] for r in outcome.records) < limit
    assert max(per_pid(outcome.records).values()) == 1


def rss_now(genes):
    from evolve.execution.trial import rss_mb

    return rss_mb()


def test_a_memory_limit_no_worker_can_meet_is_refused_before_anything_runs(tmp_path):
    import evolve
    from evolve.settings.config import ConfigError

    with pytest.raises(ConfigError, match=r"max_worker_rss_mb = 20 is below what a worker holds"):
        evolve.optimize({"x": [1, 2]}, slow, workers=2, backend="loky", max_worker_rss_mb=20,
                        population=2, generations=1, out=tmp_path / "run")  # fmt: skip
    assert not (tmp_path / "run").exists()


def test_a_worker_limit_the_backend_does_not_apply_is_said_at_the_start(tmp_path):
    import evolve

    evolve.optimize({"x": [1, 2]}, lambda g: g["x"], population=2, generations=1, out=tmp_path / "run",
                    max_evals_per_worker=3)  # inline: one process, nothing to recycle  # fmt: skip
    log = (tmp_path / "run" / "run.log").read_text()
    assert "run.max_evals_per_worker = 3 applies to loky workers only" in log


@pytest.mark.unit
@pytest.mark.parametrize(
    ("limit", "evaluations", "said"),
    [
        (730, [(11, 762.2), (12, 758.1), (13, 753.2)], 1),  # the newcomer's case
        (730, [(11, 700.0), (11, 760.0), (12, 710.0)], 0),  # recycled after a few: the limit works
        (0, [(11, 5000.0)], 0),  # no limit
        (730, [], 0),
    ],
)
def test_a_memory_limit_no_fresh_worker_meets_is_said_once(limit, evaluations, said):
    """Found by a newcomer: max_worker_rss_mb = 730 above an idle worker (704 MB) but below one
    evaluation (about 760 MB) replaced the worker for every genome, without a word."""
    from evolve.engine.records import Record, Status
    from evolve.view.monitor import Monitor
    from evolve.view.progress import Console

    lines = []
    monitor = Monitor(Console(None, "maximize", quiet=True, log=lines.append), "maximize",
                      "fitness", None, rss_limit=limit)  # fmt: skip
    for index, (pid, rss) in enumerate(evaluations):
        monitor.on_record(Record(index=index, id=f"g{index}", generation=0, genes={}, seed=0,
                                 status=Status.OK, fitness=0.5, pid=pid, host="h",
                                 rss_mb=rss))  # fmt: skip
    warned = [line for line in lines if "no worker can meet" in line]
    assert len(warned) == said
    if said:
        assert "762 MB" in warned[0] and "max_worker_rss_mb = 730" in warned[0]


# -- a fitness the workers cannot receive ------------------------------------------------------


class HoldsALock:
    def __init__(self):
        self.lock = threading.Lock()

    def __call__(self, genes):
        return 1.0


def test_a_fitness_that_cannot_reach_the_workers_is_one_error(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(SessionError, match=r"cannot be sent to worker processes .*lock"):
        evolve.optimize(SPACE, HoldsALock(), workers=2, out=out)
    assert not out.exists()  # a run that fails to start leaves no run directory


def test_an_open_file_or_a_process_pool_lambda_is_found_before_the_first_genome(tmp_path):
    with open(tmp_path / "f", "w") as handle:

        def writes(genes, handle=handle):
            return 1.0

        with pytest.raises(SessionError, match="cannot be sent"):
            evolve.optimize(SPACE, writes, workers=2, backend="loky")
    with ProcessPoolExecutor(1) as pool, pytest.raises(SessionError, match="cannot be sent"):
        evolve.optimize(SPACE, lambda genes: 1.0, workers=2, executor=pool)


@pytest.mark.unit
def test_threads_take_anything():
    outcome = evolve.optimize(SPACE, HoldsALock(), workers=1, population=2, generations=1)
    assert outcome.failed == 0


# -- workers end with their parent -------------------------------------------------------------


def test_loky_workers_end_when_their_parent_is_killed(tmp_path):
    run = tmp_path / "run"
    (tmp_path / "slowfit.py").write_text(textwrap.dedent("""
        import time
        def fitness(genes):
            time.sleep(0.3)
            return float(sum(genes.values()))
    """))
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    code = (f"import evolve, slowfit; evolve.optimize({SPACE!r}, slowfit.fitness, "
            f"out={str(run)!r}, workers=2, population=40, generations=5)")  # fmt: skip
    parent = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (run / "history.jsonl").exists() and len(history(run)) >= 4:
            break
        time.sleep(0.2)
    pids = {r["pid"] for r in history(run)}
    assert len(pids) == 2 and parent.pid not in pids
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    assert not any(_alive(p) for p in pids)
    resumed = subprocess.run(
        [sys.executable, str(Path(__file__).parent.parent / "run_evolution.py"), "resume",
         str(run), "--quiet"], env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert {r["status"] for r in history(run)} == {"ok"}


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (dead, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


# -- GPU ids, read as CUDA reads them ----------------------------------------------------------


@pytest.mark.unit
def test_gpu_ids_are_relative_to_the_visible_set(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert gpus.parse("1") == ["3"]
    assert gpus.parse("0,1") == ["2", "3"]
    with pytest.raises(gpus.GpuError, match="GPU 2 is not visible: CUDA_VISIBLE_DEVICES=2,3"):
        gpus.parse("2")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert gpus.parse("1") == ["1"]


@pytest.mark.unit
def test_gpu_ids_that_nothing_shows_are_refused(monkeypatch):
    from evolve.execution.placement import place

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(gpus, "detect", lambda: [])
    with pytest.raises(gpus.GpuError, match="GPU 7 is not visible: nvidia-smi shows no GPU"):
        place("loky", 1, "", "7", 1)
    monkeypatch.setattr(gpus, "detect", lambda: ["0", "1"])
    assert place("loky", 0, "", "1", 1).slots == ("1",)
    with pytest.raises(ConfigError, match=r"run\.gpus must be auto, none, or distinct GPU ids"):
        evolve.optimize(SPACE, toy, gpus="banana")


@pytest.mark.unit
def test_auto_gpus_spread_more_workers_and_explicit_ids_stay_strict(monkeypatch):
    from evolve.execution.placement import place

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5")
    assert place("loky", 4, "", "auto", 1).slots == ("4", "4", "5", "5")
    with pytest.raises(gpus.GpuError, match="4 workers but only 2 GPU slots"):
        place("loky", 4, "", "0,1", 1)


# -- how many workers a run takes by default ------------------------------------------------


@pytest.mark.unit
@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_automatic_workers_and_threads_count_the_cores_the_process_may_use():
    """Slurm, taskset and container CPU sets restrict a process's affinity, not
    ``os.cpu_count()``: one worker per core of the machine would oversubscribe them."""
    code = (
        "import os\n"
        "os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})\n"
        "from evolve.execution.loky_pool import auto_workers\n"
        "from evolve.execution.environment import auto_threads, usable_cores\n"
        "print(usable_cores(), auto_workers(), auto_threads(1), os.cpu_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    cores, workers, threads, machine = map(int, done.stdout.split())
    assert (cores, workers, threads) == (1, 1, 1) and machine >= 1
