"""A run records what it trained on, and refuses to resume on data that changed since
(issue 20, kind 2): a CSV edited, an image added to or removed from a folder, the arrays of
``search_keras`` replaced; each is one line naming what changed, and the run stays untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from evolve.data.fingerprint import changes, fingerprint

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.unit
def test_a_file_is_known_by_its_contents(tmp_path):
    table = tmp_path / "wine.csv"
    table.write_text("a,b\n1,2\n")
    first = fingerprint(str(table))
    assert first is not None and first["kind"] == "file" and first["bytes"] == 8
    assert changes(first, fingerprint(str(table))) == ""
    table.write_text("a,b\n1,3\n")  # same size, other bytes
    assert "same size, other bytes" in changes(first, fingerprint(str(table)))
    table.write_text("a,b\n")
    assert "(8 bytes then, 4 now)" in changes(first, fingerprint(str(table)))
    table.unlink()
    assert changes(first, fingerprint(str(table))) == f"{table} is gone"


def image_folder(root: Path, per_class: int = 3) -> Path:
    from PIL import Image

    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.full((4, 4), 40 * i + (label == "dog"), dtype=np.uint8)
            Image.fromarray(pixels, mode="L").save(root / label / f"{i}.png")
    return root


@pytest.mark.unit
def test_a_folder_is_known_image_by_image_and_its_changes_are_named(tmp_path):
    root = image_folder(tmp_path / "pets")
    first = fingerprint(str(root))
    assert first is not None and first["kind"] == "folder" and len(first["files"]) == 6
    (root / "notes.txt").write_text("not an image: not read by the run")
    assert changes(first, fingerprint(str(root))) == ""
    (root / "cat" / "0.png").unlink()
    (root / "dog" / "9.png").write_bytes((root / "dog" / "1.png").read_bytes())
    with (root / "dog" / "2.png").open("ab") as handle:
        handle.write(b"\0")
    said = changes(first, fingerprint(str(root)))
    assert "1 added (dog/9.png)" in said and "1 removed (cat/0.png)" in said
    assert "1 changed (dog/2.png)" in said


@pytest.mark.unit
def test_unchanged_files_are_not_read_again(tmp_path, monkeypatch):
    root = image_folder(tmp_path / "pets")
    first = fingerprint(str(root))
    read = []
    monkeypatch.setattr("evolve.data.fingerprint._digest", lambda path: read.append(path) or "x")
    again = fingerprint(str(root), first)
    assert read == [] and again == first  # size and modification time unchanged
    later = time.time_ns() + 10**9
    os.utime(root / "cat" / "1.png", ns=(later, later))
    fingerprint(str(root), first)
    assert read == [root / "cat" / "1.png"]


@pytest.mark.unit
def test_named_datasets_and_missing_paths_have_no_fingerprint(tmp_path):
    assert fingerprint("digits") is None and fingerprint("breast_cancer") is None
    assert fingerprint(str(tmp_path / "missing.csv")) is None


def cli(*args, cwd, timeout=600):
    return subprocess.run([sys.executable, str(ROOT / "run_evolution.py"), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)  # fmt: skip


CONFIG = """
[data]
dataset = "{dataset}"
[model]
family = "mlp"
[training]
epochs = 1
[search]
population = 2
generations = 1
[genes]
units = {{ type = "choice", values = [8, 16] }}
"""


@pytest.mark.slow
def test_resuming_on_an_edited_csv_is_refused_naming_the_change(tmp_path):
    """The issue's example: the CSV cut from 178 rows to 60 between a run and its resume."""
    from sklearn.datasets import load_wine

    table = tmp_path / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(table, index=False)
    (tmp_path / "c.toml").write_text(CONFIG.format(dataset=table))
    run = tmp_path / "run"
    done = cli("run", "--config", "c.toml", "--out", str(run), "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    recorded = json.loads((run / "data.fingerprint.json").read_text())
    assert recorded["kind"] == "file" and recorded["dataset"] == str(table)
    labels = (run / "best" / "labels.json").read_bytes()
    journal = (run / "history.jsonl").read_bytes()
    lines = table.read_text().splitlines()
    table.write_text("\n".join(lines[:61]) + "\n")
    done = cli("resume", str(run), "--generations", "1", "--quiet", cwd=tmp_path)
    err = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(err) == 1, done.stderr
    assert f"the contents of {table} changed" in err[0] and "bytes then" in err[0]
    assert (run / "best" / "labels.json").read_bytes() == labels  # nothing rewritten
    assert (run / "history.jsonl").read_bytes() == journal
    table.write_text("\n".join(lines) + "\n")  # put back as it was: the resume goes on
    done = cli("resume", str(run), "--generations", "1", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]


def build(genes, input_shape, num_outputs):
    import keras

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Dense(genes["units"], activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_outputs, activation="softmax")(x))


@pytest.mark.slow
def test_search_keras_arrays_replaced_under_a_run_are_refused(tmp_path):
    import evolve
    from evolve.data import DatasetError

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(80, 5)).astype("float32"), rng.integers(0, 2, 80)
    out = tmp_path / "run"
    evolve.search_keras(build, {"units": [4, 8]}, x, y, epochs=1, population=2,
                        generations=1, out=out, final_reevaluations=0)  # fmt: skip
    assert json.loads((out / "data.fingerprint.json").read_text())["files"].keys() == {"data.npz"}
    np.savez(out / "data.npz", x_train=x[:40], y_train=y[:40])  # other arrays
    with pytest.raises(DatasetError, match=r"data\.npz changed"):
        evolve.resume(out, build=build, generations=1)


@pytest.mark.unit
def test_a_worker_refuses_data_that_changed_since_the_run_recorded_it(tmp_path):
    from evolve.data import DataSpec
    from evolve.data.fingerprint import DataChanged, verify
    from evolve.execution.trial import environment_fault

    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n3,4\n")
    recorded = tmp_path / "data.fingerprint.json"
    recorded.write_text(json.dumps(fingerprint(str(table))))
    spec = DataSpec(str(table), fingerprint=str(recorded))
    verify(spec)  # unchanged: nothing to say
    table.write_text("a,b\n1,2\n")
    with pytest.raises(DataChanged, match=r"the contents of .*t\.csv changed .* since the run started") as info:
        verify(spec)
    assert environment_fault(info.value)  # the run stops; no genome is blamed
    verify(DataSpec(str(table)))  # a spec without a recorded fingerprint: nothing to check


@pytest.mark.slow
def test_data_edited_while_a_run_goes_stops_it_before_a_new_worker_trains_on_it(tmp_path):
    """Another case of the kind: a worker started mid-run (here every evaluation gets a fresh
    one) would load the edited file and mix two datasets in one history."""
    from sklearn.datasets import load_wine

    table = tmp_path / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(table, index=False)
    original = table.read_text()
    (tmp_path / "c.toml").write_text(CONFIG.format(dataset=table).replace(
        "[search]", "[run]\nmax_evals_per_worker = 1\nworkers = 1\n[search]"
    ).replace("generations = 1", "generations = 6"))  # fmt: skip
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_evolution.py"), "run", "--config",
                             "c.toml", "--out", str(run), "--quiet"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not (
            (run / "history.jsonl").exists() and (run / "history.jsonl").read_text().strip()
        ):
            time.sleep(0.2)
        table.write_text("\n".join(original.splitlines()[:80]) + "\n")
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 1, err[-3000:]
    assert "the run stopped: the contents of" in err and "since the run started" in err
    assert "put the data back" in err
    table.write_text(original)
    done = cli("resume", str(run), "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
