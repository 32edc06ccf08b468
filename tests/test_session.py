"""One run directory format for both faces: runs started in Python are inspected and resumed
from the command line, command-line runs are resumed from Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor

import pytest

import evolve
from evolve.engine.failures import FailurePolicy
from evolve.engine.loop import Loop
from evolve.rundir.store import RunDir, RunDirError
from evolve.search import make_strategy
from evolve.settings.config import ConfigError
from genomes import SearchSpace
from support import toy

SPACE = {f"x{i}": {"type": "int", "min": 0, "max": 7} for i in range(4)}

FITNESS_MODULE = '''
import os

def fitness(genes):
    calls = os.environ.get("CALLS")
    if calls:
        with open(calls, "a") as log:
            log.write(repr(sorted(genes.items())) + "\\n")
    target = (7, 2, 5, 1)
    return -float(sum((v - t) ** 2 for v, t in zip(genes.values(), target)))
'''


def python(code, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=300, env=env, cwd=cwd,
    )  # fmt: skip


def cli(root, *args, env=None):
    return subprocess.run(
        [sys.executable, str(root / "run_evolution.py"), *args],
        capture_output=True, text=True, timeout=600, cwd=root, env=env,
    )  # fmt: skip


def importable(tmp_path):
    """A module ``toyfit`` on PYTHONPATH, and the environment that finds it."""
    (tmp_path / "toyfit.py").write_text(FITNESS_MODULE)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return env


def history(run):
    return [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]


def test_a_python_run_is_inspected_and_resumed_from_the_command_line(root, tmp_path):
    env = importable(tmp_path)
    run = tmp_path / "run"
    started = python(
        f"""
        import evolve, toyfit
        space = {SPACE!r}
        evolve.optimize(space, toyfit.fitness, out={str(run)!r}, population=6, generations=2,
                        seed=1)
        """,
        env=env,
    )
    assert started.returncode == 0, started.stderr[-2000:]
    assert not (run / "settings.json").exists()
    for name in ("config.toml", "history.jsonl", "checkpoint.json", "summary.json", "run.log"):
        assert (run / name).exists(), name
    assert (run / "plots" / "fitness.png").read_bytes()[:4] == b"\x89PNG"
    cfg = tomllib.loads((run / "config.toml").read_text())
    assert cfg["run"]["fitness"] == "toyfit:fitness" and "data" not in cfg
    first = history(run)
    assert len(first) == 6 + 5  # generation 1 keeps one elite

    shown = cli(root, "inspect", str(run), "--json", env=env)
    assert shown.returncode == 0, shown.stderr[-2000:]
    report = json.loads(shown.stdout)
    best = json.loads((run / "summary.json").read_text())["best"]
    assert report["best"]["id"] == best["id"] and report["evaluations"] == len(first)
    assert [g["generation"] for g in report["generations"]] == [0, 1]

    calls = tmp_path / "calls"
    more = cli(root, "resume", str(run), "--generations", "1", "--quiet",
               env={**env, "CALLS": str(calls)})  # fmt: skip
    assert more.returncode == 0, more.stderr[-2000:]
    records = history(run)
    assert records[: len(first)] == first and len(records) == len(first) + 5
    assert len(calls.read_text().splitlines()) == 5  # only the new generation trained
    ids = [r["id"] for r in records if r.get("cached_from") is None]
    assert len(ids) == len(set(ids))

    nothing = cli(root, "export", str(run), env=env)
    assert nothing.returncode == 2 and nothing.stderr.startswith("error: ")
    assert len(nothing.stderr.strip().splitlines()) == 1


def test_a_fitness_defined_in_a_script_is_resumed_from_python_only(root, tmp_path):
    run = tmp_path / "run"
    started = python(
        f"""
        import evolve
        def fitness(genes):
            return float(sum(genes.values()))
        evolve.optimize({SPACE!r}, fitness, out={str(run)!r}, population=4, generations=1)
        """
    )
    assert started.returncode == 0, started.stderr[-2000:]
    assert tomllib.loads((run / "config.toml").read_text())["run"]["fitness"] == "python"
    refused = cli(root, "resume", str(run))
    assert refused.returncode == 2
    assert "resume it from Python: evolve.resume(RUN_DIR, fitness)" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    shown = cli(root, "inspect", str(run), "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["evaluations"] == 4
    outcome = evolve.resume(run, lambda genes: float(sum(genes.values())), generations=1)
    assert len(outcome.records) == 4 + 3


@pytest.mark.slow
def test_a_command_line_run_is_resumed_with_evolve_resume(root, tmp_path):
    run = tmp_path / "run"
    args = ["run", "--population", "2", "--generations", "1", "--epochs", "1", "--workers", "1",
            "--quiet", "--out", str(run)]  # fmt: skip
    assert cli(root, *args).returncode == 0
    first = history(run)
    resumed = python(
        f"""
        import json, sys, evolve
        outcome = evolve.resume({str(run)!r}, generations=1)
        frameworks = sorted({{m.split('.')[0] for m in sys.modules}} & {{'tensorflow', 'keras'}})
        print(json.dumps({{"records": len(outcome.records), "trained": outcome.trained,
                          "test": outcome.test, "frameworks": frameworks}}))
        """,
        cwd=root,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = json.loads(resumed.stdout.splitlines()[-1])
    assert result["records"] == 3 and result["frameworks"] == []
    assert 0.1 < result["test"]["test_accuracy"] <= 1.0  # the same final report as the CLI's
    records = history(run)
    assert records[:2] == first and len(records) == 3
    assert json.loads((run / "best" / "genome.json").read_text())["test_accuracy"] == (
        result["test"]["test_accuracy"]
    )


def test_a_run_of_the_older_python_format_resumes(tmp_path):
    calls = []

    def fitness(genes):
        calls.append(dict(genes))
        return float(sum(genes.values()))

    out = tmp_path / "old"
    evolve.optimize(SPACE, fitness, out=out, population=4, generations=2, seed=2)
    done = len(calls)
    (out / "config.toml").unlink()
    old = {"strategy": "ga", "direction": "maximize", "objective": "fitness", "seed": 2,
           "budget": 0, "ordered": False, "target": None,
           "search": {"population": 4, "generations": 2}, "genes": SPACE}  # fmt: skip
    (out / "settings.json").write_text(json.dumps(old))
    outcome = evolve.resume(out, fitness, generations=1)
    assert len(calls) == done + 3 and len(outcome.records) == 4 + 3 + 3


@pytest.mark.unit
@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"direction": "maximise"}, "search.direction = 'maximise' is not one of: maximize, "
                                    "minimize (did you mean 'maximize'?)"),
        ({"populaton": 8}, "unknown setting 'populaton' (did you mean 'population'?)"),
        ({"strategy": "tpee"}, "did you mean 'tpe'?"),
        ({"selection": "roulete"}, "did you mean 'roulette'?"),
        ({"workers": "2"}, "run.workers must be int, got '2'"),
        ({"population": 1}, "search.population must be at least 2"),
        ({"elitism": 5, "population": 5}, "search.elitism must be between 0 and population - 1"),
        ({"timeout": -1}, "run.timeout must be 0 (none) or more seconds"),
        ({"backend": "spark", "workers": 2}, "run.backend = 'spark' is not one of"),
    ],
)  # fmt: skip
def test_the_python_api_checks_every_keyword_before_evaluating(keywords, message):
    calls = []
    with pytest.raises(ConfigError) as info:
        evolve.optimize(SPACE, lambda genes: calls.append(1) or 0.0, **keywords)
    assert message in str(info.value) and "\n" not in str(info.value)
    named = str(info.value).split("known: ")[-1].split(", ")
    assert len(named) == len(set(named))  # each name once in a list of known names
    assert calls == []


@pytest.mark.unit
def test_a_journal_line_of_an_unknown_format_is_a_clear_error(tmp_path):
    (tmp_path / "history.jsonl").write_text('{"index": 0, "id": "a"}\n')
    with pytest.raises(RunDirError, match="line 1: a history line lacks generation, genes"):
        RunDir(tmp_path).read_history()


@pytest.mark.unit
def test_records_round_trip_through_the_journal_format():
    outcome = evolve.optimize(SPACE, lambda g: float(g["x0"]), population=4, generations=3)
    for record in outcome.records:
        data = json.loads(json.dumps(record.to_json()))
        again = type(record).from_json(data)
        assert again == record and again.status is record.status
        assert dict(record) == data and record["fitness"] == record.fitness


def test_the_loop_stops_waiting_for_an_evaluation_past_its_timeout():
    class Quick(FailurePolicy):
        abandon_after = 0.5  # seconds; the real rule waits past the hard timeout

    def stuck_or_quick(genes):
        if genes["x0"] == 0:
            time.sleep(3)
        return float(genes["x1"])

    space = SearchSpace.from_config({"x0": [0, 1, 2, 3], "x1": [0, 1]})
    with ThreadPoolExecutor(2) as pool:
        strategy = make_strategy("grid", space, "maximize", 0)
        started = time.monotonic()
        outcome = Loop(strategy, stuck_or_quick, pool, workers=2, policy=Quick(timeout=0.1)).run()
        took = time.monotonic() - started
    stuck = [r for r in outcome.records if r["genes"]["x0"] == 0]
    assert [r["status"] for r in stuck] == ["timeout", "timeout"] and took < 2.5
    assert "abandoned" in stuck[0]["reason"] and len(outcome.records) == 8


def test_a_soft_timeout_is_said_where_it_is_soft(tmp_path, capfd):
    evolve.optimize(SPACE, lambda g: 0.0, population=2, generations=1, timeout=5,
                    out=tmp_path / "run")  # fmt: skip
    said = "on the inline backend the 5 s timeout is soft"
    assert said in capfd.readouterr().err and said in (tmp_path / "run" / "run.log").read_text()


@pytest.mark.unit
def test_the_console_command_and_its_packaged_config(tmp_path):
    command = os.path.join(os.path.dirname(sys.executable), "keras-evolve")
    shown = subprocess.run([command, "run", "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "ga, grid, random, tpe" in shown.stdout
    from importlib import resources

    from evolve.settings import config

    cfg = config.load(resources.files("evolve.app") / "default.toml")
    assert cfg.search.strategy == "ga" and cfg.genes


# -- Python mistakes found before anything runs ------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: evolve.optimize(SPACE, 5), "the fitness must be a function"),
        (lambda: evolve.optimize(SPACE, toy, executor="x"), "must be a concurrent.futures"),
        (lambda: evolve.optimize(SPACE, toy, on_record=5), "on_record must be a function"),
        (lambda: evolve.optimize(SPACE, toy, target=float("nan")), "search.target must be a finite number"),
        (lambda: evolve.optimize(SPACE, toy, seed=-1), "run.seed must be 0 or more"),
        (lambda: evolve.optimize(SPACE, toy, timeout=float("inf")), "run.timeout must be a finite"),
        (lambda: evolve.optimize({"x": {"type": "float", "min": float("nan"), "max": 1,
                                        "step": 0.1}}, toy), "min must be a finite number"),
        # found by a new user's attack (issue 21)
        (lambda: evolve.optimize(SPACE, toy, out=123), "out must be a folder path"),
        (lambda: evolve.resume(123), "out must be a folder path"),
        (lambda: evolve.optimize(SPACE, toy, qqqqqq=1), "unknown setting 'qqqqqq' (known: "),
        (lambda: evolve.optimize(SPACE, toy, seed=2**40), "run.seed = 1,099,511,627,776 is more"),
        (lambda: evolve.optimize(SPACE, toy, tournament_size=0), "tournament_size must be at least 1"),
    ],
)  # fmt: skip
def test_every_python_mistake_is_found_before_anything_runs(call, message):
    with pytest.raises(ConfigError) as info:
        call()
    assert message in str(info.value) and "\n" not in str(info.value)
