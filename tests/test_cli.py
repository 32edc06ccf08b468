"""The command line, as a user runs it: real subprocesses, real training on digits."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import numpy as np
import pytest


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
