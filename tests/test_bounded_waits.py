"""Every wait of the parent has a bound (issue 20, kind 4): a worker that stops answering
(SIGSTOP, a build that hangs, a test evaluation that never returns) costs at most its bound,
named in one line, and the command always exits. Real loky workers, cheap fitness functions."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent


def script(tmp_path: Path, body: str, timeout: float = 240) -> subprocess.CompletedProcess:
    path = tmp_path / "main.py"
    path.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip


def children_of(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_a_stopped_worker_is_given_up_at_its_timeout_and_the_command_exits(tmp_path):
    """The issue's example: a worker stopped with SIGSTOP under a timeout; the summary printed,
    then the command never exited (the pool's shutdown waited for the stopped worker)."""
    started = time.monotonic()
    done = script(tmp_path, """
        import os, signal, time
        import evolve

        def fitness(genes):
            if genes["x"] == 3:
                os.kill(os.getpid(), signal.SIGSTOP)  # frozen: its own watchdog cannot run
            time.sleep(0.2)
            return float(genes["x"])

        if __name__ == "__main__":
            space = {"x": {"type": "int", "min": 0, "max": 5}}
            outcome = evolve.optimize(space, fitness, strategy="grid", workers=2,
                                      backend="loky", timeout=2, out="run")
            print({r.genes["x"]: r.status.value for r in outcome.records})
    """)
    assert done.returncode == 0, done.stderr[-3000:]
    statuses = eval(done.stdout.strip().splitlines()[-1])
    assert statuses[3] == "timeout" and sum(s == "ok" for s in statuses.values()) == 5
    assert time.monotonic() - started < 120
    left = [p for p in psutil.process_iter(["status", "cwd"])
            if p.info["cwd"] == str(tmp_path) and p.info["status"] == psutil.STATUS_STOPPED]
    assert not left  # the frozen worker was killed, not left behind


def test_a_build_function_that_hangs_is_one_line_after_the_start_up_bound(tmp_path):
    (tmp_path / "hangs.py").write_text(textwrap.dedent("""
        import time
        def build(genes, input_shape, num_outputs):
            time.sleep(3600)
    """))
    (tmp_path / "c.toml").write_text(textwrap.dedent("""
        [run]
        startup_timeout = 15
        [model]
        family = "hangs:build"
        [genes]
        units = [1, 2]
    """))
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "run_evolution.py"), "run", "--config",
                           "c.toml", "--out", "run", "--workers", "1"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=240)  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr[-3000:]
    assert "trying the build function hangs:build on 5 genomes gave no answer within 15 s" in lines[0]
    assert "run.startup_timeout" in lines[0]
    assert not (tmp_path / "run").exists()
    assert time.monotonic() - started < 120


def sleeps(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_the_final_report_waits_a_bounded_time_and_says_what_overran(capsys):
    from evolve.execution import make_executor, stop
    from evolve.training.report import in_worker

    renew = lambda: make_executor("loky", 1)  # noqa: E731
    assert in_worker(renew, sleeps, 0.1, what="the final test evaluation", within=30) == 0.1
    started = time.monotonic()
    result = in_worker(renew, sleeps, 600, what="the final test evaluation", within=2,
                       stop=lambda executor: stop("loky", executor))  # fmt: skip
    assert result is None and time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert "warning: the final test evaluation gave no answer within 2 s" in err
    assert in_worker(renew, sleeps, 0.1, within=30) == 0.1  # a fresh pool works


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_a_run_stopped_while_workers_train_ends_at_once_and_leaves_no_worker(tmp_path, signal_name):
    import signal

    body = """
        import time
        import evolve

        def fitness(genes):
            time.sleep(600)  # a long training
            return 1.0

        if __name__ == "__main__":
            from evolve.app.cli import _interrupt
            import signal
            # the command line's handlers, for both: a process started in the background by a
            # shell without job control inherits SIGINT ignored (so did this test, under CI)
            signal.signal(signal.SIGTERM, _interrupt)
            signal.signal(signal.SIGINT, _interrupt)
            evolve.optimize({"x": [1, 2, 3]}, fitness, strategy="grid", workers=2,
                            backend="loky", out="run")
    """
    path = tmp_path / "main.py"
    path.write_text(textwrap.dedent(body))
    proc = subprocess.Popen([sys.executable, str(path)], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT),
                                 "PYTHONFAULTHANDLER": "1"})  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(children_of(proc.pid)) < 2:
            time.sleep(0.2)
        time.sleep(2)  # the workers are in their genomes
        workers = children_of(proc.pid)
        assert workers, "no worker started"
        stopped = time.monotonic()
        proc.send_signal(getattr(signal, signal_name))
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:  # where it hangs: faulthandler prints every thread
            proc.send_signal(signal.SIGABRT)
            pytest.fail(f"still running 60 s after {signal_name}:\n{proc.communicate()[1][-6000:]}")
        assert time.monotonic() - stopped < 30  # not the 600 s a genome trains
        gone = psutil.wait_procs(workers, timeout=10)[1]
        assert not gone, "workers were left running"
    finally:
        if proc.poll() is None:
            proc.kill()
