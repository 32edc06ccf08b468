"""Long runs you can trust: kill a run at many points, resume it, and get the uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from evolve.rundir.store import RunDir, RunDirError

DRIVER = Path(__file__).with_name("resume_driver.py")


def drive(mode, out, calls, segment, crash=None, **env):
    environment = {**os.environ, "CALLS": str(calls), "SEGMENT": str(segment), **env}
    environment.pop("EVOLVE_CRASH_AT", None)
    if crash:
        environment["EVOLVE_CRASH_AT"] = crash
    return subprocess.run(
        [sys.executable, str(DRIVER), mode, str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )


def history(out):
    """The journal's complete lines (a line cut short by a kill is not a record yet)."""
    lines = (out / "history.jsonl").read_text().split("\n")
    return [json.loads(line) for line in lines[:-1]]


def essence(records):
    keys = ("index", "id", "generation", "seed", "status", "fitness", "parents", "origin")
    return sorted(tuple(json.dumps(r.get(k)) for k in keys) for r in records)


def final_state(out):
    state = json.loads((out / "checkpoint.json").read_text())
    return state["strategy"]["population"], state["runner"]["next_index"]


def finished_ids(out):
    return {r["id"] for r in history(out)} if (out / "history.jsonl").exists() else set()


CRASHES = [
    "journal:3",
    "journal-partial:2",
    "checkpoint-temp:4",
    "journal:6",
    "checkpoint:5",
    "ask:4",
]


@pytest.mark.parametrize("replacement", ["generational", "oldest"])
def test_killed_and_resumed_run_equals_the_uninterrupted_run(tmp_path, replacement):
    env = {"REPLACEMENT": replacement}
    reference = tmp_path / "reference"
    assert drive("start", reference, tmp_path / "ref.calls", 0, **env).returncode == 0

    out, calls = tmp_path / "killed", tmp_path / "killed.calls"
    before = {}  # segment -> ids already in the journal when that segment started
    for segment, crash in enumerate(CRASHES):
        before[segment] = finished_ids(out)
        result = drive("start" if segment == 0 else "resume", out, calls, segment, crash, **env)
        assert result.returncode == -signal.SIGKILL, (crash, result.stderr[-2000:])
        if crash.startswith("journal-partial"):
            assert not (out / "history.jsonl").read_bytes().endswith(b"\n")
    before[len(CRASHES)] = finished_ids(out)
    last = drive("resume", out, calls, len(CRASHES), **env)
    assert last.returncode == 0, last.stderr[-3000:]

    # no finished evaluation lost or repeated; every file valid; the same end as uninterrupted
    records = history(out)
    assert len({r["index"] for r in records}) == len(records)
    assert essence(records) == essence(history(reference))
    assert final_state(out) == final_state(reference)
    for line in calls.read_text().splitlines():
        segment, genome = line.split()
        assert genome not in before[int(segment)], f"{genome} trained again in segment {segment}"


@pytest.mark.parametrize("strategy", ["gp", "smac", "tpe"])
def test_model_based_strategies_resume_after_a_kill(tmp_path, strategy):
    """Bayesian optimisation through SMAC3 (and Optuna's TPE) behind the same loop: killed
    twice, resumed, the same evaluations as an uninterrupted run, none trained twice."""
    pytest.importorskip("smac" if strategy != "tpe" else "optuna")
    env = {"STRATEGY": strategy}
    reference = tmp_path / "reference"
    assert drive("start", reference, tmp_path / "ref.calls", 0, **env).returncode == 0
    out, calls = tmp_path / "killed", tmp_path / "killed.calls"
    before = {}
    for segment, crash in enumerate(["journal:7", "ask:6"]):
        before[segment] = finished_ids(out)
        result = drive("start" if segment == 0 else "resume", out, calls, segment, crash, **env)
        assert result.returncode == -signal.SIGKILL, (crash, result.stderr[-2000:])
    before[2] = finished_ids(out)
    assert drive("resume", out, calls, 2, **env).returncode == 0
    records = history(out)
    assert len(records) == 18 and len({r["id"] for r in records}) == 18
    assert essence(records) == essence(history(reference))
    for line in calls.read_text().splitlines():
        segment, genome = line.split()
        assert genome not in before[int(segment)], f"{genome} trained again in segment {segment}"


def test_resume_from_a_stale_throttled_checkpoint(tmp_path):
    reference = tmp_path / "reference"
    drive("start", reference, tmp_path / "r.calls", 0)
    out, calls = tmp_path / "run", tmp_path / "calls"
    slow = {"CHECKPOINT_EVERY": "3600"}  # one checkpoint at the first step, then none until the end
    before = {0: set()}
    for segment, crash in enumerate(["journal:9", "journal:8"]):
        result = drive("start" if segment == 0 else "resume", out, calls, segment, crash, **slow)
        assert result.returncode == -signal.SIGKILL
        before[segment + 1] = finished_ids(out)
    assert drive("resume", out, calls, 2, **slow).returncode == 0
    assert essence(history(out)) == essence(history(reference))
    assert final_state(out) == final_state(reference)
    for line in calls.read_text().splitlines():
        segment, genome = line.split()
        assert genome not in before[int(segment)]


