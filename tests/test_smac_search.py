"""The SMAC3 strategies (gp: Gaussian process, smac: random forest) through ask/tell.

Cheap fitness functions, no TensorFlow. Skipped where SMAC is not installed.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

pytest.importorskip("smac")

from evolve.search.base import DONE, WAIT
from evolve.search.gp import GPSearch
from evolve.search.random import RandomSearch
from evolve.search.smac_rf import SMACSearch
from genomes.genome import Genome
from genomes.space import SearchSpace

CLASSES = {"gp": GPSearch, "smac": SMACSearch}
TARGET = (7, 2, 5, 1)


def toy_space(genes: int = 4, values: int = 10) -> SearchSpace:
    return SearchSpace.from_config(
        {f"x{i}": {"type": "int", "min": 0, "max": values - 1} for i in range(genes)}
    )


def toy_fitness(genes) -> float:
    return -float(sum((v - TARGET[i]) ** 2 for i, v in enumerate(genes.values())))


def make(name: str, space: SearchSpace | None = None, seed: int = 0, **params):
    params.setdefault("budget", 20)
    params.setdefault("startup_trials", 5)
    return CLASSES[name](space or toy_space(), "maximize", seed, **params)


def drain(strategy, fitness=toy_fitness, limit=10_000) -> list[Genome]:
    """Ask and tell one genome at a time until the strategy is done; return the genomes."""
    asked = []
    for _ in range(limit):
        genome = strategy.ask()
        if genome is DONE:
            return asked
        assert genome is not WAIT, "a strategy told every result must not wait"
        asked.append(genome)
        strategy.tell(genome, fitness(genome.genes))
    raise AssertionError("the strategy never finished")


def best_of(strategy) -> float:
    best = -np.inf
    while isinstance(genome := strategy.ask(), Genome):
        fitness = toy_fitness(genome.genes)
        best = max(best, fitness)
        strategy.tell(genome, fitness)
    return best


@pytest.mark.parametrize("name", CLASSES)
def test_proposes_count_distinct_genomes_then_stops(name):
    strategy = make(name, budget=12)
    strategy.per_generation = 4
    asked = drain(strategy)
    assert len(asked) == 12 == len({g.id for g in asked}) == strategy.expected()
    assert strategy.stop_reason == "12 distinct genomes evaluated"
    assert all(g.origin == name for g in asked)
    strategy.extend(1)  # per_generation more
    more = drain(strategy)
    assert len(more) == 4
    assert not {g.id for g in more} & {g.id for g in asked}


@pytest.mark.parametrize(
    ("name", "budget", "startup", "seeds"), [("gp", 20, 8, 3), ("smac", 50, 10, 5)]
)
def test_beats_random_search_on_average(name, budget, startup, seeds):
    # 10**4 genomes, one optimum. Best found (mean): gp 0.0 vs random -9.8 at 20 evaluations;
    # smac -4.0 vs random -6.1 at 50 (a forest needs more data than a GP on a smooth problem).
    ours = [best_of(make(name, seed=s, budget=budget, startup_trials=startup)) for s in range(seeds)]
    rs = [best_of(RandomSearch(toy_space(), "maximize", s, budget=budget)) for s in range(100)]
    assert np.mean(ours) > np.mean(rs) + 1


@pytest.mark.parametrize("name", CLASSES)
def test_the_same_seed_gives_the_same_proposals(name):
    runs = [[g.id for g in drain(make(name, seed=seed, budget=10))] for seed in (3, 3, 4)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


SCRIPT = """
import sys
from evolve.search.gp import GPSearch
from evolve.search.smac_rf import SMACSearch
from genomes.genome import Genome
from genomes.space import SearchSpace
space = SearchSpace.from_config({f"x{i}": {"type": "int", "min": 0, "max": 9} for i in range(4)})
strategy = {"gp": GPSearch, "smac": SMACSearch}[sys.argv[1]](space, "maximize", 5, budget=12)
while isinstance(genome := strategy.ask(), Genome):
    strategy.tell(genome, -float(sum((v - 3) ** 2 for v in genome.genes.values())))
    print(genome.id)
