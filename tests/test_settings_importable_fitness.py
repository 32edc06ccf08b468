"""A fitness named ``module:qualname`` (``evolve.settings.fitness``): a run of an importable
function starts from the command line, a name that cannot be imported is one line that
leaves no folder, and resume refuses another function or a setting that is no number."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

import evolve
from evolve.settings.config import ConfigError
from evolve.settings.fitness import SessionError
from support import SPACE, cli, history, one_line_exit_2


def test_resume_refuses_another_importable_fitness_and_non_numbers(tmp_path):
    env_path = str(tmp_path)
    (tmp_path / "fits.py").write_text("def one(g):\n    return 1.0\ndef two(g):\n    return 2.0\n")
    sys.path.insert(0, env_path)
    try:
        import fits

        run = tmp_path / "run"
        evolve.optimize(SPACE, fits.one, out=run, population=4, generations=1)
        with pytest.raises(SessionError, match="evaluates fits:one, not fits:two"):
            evolve.resume(run, fits.two, generations=1)
        with pytest.raises(ConfigError, match="generations must be an integer"):
            evolve.resume(run, fits.one, generations="2")
        shutil.rmtree(run / "models")
        assert len(evolve.resume(run, fits.one, generations=1).records) == 4 + 3
    finally:
        sys.path.remove(env_path)


def test_a_command_line_run_of_an_importable_fitness(root, tmp_path):
    (tmp_path / "fitmod.py").write_text("def fit(genes):\n    return float(sum(genes.values()))\n")
    config = tmp_path / "c.toml"
    config.write_text('[run]\nfitness = "fitmod:fit"\n[search]\nobjective = "fitness"\n'
                      "population = 3\ngenerations = 1\n[genes]\nx = [1, 2, 3]\n")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    ran = cli(root, "run", "--config", str(config), "--out", str(tmp_path / "r"), env=env)
    assert ran.returncode == 0 and {r["status"] for r in history(tmp_path / "r")} == {"ok"}
    config.write_text(config.read_text().replace("fitmod:fit", "fitmod:nothing"))
    missing = cli(root, "run", "--config", str(config), "--out", str(tmp_path / "s"), env=env)
    assert one_line_exit_2(missing) and "cannot import the run's fitness" in missing.stderr
    assert not (tmp_path / "s").exists()
