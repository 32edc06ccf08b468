"""Whose fault a failure is (``evolve.engine.failures``): a full or read-only disk is the
environment's and stops the run, the genome running again on resume; an ordinary error or a
``sys.exit`` in the fitness fails that genome only; genomes whose worker died train again on
``resume(retry_failed=True)``."""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import pytest

import evolve
from evolve.engine.failures import EnvironmentFault
from evolve.engine.records import Status
from support import SPACE, history, toy


def flaky_disk(genes):
    if genes["x0"] == 3 and os.environ.get("DISK_FULL"):
        raise OSError(errno.ENOSPC, "No space left on device")
    return toy(genes)


def test_a_full_disk_stops_the_run_and_the_genome_runs_again(tmp_path, monkeypatch):
    reference = evolve.optimize(SPACE, flaky_disk, population=6, generations=3, seed=5)
    assert any(r.genes["x0"] == 3 for r in reference.records)
    out = tmp_path / "run"
    monkeypatch.setenv("DISK_FULL", "1")
    with pytest.raises(EnvironmentFault, match=r"No space left on device.*not its fault"):
        evolve.optimize(SPACE, flaky_disk, out=out, population=6, generations=3, seed=5)
    assert all(r["genes"]["x0"] != 3 for r in history(out))  # not blamed on the genome
    monkeypatch.delenv("DISK_FULL")
    resumed = evolve.resume(out, flaky_disk)
    assert resumed.best.id == reference.best.id
    assert sorted(r.id for r in resumed.records) == sorted(r.id for r in reference.records)


@pytest.mark.unit
def test_a_read_only_disk_is_the_environment_and_a_user_oserror_is_the_genome():
    def read_only(genes):
        raise OSError(errno.EROFS, "Read-only file system")

    with pytest.raises(EnvironmentFault):
        evolve.optimize(SPACE, read_only, strategy="random", budget=1)

    def missing(genes):
        raise FileNotFoundError(errno.ENOENT, "no such input", "data.csv")

    outcome = evolve.optimize(SPACE, missing, strategy="random", budget=2)
    assert [r.status for r in outcome.records] == [Status.FAILED, Status.FAILED]


def test_a_fitness_that_calls_sys_exit_fails_its_genome_only(tmp_path):
    def exits(genes):
        if genes["x0"] < 4:
            sys.exit(1)
        return toy(genes)

    outcome = evolve.optimize(SPACE, exits, out=tmp_path / "run", population=6, generations=2)
    failed = [r for r in outcome.records if r.status == Status.FAILED]
    assert failed and all(r.reason == "SystemExit: 1" for r in failed)
    assert len(history(tmp_path / "run")) == len(outcome.records)


def die_once(genes, marker):
    """Kills its worker the first time it meets x0 == 3 (as a lost GPU or the OOM killer
    would), and trains normally after that."""
    if genes["x0"] == 3 and not os.path.exists(marker):
        Path(marker).write_text("died")
        os._exit(1)
    return toy(genes)


def test_resume_retry_failed_trains_the_deaths_again(tmp_path):
    import functools

    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    fitness = functools.partial(die_once, marker=str(tmp_path / "marker"))
    out = tmp_path / "run"
    first = evolve.optimize(SPACE, fitness, out=out, workers=2, population=6, generations=2,
                            seed=5, retries_on_death=0)  # fmt: skip
    died = [r for r in first.records if r.status == Status.DIED]  # x0 == 3 and its bystander
    assert any(r.genes["x0"] == 3 for r in died)
    plain = evolve.resume(out, fitness)  # a plain resume keeps the deaths as they are
    assert sum(r.status == Status.DIED for r in plain.records) == len(died)
    again = evolve.resume(out, fitness, retry_failed=True)
    assert {r.status for r in again.records} <= {Status.OK, Status.CACHED}
    assert {r.id for r in died} <= {r.id for r in again.records if r.status == Status.OK}
    superseded = (out / "history.superseded.jsonl").read_text().splitlines()
    assert {r.id for r in died} <= {json.loads(line)["id"] for line in superseded}
    assert all(r["status"] != "died" for r in history(out))
    lines = history(out)  # one line per evaluation: the records the rebuilt run did not ask for
    assert len({r["index"] for r in lines}) == len(lines) == len(again.records)  # are set aside
