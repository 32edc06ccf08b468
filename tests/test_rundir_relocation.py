"""A run directory is relocatable (``evolve.rundir``): model paths are recorded relative to the
run and never point outside it, so a copied run resumes, inspects and exports on its own
without touching the original."""

from __future__ import annotations

import json
import shutil

import pytest

from evolve.engine.records import Record, Status
from evolve.rundir.store import RunDir
from support import cli, history


@pytest.mark.unit
def test_model_paths_are_recorded_relative_and_never_outside_the_run(tmp_path):
    run = RunDir(tmp_path / "copy")
    run.create()
    outside = tmp_path / "original" / "models" / "abc.keras"
    record = Record(index=0, id="abc", generation=0, genes={}, seed=0, status=Status.OK,
                    fitness=1.0, metrics={"model_path": str(outside)})  # fmt: skip
    assert run.model_of(record) == run.models / "abc.keras"
    inside = Record(index=1, id="def", generation=0, genes={}, seed=0, status=Status.OK,
                    fitness=1.0, metrics={"model_path": str(run.models.resolve() / "def.keras")})
    run.append(inside)
    run.close()
    assert history(run.path)[0]["metrics"]["model_path"] == "models/def.keras"


@pytest.mark.slow
def test_a_copied_run_resumes_on_its_own(root, tmp_path):
    original = tmp_path / "long"
    args = ["run", "--population", "3", "--generations", "1", "--epochs", "1", "--workers", "1",
            "--quiet", "--out", str(original)]  # fmt: skip
    assert cli(root, *args).returncode == 0
    before = sorted(p.name for p in (original / "models").iterdir())
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    more = cli(root, "resume", str(copy), "--generations", "1", "--quiet")
    assert more.returncode == 0, more.stderr[-2000:]
    assert sorted(p.name for p in (original / "models").iterdir()) == before
    shown = cli(root, "inspect", str(copy), "--json", "--no-summary")
    assert shown.returncode == 0 and json.loads(shown.stdout)["evaluations"] == 3 + 2
    assert cli(root, "export", str(copy), "--out", str(tmp_path / "m.keras")).returncode == 0