"""


@pytest.mark.parametrize("name", CLASSES)
def test_the_same_seed_gives_the_same_proposals_in_other_processes(name, root):
    """String hashing changes from process to process; the proposals must not."""
    runs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT, name], env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        runs.append(out.stdout.split())
    assert len(runs[0]) == 12
    assert runs[0] == runs[1]


@pytest.mark.parametrize("name", CLASSES)
def test_state_round_trips_through_json_and_resumes_identically(name):
    a = make(name, seed=11, budget=18)
    in_flight = []
    for n in range(14):
        genome = a.ask()
        if n % 4 == 3:
            in_flight.append(genome)  # results still out at the checkpoint
        else:
            a.tell(genome, None if n == 5 else toy_fitness(genome.genes))
    state = json.loads(json.dumps(a.state_dict(), allow_nan=False))
    b = make(name, seed=999, budget=3, startup_trials=2)  # the state's settings win
    b.load_state_dict(state)
    assert b.exact_resume
    assert b.state_dict() == a.state_dict()
    for strategy in (a, b):
        for genome in in_flight:
            strategy.tell(genome, toy_fitness(genome.genes))
    assert [g.id for g in drain(a)] == [g.id for g in drain(b)]


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("why", ["diverged", "asked"])
def test_resume_by_telling_every_result_continues_without_repeats(name, why):
    a = make(name, seed=2, budget=20)
    asked = [a.ask() for _ in range(10)]
    for genome in asked[:8]:
        a.tell(genome, toy_fitness(genome.genes))
    state = json.loads(json.dumps(a.state_dict()))
    if why == "diverged":
        state["seed"] = 12345  # another optimiser: the recorded asks will not come back
    b = make(name, seed=2, budget=20, replay=why != "asked")
    b.load_state_dict(state)
    assert not b.exact_resume
    for genome in asked[8:]:
        b.tell(genome, toy_fitness(genome.genes))
    rest = drain(b)
    ids = [g.id for g in asked + rest]
    assert len(ids) == 20 == len(set(ids))


@pytest.mark.parametrize("name", CLASSES)
def test_equivalent_genomes_are_answered_without_training_and_the_space_runs_out(name):
    # ``b`` is inert when ``a`` is 0: 3 x 4 grid points, but only 1 + 2 x 4 = 9 distinct genomes.
    def canonical(genes):
        return {**genes, "b": 0} if genes["a"] == 0 else genes

    space = SearchSpace(
        SearchSpace.from_config(
            {"a": {"type": "int", "min": 0, "max": 2}, "b": {"type": "int", "min": 0, "max": 3}}
        ).genes,
        canonical,
    )
    strategy = make(name, space, budget=100, startup_trials=3)
    asked = drain(strategy, fitness=lambda genes: float(genes["a"] + genes["b"]))
    assert len(asked) == 9 == len({g.id for g in asked})
    assert "exhausted" in strategy.stop_reason


@pytest.mark.parametrize("name", CLASSES)
def test_failures_and_non_finite_fitness_are_told_as_the_worst_cost(name):
    strategy = make(name, budget=12)
    for n in range(12):
        genome = strategy.ask()
        fitness = [None, float("nan"), float("-inf")][n % 3] if n < 6 else toy_fitness(genome.genes)
        strategy.tell(genome, fitness)
    history = strategy.smac.runhistory
    crashed = [v.cost for v in history.values() if v.status.name == "CRASHED"]
    finished = [v.cost for v in history.values() if v.status.name == "SUCCESS"]
    assert len(crashed) == 6 and len(finished) == 6
    assert set(crashed) == {max(finished)}  # costs: -fitness
    assert json.dumps(strategy.state_dict(), allow_nan=False)


@pytest.mark.parametrize("name", CLASSES)
def test_minimize_is_minimized(name):
    space = toy_space(genes=2)
    strategy = CLASSES[name](space, "minimize", 0, budget=30, startup_trials=5)
    asked = drain(strategy, fitness=lambda genes: -toy_fitness(genes))
    late = np.mean([-toy_fitness(g.genes) for g in asked[-10:]])
    early = np.mean([-toy_fitness(g.genes) for g in asked[:5]])
    assert late < early


@pytest.mark.parametrize("name", CLASSES)
def test_every_gene_kind_maps_to_a_valid_genome(name):
    space = SearchSpace.from_config(
        {
            "layers": {"type": "int", "min": 1, "max": 7, "step": 2},
            "rate": {"type": "log", "min": 1e-4, "max": 1e-1},
            "dropout": {"type": "float", "min": 0.0, "max": 0.5, "step": 0.1},
            "act": ["relu", "tanh", 3, 0.5, True],
            "bn": {"type": "flag"},
            "fixed": [64],
        }
    )
    strategy = make(name, space, budget=25)
    asked = drain(strategy, fitness=lambda genes: float(genes["layers"]) - 100 * genes["rate"])
    assert len({g.id for g in asked}) == 25
    for genome in asked:
        assert space.genome(genome.genes).id == genome.id
        assert genome["fixed"] == 64
    assert len({g["act"] for g in asked}) > 1 and len({g["rate"] for g in asked}) > 1
    assert len(strategy.smac.scenario.configspace) == 5  # the one-allele gene is left out


@pytest.mark.unit
def test_a_space_with_nothing_to_choose_gives_its_one_genome():
    space = SearchSpace.from_config({"a": [1], "b": {"type": "int", "min": 2, "max": 2}})
    for name in CLASSES:
        strategy = make(name, space, budget=5)
        assert strategy.smac is None
        assert len(drain(strategy)) == 1
        assert strategy.stop_reason == "1 distinct genomes evaluated"


@pytest.mark.parametrize("name", CLASSES)
def test_nothing_is_written_and_nothing_is_logged(name, tmp_path, monkeypatch, capfd):
    cwd, temp = tmp_path / "cwd", tmp_path / "temp"
    cwd.mkdir()
    temp.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    root_handlers = list(logging.getLogger().handlers)
    strategy = make(name, budget=12)
    drain(strategy)
    strategy.load_state_dict(json.loads(json.dumps(strategy.state_dict())))
    assert list(cwd.iterdir()) == [] and list(temp.iterdir()) == []
    assert logging.getLogger().handlers == root_handlers
    out, err = capfd.readouterr()
    assert out == "" and err == ""
