"""A run's folder (``evolve.rundir.store``): two runs never share or destroy one, a folder of
other files is never taken over while one left by a run killed in its first second is, a run
that fails to start leaves no folder, and an export never overwrites a file."""

from __future__ import annotations

import subprocess
import sys

import pytest

import evolve
from evolve.rundir.store import RunDir
from support import SPACE, cli, one_line_exit_2, toy


def test_two_runs_never_share_or_destroy_a_folder(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from evolve.rundir.store import RunDir; import time; "
         f"r = RunDir({str(tmp_path / 'busy')!r}); r.create(); print('held', flush=True); "
         f"time.sleep(30)"], stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    try:
        before = sorted(p.name for p in (tmp_path / "busy").iterdir())
        with pytest.raises(Exception, match=r"not empty|in use"):
            evolve.optimize(SPACE, toy, out=tmp_path / "busy", population=2, generations=1)
        assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == before
    finally:
        holder.kill()
    first, second = RunDir(tmp_path / "same"), RunDir(tmp_path / "same")
    first.create(unique=True)
    second.create(unique=True)
    assert first.path.name == "same" and second.path.name == "same-2"


def test_a_folder_left_by_a_run_killed_before_its_config_is_taken_over(tmp_path):
    folder = tmp_path / "early"
    starter = subprocess.Popen(
        [sys.executable, "-c", f"from evolve.rundir.store import RunDir; import time; "
         f"r = RunDir({str(folder)!r}); r.create(); print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert starter.stdout.readline().strip() == "held"
    (folder / "tensorboard").mkdir()  # the experiment written, nothing trained
    (folder / "tensorboard" / "events.out.tfevents.1.host").write_bytes(b"")
    starter.kill()  # kill -9 in its first second: lock, models/, workers.log are left
    starter.wait()
    outcome = evolve.optimize(SPACE, toy, out=folder, population=2, generations=1)
    assert outcome.best is not None and (folder / "config.toml").exists()
    (tmp_path / "trained").mkdir()
    (tmp_path / "trained" / "models").mkdir()
    (tmp_path / "trained" / "models" / "a.keras").write_text("a model: never taken over")
    with pytest.raises(Exception, match="not empty and holds no run"):
        evolve.optimize(SPACE, toy, out=tmp_path / "trained", population=2, generations=1)


def test_a_run_cannot_start_in_a_folder_of_other_files_or_outside_results(root, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    result = cli(root, "run", "--out", str(tmp_path / "mine"), timeout=120)
    assert one_line_exit_2(result) and "not empty and holds no run" in result.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"
    result = cli(root, "run", "--name", "../../escape", timeout=120)
    assert one_line_exit_2(result) and "must be a folder name, not a path" in result.stderr


@pytest.mark.unit
def test_a_run_that_fails_to_start_leaves_no_folder_tensorboard_experiment_included(tmp_path):
    run = RunDir(tmp_path / "r")
    run.create()
    (run.path / "tensorboard").mkdir()
    (run.path / "tensorboard" / "events.out.tfevents.1.host.2").write_bytes(b"experiment")
    run.discard_if_unused()
    assert not run.path.exists()


@pytest.mark.unit
def test_export_never_overwrites(tmp_path):
    run = RunDir(tmp_path)
    run.best.mkdir()
    (run.best / "model.keras").write_text("model")
    target = tmp_path / "out.keras"
    run.export_model(target)
    from evolve.rundir.store import RunDirError

    with pytest.raises(RunDirError, match="already exists; choose another --out"):
        run.export_model(target)
