"""The command line, as a user runs it: real subprocesses, real training on digits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

import evolve
from support import SPACE, history, one_line_exit_2, toy


def cli(root, *args, timeout=600):
    return subprocess.run(
        [sys.executable, str(root / "run_evolution.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=root,
    )


def write(path, text):
    path.write_text(text)
    return str(path)


GENES = "[genes]\nlayers = [1, 2]\n"


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"config": "[search\n"}, ["--config", "{config}"], "is not valid TOML"),
        ({"config": "[genes]\ndepth = [1, 2]"}, ["--config", "{config}"], "unknown gene 'depth'"),
        (
            {"config": "[genes]\nlayers = {type='gauss'}"},
            ["--config", "{config}"],
            "unknown gene type 'gauss'",
        ),
        (
            {"config": "[genes]\nfilters = {type='choice', values=[]}"},
            ["--config", "{config}"],
            "non-empty list",
        ),
        (
            {"config": "[genes]\nlayers = {type='int', min=3, max=1}"},
            ["--config", "{config}"],
            "greater than max",
        ),
        (
            {"config": GENES},
            ["--config", "{config}", "--population", "1"],
            "population must be at least 2",
        ),
        ({}, ["--config", "{tmp}/missing.toml"], "config file not found"),
        (
            {"config": GENES},
            ["--config", "{config}", "--dataset", "{tmp}/none.npz"],
            "dataset file not found",
        ),
        (
            {"config": GENES, "data": "x"},
            ["--config", "{config}", "--dataset", "{data}"],
            "has no 'x_train' array",
        ),
        (
            {"config": GENES, "data": "mismatch"},
            ["--config", "{config}", "--dataset", "{data}"],
            "labels but there are",
        ),
        (
            {"config": GENES},
            ["--config", "{config}", "--strategy", "hill"],
            "search.strategy = 'hill' is not one of",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(root, tmp_path, files, args, message):
    paths = {"tmp": str(tmp_path)}
    for name, text in files.items():
        if name == "data":
            x = np.zeros((10, 4, 4))
            arrays = {"x": x} if text == "x" else {"x_train": x, "y_train": np.zeros(9)}
            np.savez(tmp_path / "data.npz", **arrays)
            paths[name] = str(tmp_path / "data.npz")
        else:
            paths[name] = write(tmp_path / "config.toml", text)
    args = [a.format(**paths) for a in args]
    # inline: one process, one Keras import (the loky path: tests/test_startup_checks.py)
    inline = ["--workers", "1", "--backend", "inline"]
    out = cli(root, "run", *args, *inline, "--out", str(tmp_path / "run"), timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "run").exists()  # no half-made run left behind


def test_help_documents_every_option(root):
    out = cli(root, "run", "--help", timeout=60)
    assert out.returncode == 0
    for flag in (
        "--config",
        "--out",
        "--generations",
        "--population",
        "--seed",
        "--dataset",
        "--epochs",
        "--strategy",
        "--workers",
        "--budget",
    ):
        assert flag in out.stdout


def test_an_existing_run_directory_is_never_overwritten(root, tmp_path):
    (tmp_path / "history.jsonl").write_text('{"index": 0}\n')
    out = cli(root, "run", "--out", str(tmp_path), timeout=60)
    assert out.returncode == 2 and "already holds a run" in out.stderr
    assert (tmp_path / "history.jsonl").read_text() == '{"index": 0}\n'


def test_end_to_end_run_on_digits(root, tmp_path):
    run = tmp_path / "run"
    args = ["run", "--population", "4", "--generations", "2", "--epochs", "4", "--workers", "2",
            "--seed", "3", "--final-epochs", "3", "--out", str(run)]  # fmt: skip
    wrapper = (  # the CLI's main, then a look at what the parent process imported
        "import sys; from evolve.app.cli import main; rc = main(sys.argv[1:]);"
        "print('frameworks in parent:', sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'}));"
        "sys.exit(rc)"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=root,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "frameworks in parent: []" in out.stdout
    assert "best genome" in out.stdout and "test accuracy" in out.stdout
    assert (
        "cuda" not in out.stderr.lower() and "absl" not in out.stderr
    )  # TF's lines stay in workers.log

    cfg = tomllib.loads((run / "config.toml").read_text())
    assert (
        cfg["run"]["seed"] == 3
        and cfg["run"]["workers"] == 2
        and cfg["genes"]["layers"]["max"] == 3
    )

    records = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert len(records) == 4 + 3  # the elite is carried into generation 1, not retrained
    for r in records:
        assert {"id", "genes", "fitness", "metrics", "generation", "status", "seed"} <= r.keys()
        assert r["status"] == "ok" and r["metrics"]["epochs"] <= 4
    assert {r["generation"] for r in records} == {0, 1}
    assert len({r["pid"] for r in records}) == 2

    best = json.loads((run / "best" / "genome.json").read_text())
    assert best["fitness"] == max(r["fitness"] for r in records)
    assert best["fitness"] > 0.5  # chance is 0.1
    assert 0.5 < best["test_accuracy"] <= 1.0
    assert best["final"]["epochs"] == 3 and 0.5 < best["final"]["test_accuracy"] <= 1.0
    assert (
        run / "best" / "model.final.keras"
    ).exists() and "retrained on train + validation" in out.stdout
    assert best["lineage"][0]["id"] == best["id"]

    kept = sorted(p.stem for p in (run / "models").glob("*.keras"))
    top3 = sorted(r["id"] for r in sorted(records, key=lambda r: -r["fitness"])[:3])
    assert kept == top3

    check = (
        "import json, keras;"
        "from evolve.training.report import test_metrics; from evolve.data import DataSpec;"
        f"keras.saving.load_model('{run}/best/model.keras', safe_mode=True);"
        f"print(json.dumps(test_metrics(DataSpec('digits'), '{run}/best/model.keras')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, cwd=root, timeout=300
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert json.loads(loaded.stdout.splitlines()[-1])["test_accuracy"] == pytest.approx(
        best["test_accuracy"]
    )

    # plots, the run log, inspect and export on the finished run
    for name in ("fitness.png", "diversity.png", "lineage.png"):
        assert (run / "plots" / name).read_bytes()[:4] == b"\x89PNG"
    log = (run / "run.log").read_text()
    assert "generation 0: best" in log and "generation 1: best" in log and "stopped:" in log
    shown = cli(root, "inspect", str(run), "--json", timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    report = json.loads(shown.stdout)
    assert (
        report["best"]["id"] == best["id"]
        and report["exported"]["test_accuracy"] == best["test_accuracy"]
    )
    assert [g["generation"] for g in report["generations"]] == [0, 1]
    assert report["lineage"][0]["id"] == best["id"] and report["failures"] == []
    model = report["model"]  # the layers as data, not a drawn table
    assert "model_summary" not in report and model["params"] == best["metrics"]["params"]
    assert sum(layer["params"] for layer in model["layers"]) == model["params"]
    assert model["layers"][-1]["output_shape"] == [None, 10]
    assert len(report["leaderboard"]) == len(records)
    text = cli(root, "inspect", str(run), "--no-summary", timeout=120)
    assert "lineage of the best genome" in text.stdout and "Traceback" not in text.stderr
    assert text.stderr == ""
    whole = cli(root, "inspect", str(run), timeout=300).stdout  # piped: no terminal width
    table = whole[whole.index('model "'):whole.index("total params")]
    for layer in model["layers"]:  # every layer whole, no clipped column
        assert f"{layer['name']} ({layer['class']})" in table and "…" not in table
    assert f"total params {model['params']:,}" in whole
    assert "val_accuracy=0." in whole and len(whole.split("val_accuracy=")[1].split(",")[0]) == 6
    exported = cli(root, "export", str(run), "--format", "savedmodel", timeout=300)
    assert exported.returncode == 0 and (run / "export" / "savedmodel" / "saved_model.pb").exists()
    assert cli(root, "export", str(run), timeout=120).returncode == 0
    assert (run / "export" / "model.keras").stat().st_size == (
        run / "best" / "model.keras"
    ).stat().st_size


def test_resume_extends_a_digits_run_without_training_anything_twice(root, tmp_path):
    run = tmp_path / "run"
    common = ["--epochs", "2", "--workers", "2", "--quiet"]
    assert (
        cli(
            root, "run", "--population", "3", "--generations", "1", *common, "--out", str(run)
        ).returncode
        == 0
    )
    first = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    more = cli(root, "resume", str(run), "--generations", "1", "--quiet")
    assert more.returncode == 0, more.stderr[-2000:]
    records = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert records[:3] == first and len(records) == 3 + 2
    assert len({r["id"] for r in records}) == 5 and {r["generation"] for r in records} == {0, 1}
    log = (run / "run.log").read_text()
    assert "resume: 3 finished evaluations kept, 0 in flight" in log
    missing = cli(root, "resume", str(tmp_path / "nothing"), timeout=60)
    assert missing.returncode == 2 and "nothing does not exist" in missing.stderr
    state = json.loads((run / "checkpoint.json").read_text())
    (run / "checkpoint.json").write_text(json.dumps({**state, "format": 7}))
    future = cli(root, "resume", str(run), timeout=300)
    assert future.returncode == 2 and future.stderr.strip().splitlines()[-1].startswith(
        "error: checkpoint.json has format 7"
    )


# -- one-line mistakes -------------------------------------------------------------------------


def test_inspect_and_export_of_a_folder_that_is_no_run(root, tmp_path):
    for command in ("inspect", "export", "resume"):
        result = cli(root, command, str(tmp_path), timeout=120)
        assert one_line_exit_2(result), (command, result.stderr)


def test_command_line_mistakes_are_one_line(root):
    for args in (["run", "--population", "abc"], ["run", "--populaton", "3"],
                 ["export", "x", "--format", "onnx"], ["inspect", "x", "--top", "0"],
                 ["frobnicate"]):  # fmt: skip
        result = cli(root, *args, timeout=60)
        assert one_line_exit_2(result), (args, result.stderr)


# -- interrupts, pipes and stops ---------------------------------------------------------------


def test_an_interrupted_run_names_its_directory_and_logs_it(root, tmp_path, monkeypatch, capsys):
    from evolve.app import cli as command
    from evolve.engine.loop import Loop

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(Loop, "run", interrupted)
    out = tmp_path / "run"
    code = command.main(["run", "--out", str(out), "--quiet", "--population", "2",
                         "--generations", "1", "--workers", "1"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 130 and f"resume {out}" in err and "RUN_DIR" not in err
    assert "interrupted" in (out / "run.log").read_text()


def test_inspect_into_a_closed_pipe_is_quiet(root, tmp_path):
    run = tmp_path / "big"  # a leaderboard far larger than a pipe's buffer
    evolve.optimize(SPACE, toy, out=run, population=100, generations=12, seed=1)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    shell = f"{sys.executable} {root / 'run_evolution.py'} inspect {run} --top 5000 | head -1"
    result = subprocess.run(shell, shell=True, capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip() and "Broken pipe" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "signals", [[signal.SIGTERM], [signal.SIGTERM, signal.SIGTERM], [signal.SIGINT, signal.SIGINT]]
)
def test_sigterm_ends_a_run_like_ctrl_c(tmp_path, signals):
    (tmp_path / "slowfit.py").write_text("import time\ndef fitness(genes):\n"
                                         "    time.sleep(1.0)\n    return 1.0\n")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    run = tmp_path / "run"
    code = (f"import evolve, slowfit; evolve.optimize({SPACE!r}, slowfit.fitness, "
            f"out={str(run)!r}, population=50, generations=5, workers=2)")  # fmt: skip
    evolve_run = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        (run / "history.jsonl").exists() and history(run)
    ):
        time.sleep(0.1)
    evolve_run.kill()
    evolve_run.wait()
    resumed = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent.parent / "run_evolution.py"), "resume",
         str(run), "--quiet"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    before = len(history(run))
    while time.monotonic() < deadline and len(history(run)) < before + 2:
        time.sleep(0.1)
    for sent in signals:  # a second one while it shuts down: impatience, or `timeout`
        resumed.send_signal(sent)
        time.sleep(0.3)
    try:
        _, err = resumed.communicate(timeout=60)
    finally:
        if resumed.poll() is None:  # a hang fails the test, and leaves no process behind
            resumed.kill()
            resumed.wait()
    assert resumed.returncode == 130 and f"resume {run}" in err
    assert "Traceback" not in err and err.count("interrupted") == 1, err
    assert "interrupted" in (run / "run.log").read_text()


@pytest.mark.unit
def test_a_full_disk_names_the_file_and_a_run_that_never_began_says_run_again(
    tmp_path, monkeypatch
):
    import errno as errnos

    from evolve.app.cli import _machine_fault
    from evolve.rundir import atomic

    def full(fd):
        raise OSError(errnos.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OSError) as info:
        atomic.write_atomic(tmp_path / "labels.json", "{}")
    assert info.value.filename == str(tmp_path / "labels.json")
    assert list(tmp_path.iterdir()) == []  # no temporary file left
    line = _machine_fault(info.value, "run", begun=False)
    assert line.startswith(f"No space left on device ({tmp_path / 'labels.json'})")
    assert line.endswith("then run again: nothing had started")
    assert "then resume" in _machine_fault(info.value, "run", begun=True)


@pytest.mark.unit
def test_a_stop_before_the_run_began_says_run_again_and_a_disk_stop_is_in_run_log(
    tmp_path, monkeypatch, capsys
):
    import errno as errnos

    from evolve import session as sessions
    from evolve.app import cli

    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)  # keep pytest's handlers

    def interrupted_at_start(cfg, out, launch, unique=False):
        launch.run_dir = out  # created, and discarded again: no config yet
        raise KeyboardInterrupt

    monkeypatch.setattr(sessions, "start", interrupted_at_start)
    assert cli.main(["run", "--out", str(tmp_path / "early"), "--quiet"]) == 130
    assert "interrupted before the run began: nothing to resume" in capsys.readouterr().err

    def full_disk(cfg, out, launch, unique=False):
        out.mkdir()
        (out / "config.toml").write_text("")
        (out / "run.log").write_text("2026-01-01 00:00:00 run started\n")
        launch.run_dir = out
        raise OSError(errnos.ENOSPC, "No space left on device", str(out / "models" / "a.keras"))

    monkeypatch.setattr(sessions, "start", full_disk)
    assert cli.main(["run", "--out", str(tmp_path / "full"), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: No space left on device") and "then resume" in err
    assert (tmp_path / "full" / "run.log").read_text().splitlines()[-1].endswith(err)
