"""What ``inspect`` shows people: numbers rounded (full precision in --json), genes a network
does not use marked, a run that is starting or still running said to be so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import evolve
from evolve.app import config as configuration
from evolve.app.commands import human, unused_genes
from evolve.rundir.store import RunDir

ROOT = Path(__file__).resolve().parent.parent


def test_numbers_are_rounded_for_people():
    assert human("val_accuracy", 0.9826388955116272) == "0.9826"
    assert human("fit_seconds", 1.73751) == "1.7 s"
    assert human("params", 114378) == "114,378"
    assert human("val_mae", 4481.234) == "4,481.2"
    assert human("restarted", "gone") == "gone" and human("flag", True) == "True"


def test_genes_a_network_does_not_use_are_found_by_the_familys_rule():
    cfg = configuration.from_dict({"genes": {
        "layers": {"type": "int", "min": 1, "max": 3},
        "filters": {"type": "choice", "values": [16, 32], "per_layer": True},
        "residual": {"type": "flag"},
        "dropout": {"type": "float", "min": 0.0, "max": 0.5, "step": 0.1},
    }})  # fmt: skip
    space = cfg.space()
    one = {"layers": 1, "filters_1": 16, "filters_2": 32, "filters_3": 16, "residual": True,
           "dropout": 0.2}  # fmt: skip
    assert unused_genes(space, one) == ["filters_2", "filters_3", "residual"]
    two = {**one, "layers": 2}
    assert unused_genes(space, two) == ["filters_3"]


def run_cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "run_evolution.py"), *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_a_run_starting_up_or_running_is_shown_as_it_stands(tmp_path):
    starting = RunDir(tmp_path / "starting")
    starting.create()  # holds the lock; no config.toml yet (the data is being prepared)
    shown = run_cli("inspect", str(starting.path))
    assert shown.returncode == 0, shown.stderr
    assert "is a run starting up (pid" in shown.stdout and "nothing has finished yet" in shown.stdout

    out = tmp_path / "run"
    evolve.optimize({"x": {"type": "int", "min": 0, "max": 9}, "y": {"type": "flag"}},
                    lambda genes: genes["x"] / 7.3, population=4, generations=1, out=out)  # fmt: skip
    holder = RunDir(out)
    holder.lock()  # as a run in progress holds it
    try:
        shown = run_cli("inspect", str(out), "--no-summary")
        assert shown.returncode == 0 and "running now (pid" in shown.stdout
        data = json.loads(run_cli("inspect", str(out), "--json").stdout)
        assert data["running"].startswith("pid ")
    finally:
        holder.close()
    data = json.loads(run_cli("inspect", str(out), "--json").stdout)
    assert data["running"] is None
    best = data["best"]["fitness"]  # full precision in --json
    assert best == max(r["fitness"] for r in data["leaderboard"]) and len(repr(best)) > 6