def test_resume_reports_a_half_written_line_and_a_damaged_checkpoint(tmp_path):
    reference = tmp_path / "reference"
    drive("start", reference, tmp_path / "r.calls", 0)
    out, calls = tmp_path / "run", tmp_path / "calls"
    assert drive("start", out, calls, 0, "journal-partial:9").returncode == -signal.SIGKILL
    (out / "checkpoint.json").write_text('{"format": 1, "strat')
    result = drive("resume", out, calls, 1)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "dropped a half-written last line of history.jsonl" in result.stderr
    assert "checkpoint.json is damaged" in result.stderr  # fell back to checkpoint.prev.json
    assert essence(history(out)) == essence(history(reference))


def test_a_run_rebuilds_from_its_journal_when_no_checkpoint_is_left(tmp_path):
    reference = tmp_path / "reference"
    drive("start", reference, tmp_path / "r.calls", 0)
    out, calls = tmp_path / "run", tmp_path / "calls"
    assert drive("start", out, calls, 0, "journal:14").returncode == -signal.SIGKILL
    done = finished_ids(out)
    for name in ("checkpoint.json", "checkpoint.prev.json"):
        (out / name).write_text("garbage")
    result = drive("resume", out, calls, 1)
    assert result.returncode == 0 and "rebuilding the run from history.jsonl" in result.stderr
    assert essence(history(out)) == essence(history(reference))
    retrained = [
        line.split()[1] for line in calls.read_text().splitlines() if line.startswith("1 ")
    ]
    assert not set(retrained) & done


def test_a_checkpoint_of_an_unknown_format_is_a_clear_error(tmp_path):
    out = tmp_path / "run"
    drive("start", out, tmp_path / "calls", 0)
    state = json.loads((out / "checkpoint.json").read_text())
    (out / "checkpoint.json").write_text(json.dumps({**state, "format": 99}))
    result = drive("resume", out, tmp_path / "calls", 1)
    assert result.returncode != 0 and "checkpoint.json has format 99" in result.stderr


def test_resume_extends_a_finished_run(tmp_path):
    out, calls = tmp_path / "run", tmp_path / "calls"
    drive("start", out, calls, 0)
    assert len(history(out)) == 6 + 4 * 5
    result = drive("resume", out, calls, 1, MORE="2")
    assert result.returncode == 0, result.stderr[-2000:]
    records = history(out)
    assert len(records) == 6 + 6 * 5 and {r["generation"] for r in records} == set(range(7))
    # config.toml describes the run as it now is (a new user's attack found it still said 5)
    assert tomllib.loads((out / "config.toml").read_text())["search"]["generations"] == 7


def test_one_process_per_run_and_a_dead_holder_lock_is_taken_over(tmp_path):
    run = RunDir(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from evolve.rundir.store import RunDir; import time; RunDir({str(tmp_path)!r}).lock(); print('locked', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(RunDirError, match=f"in use by pid {holder.pid}"):
        run.lock()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    run.lock()  # the kernel released the dead holder's lock
    run.close()


@pytest.mark.unit
def test_a_full_disk_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    run = RunDir(tmp_path)
    run.write_checkpoint({"strategy": {}, "runner": {"n": 1}})
    good = (tmp_path / "checkpoint.json").read_text()

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        run.write_checkpoint({"strategy": {}, "runner": {"n": 2}})
    assert (tmp_path / "checkpoint.json").read_text() == good
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    time.sleep(0)


def test_a_multi_fidelity_run_resumes_from_its_rungs_after_kills(tmp_path):
    """Killed while genomes wait for promotion, continue to a higher rung, or are re-evaluated
    for the final pick: resumed, it ends as the uninterrupted run, and no genome is trained
    again to a fidelity it had reached before the kill."""
    env = {"FIDELITY": "1"}
    reference = tmp_path / "reference"
    uninterrupted = drive("start", reference, tmp_path / "ref.calls", 0, **env)
    assert uninterrupted.returncode == 0
    expected = history(reference)
    assert len(expected) == 57
    assert {r.get("rung", 0) for r in expected} == {0, 1, 2}  # 1, 3 and 9 epochs
    assert any(r.get("repeat") for r in expected)  # the final pick re-evaluated
    out, calls = tmp_path / "killed", tmp_path / "killed.calls"
    before = {}
    # killed at 5, 24, 35, 43, 46 and 55 of 57 records: the last two during the final pick
    crashes = ["journal:5", "ask:20", "checkpoint:12", "journal:8", "journal:3", "journal:9"]
    for segment, crash in enumerate(crashes):
        before[segment] = keys(out)
        result = drive("start" if segment == 0 else "resume", out, calls, segment, crash, **env)
        assert result.returncode == -signal.SIGKILL, (crash, result.stderr[-2000:])
    before[len(crashes)] = keys(out)
    last = drive("resume", out, calls, len(crashes), **env)
    assert last.returncode == 0, last.stderr[-3000:]
    records = history(out)
    fields = ("rung", "fidelity", "initial_epoch", "repeat")
    assert essence(records) == essence(expected)
    assert sorted(tuple(r.get(k, 0) for k in ("index", *fields)) for r in records) == sorted(
        tuple(r.get(k, 0) for k in ("index", *fields)) for r in expected
    )
    for line in calls.read_text().splitlines():
        segment, key, _ = line.split()
        assert key not in before[int(segment)], f"{key} trained again in segment {segment}"
    assert last.stdout.split()[0] == uninterrupted.stdout.split()[0]  # the same best


def keys(out):
    """``id@epochs#repeat`` of every training in the journal (cache answers left out)."""
    if not (out / "history.jsonl").exists():
        return set()
    return {
        f"{r['id']}@{r.get('fidelity', 0)}#{r.get('repeat', 0)}"
        for r in history(out) if r["status"] != "cached"
    }
