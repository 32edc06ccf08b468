"""What would fail later is refused at the start (issue 20, kind 5): a backend the workers
cannot import, sizes no engine can hold, a grid asked for more generations; each one line, exit
2, before anything starts, with no run directory left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import evolve
from evolve.settings.config import ConfigError
from evolve.settings.fitness import SessionError
from support import SPACE
from support import cli as cli_at_root
from support import one_line_exit_2 as is_one_line_exit_2
from support import toy as toy_x4

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, cwd, env=None, timeout=300):
    return subprocess.run([sys.executable, str(ROOT / "run_evolution.py"), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, **(env or {})})  # fmt: skip


def one_line_exit_2(done) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("backend", "said"),
    [
        ("jax", "No module named 'jax' (KERAS_BACKEND=jax)"),  # the example
        ("pytorch-typo", "KERAS_BACKEND=pytorch-typo"),
    ],
)
def test_a_keras_backend_the_workers_cannot_import_is_one_line_before_the_run(tmp_path, backend,
                                                                              said):
    done = cli("run", "--out", "run", "--population", "2", "--generations", "1", "--epochs", "1",
               cwd=tmp_path, env={"KERAS_BACKEND": backend})  # fmt: skip
    line = one_line_exit_2(done)
    assert line.startswith("error: a worker cannot start:") and said in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--population", "9223372036854775807"], "search.population = 9,223,372,036,854,775,807 is more"),
        (["--generations", "9223372036854775807"], "search.generations"),
        (["--workers", "100000"], "run.workers = 100,000 is more"),
        (["--timeout", "1e300"], "run.timeout = 1e+300 is more"),
        (["--epochs", "10000000000"], "training.epochs"),
        (["--budget", "9223372036854775807"], "search.budget"),
    ],
)
def test_sizes_no_run_can_hold_are_one_line_at_once(tmp_path, flags, said):
    done = cli("run", "--out", "run", *flags, cwd=tmp_path, timeout=60)
    assert said in one_line_exit_2(done)
    assert not (tmp_path / "run").exists()


@pytest.mark.unit
def test_sizes_are_checked_from_python_too():
    with pytest.raises(ConfigError, match=r"search\.population = 9,223,372,036,854,775,807"):
        evolve.optimize({"x": [1, 2]}, float, population=2**63 - 1)
    with pytest.raises(ConfigError, match=r"data\.image_size"):
        evolve.search_keras(lambda g, s, n: None, {"x": [1, 2]}, dataset="digits",
                            image_size=(10**6, 8))  # fmt: skip


def toy(genes):
    return float(genes["x"])


def test_extending_a_finished_grid_is_one_line_before_anything_starts(tmp_path):
    """The issue's example: resume --generations 1 of a grid ended in a traceback once the
    pool had started."""
    out = tmp_path / "grid"
    evolve.optimize({"x": [1, 2, 3]}, toy, strategy="grid", out=out)
    journal = (out / "history.jsonl").read_bytes()
    (tmp_path / "toys.py").write_text("def toy(genes):\n    return float(genes['x'])\n")
    done = cli("resume", str(out), "--generations", "1", cwd=tmp_path)
    line = one_line_exit_2(done)
    assert "grid search, which walks its whole space once" in line
    assert (out / "history.jsonl").read_bytes() == journal
    from evolve.settings.fitness import SessionError

    with pytest.raises(SessionError, match="has no generations to add"):
        evolve.resume(out, toy, generations=2)


# -- backends, GPU ids and genes refused before a run starts -----------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "ray"], "the ray backend needs ray"),
        (["--backend", "dask"], "the dask backend needs a scheduler address"),
        (["--gpus", "0,0"], "distinct GPU ids"),
        (["--backend", "spark"], "run.backend = 'spark' is not one of"),
    ],
)
def test_a_run_that_cannot_start_is_one_line_and_leaves_nothing(root, tmp_path, args, message):
    pytest.importorskip("distributed")
    if "ray" in args:
        try:
            import ray  # noqa: F401

            pytest.skip("ray is installed here")
        except ImportError:
            pass
    out = tmp_path / "run"
    result = cli_at_root(root, "run", "--out", str(out), *args, timeout=120)
    assert is_one_line_exit_2(result) and message in result.stderr, result.stderr
    assert not out.exists()
    again = cli_at_root(root, "run", "--out", str(out), *args, timeout=120)
    assert "already holds a run" not in again.stderr


@pytest.mark.unit
@pytest.mark.parametrize(
    ("settings", "message"),
    [({"backend": "ray", "workers": 2}, "ray"), ({"backend": "dask", "workers": 2}, "address")],
)
def test_a_python_run_that_cannot_start_leaves_no_folder(tmp_path, settings, message):
    pytest.importorskip("distributed")
    try:
        import ray  # noqa: F401

        if settings["backend"] == "ray":
            pytest.skip("ray is installed here")
    except ImportError:
        pass
    out = tmp_path / "run"
    with pytest.raises(SessionError, match=message):
        evolve.optimize(SPACE, toy_x4, out=out, **settings)
    assert not out.exists()
    evolve.optimize(SPACE, toy_x4, out=out, population=2, generations=1)  # fixed: it works


@pytest.mark.parametrize(
    ("gene", "message"),
    [
        ("dropout = [0.0, 1.0]", "gene 'dropout': 1.0 is not allowed for the cnn model"),
        ("learning_rate = [0.0, 0.001]", "a learning rate of 0 never learns"),
        ("filters = [0, 16]", "gene 'filters': 0 is not allowed"),
    ],
)
def test_impossible_genes_are_refused_before_training(root, tmp_path, gene, message):
    config = tmp_path / "c.toml"
    config.write_text(f"[genes]\n{gene}\n")
    result = cli_at_root(root, "run", "--config", str(config), "--out", str(tmp_path / "r"), timeout=120)
    assert is_one_line_exit_2(result) and message in result.stderr
    assert not (tmp_path / "r").exists()
