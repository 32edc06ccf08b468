"""A strategy of your own, from a module outside the package (issue 21, point 7): named
``"module:Class"`` it runs from the command line, resumes and inspects as a built-in does, and
a bad name is one line. Pure-Python fitness, no TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import evolve
from evolve.settings.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent

STRATEGY = textwrap.dedent('''
    """A hill climber: the best genome so far, one gene changed at a time."""
    from evolve.search import DONE, Strategy
    from evolve.search.operators.mutation import uniform
    from evolve.search.registry import Setting


    class Hill(Strategy):
        name = "hill"
        summary = "one gene of the best so far changed at a time"
        settings = (Setting("steps_per_ask", 1, "unused; a setting of its own", check=lambda v: v > 0,
                            rule="positive"),)

        def __init__(self, space, direction, seed, steps_per_ask=1, **params):
            super().__init__(space, direction, seed, **params)
            self.best, self.best_score = None, None

        def ask(self):
            if len(self.seen) >= self.count:
                self.stop_reason = f"{self.count} genomes climbed"
                return DONE
            start = self.best if self.best is not None else self.space.sample(self.rng)
            for _ in range(64):
                alleles = uniform([start.genes[n] for n in self.space.names], self.space.genes,
                                  self.rng, rate=1.0)
                genome = self.space.from_alleles(alleles, (start.id,), "mutation")
                if genome.id not in self.seen:
                    return self._propose(genome)
            genome = self.novel_random()
            if genome is None:
                self.stop_reason = "the space is exhausted"
                return DONE
            return self._propose(genome)

        def tell(self, genome, fitness):
            score = None if fitness is None else (fitness if self.direction == "maximize" else -fitness)
            if score is not None and (self.best_score is None or score > self.best_score):
                self.best, self.best_score = genome, score
    ''')

FITNESS = "def score(genes):\n    return float(-abs(genes['x'] - 11) - abs(genes['y'] - 3))\n"


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    (tmp_path / "my_strategies.py").write_text(STRATEGY)
    (tmp_path / "my_fitness.py").write_text(FITNESS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def cli(*args, cwd):
    # no PYTHONPATH: the folder you run from is where a strategy of yours is found, as a
    # build function or a fitness is (a new user's attack found it was not)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, str(ROOT / "run_evolution.py"), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip


def test_a_strategy_of_yours_runs_resumes_and_inspects_from_the_command_line(plugin):
    config = plugin / "c.toml"
    config.write_text(textwrap.dedent('''
        [run]
        fitness = "my_fitness:score"
        [search]
        strategy = "my_strategies:Hill"
        objective = "fitness"
        population = 4
        generations = 2
        steps_per_ask = 2
        [genes]
        x = {type = "int", min = 0, max = 20}
        y = [1, 2, 3, 4, 5]
        '''))  # fmt: skip
    ran = cli("run", "--config", str(config), "--out", "r", cwd=plugin)
    assert ran.returncode == 0, ran.stderr
    lines = (plugin / "r" / "history.jsonl").read_text().splitlines()
    assert len(lines) == 8 and {json.loads(line)["status"] for line in lines} == {"ok"}
    more = cli("resume", "r", "--generations", "1", cwd=plugin)
    assert more.returncode == 0, more.stderr
    assert len((plugin / "r" / "history.jsonl").read_text().splitlines()) == 12
    shown = cli("inspect", "r", cwd=plugin)
    assert shown.returncode == 0 and "best" in shown.stdout, shown.stderr


@pytest.mark.unit
def test_a_strategy_of_yours_runs_from_python(plugin):
    outcome = evolve.optimize(
        {"x": {"type": "int", "min": 0, "max": 20}, "y": [1, 2, 3, 4, 5]},
        __import__("my_fitness").score, strategy="my_strategies:Hill", budget=10,
    )  # fmt: skip
    assert len(outcome.records) == 10 and outcome.best.fitness <= 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no_such_module:Hill", "cannot import no_such_module"),
        ("my_strategies:Nope", "my_strategies has no Nope"),
        ("my_fitness:score", "is not a subclass of evolve.search.Strategy"),
        ("my_strategies:", "must be 'package.module:Class'"),
    ],
)
def test_a_strategy_name_that_names_nothing_usable_is_one_line(plugin, name, message):
    with pytest.raises(ConfigError, match=message) as caught:
        evolve.optimize({"x": [1, 2]}, lambda genes: 1.0, strategy=name, budget=2)
    assert "\n" not in str(caught.value)
    config = plugin / "bad.toml"
    config.write_text(f'[run]\nfitness = "my_fitness:score"\n[search]\nstrategy = "{name}"\n'
                      'objective = "fitness"\n[genes]\nx = [1, 2]\ny = [3]\n')  # fmt: skip
    ran = cli("run", "--config", str(config), "--out", "bad", cwd=plugin)
    assert ran.returncode == 2 and message in ran.stderr and len(ran.stderr.splitlines()) == 1
    assert not (plugin / "bad").exists()


def test_a_strategy_of_yours_that_cannot_be_built_is_one_line_and_leaves_no_run(plugin):
    (plugin / "broken_strategy.py").write_text(
        "from evolve.search import Strategy\n\n"
        "class Broken(Strategy):\n"
        "    def __init__(self, space, direction, seed, **params):\n"
        "        raise RuntimeError('no idea how to search')\n"
        "    def ask(self):\n        pass\n"
        "    def tell(self, genome, fitness):\n        pass\n"
    )  # fmt: skip
    config = plugin / "c.toml"
    config.write_text('[run]\nfitness = "my_fitness:score"\n[search]\nobjective = "fitness"\n'
                      'strategy = "broken_strategy:Broken"\n[genes]\nx = [1, 2]\ny = [3]\n')
    ran = cli("run", "--config", str(config), "--out", "r", cwd=plugin)
    assert ran.returncode == 2 and "no idea how to search" in ran.stderr, ran.stderr
    assert len(ran.stderr.splitlines()) == 1 and not (plugin / "r").exists()


@pytest.mark.parametrize("where", ["ask", "tell"])
def test_a_strategy_of_yours_that_raises_mid_run_stops_it_in_one_line_and_resumes(plugin, where):
    """Found by a new user's attack: an ``ask`` that raised was a full traceback. Now one line
    naming the strategy and the method, exit 1, what finished kept; fixed, the run resumes."""
    flawed = STRATEGY.replace("class Hill(Strategy):", "class Hill(Strategy):\n    calls = 0") \
        .replace("    def tell(self, genome, fitness):\n",
                 "    def tell(self, genome, fitness):\n"
                 "        if WHERE == 'tell' and len(self.seen) == 3:\n"
                 "            raise ValueError('bad step')\n") \
        .replace("    def ask(self):\n",
                 "    def ask(self):\n"
                 "        if WHERE == 'ask' and len(self.seen) == 3:\n"
                 "            raise ValueError('bad step')\n")  # fmt: skip
    (plugin / "flawed.py").write_text(f"WHERE = {where!r}\n" + flawed)
    config = plugin / "c.toml"
    config.write_text('[run]\nfitness = "my_fitness:score"\nworkers = 1\nbackend = "inline"\n'
                      '[search]\nobjective = "fitness"\nstrategy = "flawed:Hill"\nbudget = 6\n'
                      '[genes]\nx = [1, 2, 3, 4, 5, 6, 7, 8]\ny = [3]\n')  # fmt: skip
    ran = cli("run", "--config", str(config), "--out", "r", "--quiet", cwd=plugin)
    lines = ran.stderr.strip().splitlines()
    assert ran.returncode == 1 and len(lines) == 1, ran.stderr
    assert f"the strategy hill failed in {where}(): ValueError: bad step" in lines[0]
    assert "resume" in lines[0] and "Traceback" not in ran.stderr
    kept = (plugin / "r" / "history.jsonl").read_text().splitlines()
    assert len(kept) >= 3
    (plugin / "flawed.py").write_text("WHERE = 'nowhere'\n" + flawed)
    again = cli("resume", "r", "--quiet", cwd=plugin)
    assert again.returncode == 0, again.stderr
    assert len((plugin / "r" / "history.jsonl").read_text().splitlines()) == 6
