"""Strategies through ask/tell, driven directly with cheap fitness functions. No TensorFlow."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from evolve.search import DONE, WAIT, make_strategy
from evolve.search.ga import GeneticAlgorithm
from genomes import SearchSpace


def toy_space(genes: int = 3, values: int = 10) -> SearchSpace:
    return SearchSpace.from_config(
        {f"x{i}": {"type": "int", "min": 0, "max": values - 1} for i in range(genes)}
    )


def toy_fitness(genes: dict) -> float:
    target = (7, 2, 5, 1, 6)
    return -float(sum((v - target[i]) ** 2 for i, v in enumerate(genes.values())))


def drain(strategy, fitness=toy_fitness, limit=100_000):
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


def generations_of(ga: GeneticAlgorithm, fitness=toy_fitness):
    """Run a generational GA, returning each generation's members (elites included)."""
    seen = []
    for _ in range(1000):
        batch = []
        while (genome := ga.ask()) not in (WAIT, DONE):
            batch.append(genome)
        if genome is DONE:
            return seen
        seen.append(list(ga._cohort_genomes))
        for genome in batch:
            ga.tell(genome, fitness(genome.genes))
    raise AssertionError("the GA never finished")


@pytest.mark.unit
def test_population_size_is_constant_every_generation():
    # DeepEvolve's population grows by one on odd slots; ours never changes size.
    for population, elitism in [(10, 1), (7, 2), (5, 0), (2, 1)]:
        ga = make_strategy(
            "ga", toy_space(), "maximize", 3, population=population, generations=6, elitism=elitism
        )
        sizes = [len(g) for g in generations_of(ga)]
        assert sizes == [population] * 6


@pytest.mark.unit
def test_a_generation_with_a_single_surviving_parent_still_breeds():
    # harvitronix loops forever when one parent survives; every failure here but one.
    space = toy_space()
    ga = make_strategy("ga", space, "maximize", 0, population=8, generations=4)
    survivor = None

    def mostly_failing(genes):
        nonlocal survivor
        if survivor is None:
            survivor = dict(genes)
        return 1.0 if dict(genes) == survivor else None

    gens = generations_of(ga, mostly_failing)
    assert len(gens) == 4 and all(len(g) == 8 for g in gens)
    assert len({g.id for gen in gens for g in gen}) > 20  # real, new children every generation


@pytest.mark.unit
@pytest.mark.parametrize("elitism", [1, 3])
def test_elitism_really_keeps_the_best(elitism):
    # DEvol's elitism returns the first n, not the best n.
    ga = make_strategy(
        "ga",
        toy_space(),
        "maximize",
        5,
        population=10,
        generations=8,
        elitism=elitism,
        selection="roulette",
    )
    history: dict[str, float] = {}
    gens = generations_of(ga, lambda g: history.setdefault(str(g), toy_fitness(g)))
    for previous, current in itertools.pairwise(gens):
        best = sorted(previous, key=lambda g: -toy_fitness(g.genes))[:elitism]
        assert {g.id for g in best} <= {g.id for g in current}
    best_per_gen = [max(toy_fitness(g.genes) for g in gen) for gen in gens]
    assert best_per_gen == sorted(best_per_gen)  # the best never gets worse


@pytest.mark.unit
def test_steady_state_keeps_the_population_size_and_never_waits_once_started():
    ga = make_strategy(
        "ga", toy_space(), "maximize", 1, population=6, generations=10, replacement="oldest"
    )
    asked = drain(ga)
    assert len(asked) == 60 and len(ga.population) == 6
    assert len({g.id for g in asked}) == 60


@pytest.mark.unit
def test_aging_replaces_the_oldest_and_worst_replaces_the_worst():
    for how in ("oldest", "worst"):
        ga = make_strategy(
            "ga",
            toy_space(),
            "maximize",
            2,
            population=5,
            generations=3,
            replacement=how,
            elitism=0,
        )
        for _ in range(5):
            g = ga.ask()
            ga.tell(g, toy_fitness(g.genes))
        before = list(ga.population)
        child = ga.ask()
        ga.tell(child, toy_fitness(child.genes))
        after = {m.genome.id for m in ga.population}
        assert len(ga.population) == 5
        (gone,) = [m for m in [*before, ga.population[-1]] if m.genome.id not in after] or [None]
        if how == "oldest":
            assert gone is before[0] and gone.born == min(m.born for m in before)
        else:
            candidates = [toy_fitness(m.genome.genes) for m in before] + [toy_fitness(child.genes)]
            lost = toy_fitness(child.genes) if gone is None else toy_fitness(gone.genome.genes)
            assert lost == min(candidates)


@pytest.mark.unit
def test_a_nearly_exhausted_space_stops_with_a_clear_message():
    space = SearchSpace.from_config(
        {"a": [1, 2, 3], "b": {"type": "int", "min": 0, "max": 3}}
    )  # 12 configurations
    for replacement in ("generational", "oldest"):
        ga = make_strategy(
            "ga", space, "maximize", 0, population=10, generations=50, replacement=replacement
        )
        asked = drain(ga, lambda g: float(g["a"] * g["b"]))
        assert len({g.id for g in asked}) == 12
        assert "nothing new to propose" in ga.stop_reason
        assert len(asked) < 40


@pytest.mark.unit
def test_grid_visits_each_distinct_configuration_once_then_stops():
    space = SearchSpace.from_config(
        {"layers": {"type": "int", "min": 1, "max": 2}, "residual": {"type": "flag"}, "k": [3, 5]},
        canonical=lambda g: {**g, "residual": g["residual"] and g["layers"] > 1},
    )
    grid = make_strategy("grid", space, "maximize", 0)
    asked = drain(grid)
    assert len(asked) == 6 == len({g.id for g in asked})  # 8 grid points, 2 equivalent pairs
    assert grid.stop_reason == "the whole grid was evaluated (6 configurations)"


@pytest.mark.unit
def test_random_search_never_repeats_and_stops_when_exhausted():
    space = SearchSpace.from_config({"a": [1, 2, 3], "b": [True, False]})
    rs = make_strategy("random", space, "maximize", 0, population=10, generations=10)
    asked = drain(rs)
    assert len(asked) == 6 == len({g.id for g in asked})
    assert "exhausted" in rs.stop_reason


@pytest.mark.unit
def test_tpe_proposes_distinct_genomes_and_learns():
    space = toy_space(genes=3, values=10)
    tpe = make_strategy("tpe", space, "maximize", 0, budget=60, startup_trials=10)
    asked = drain(tpe)
    assert len(asked) == 60 == len({g.id for g in asked})
    early = np.mean([toy_fitness(g.genes) for g in asked[:10]])
    late = np.mean([toy_fitness(g.genes) for g in asked[-20:]])
    assert late > early


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("ga", {}),
        ("ga", {"replacement": "oldest", "selection": "tournament"}),
        ("ga", {"replacement": "worst", "crossover": "uniform", "mutation": "per_gene"}),
        ("grid", {}),
        ("random", {}),
        ("tpe", {"startup_trials": 5}),
    ],
)
def test_state_round_trips_through_json_and_resumes_identically(name, params):
    space = toy_space()
    a = make_strategy(name, space, "maximize", 11, population=6, generations=6, **params)
    for _ in range(17):
        g = a.ask()
        a.tell(g, toy_fitness(g.genes))
    state = json.loads(json.dumps(a.state_dict()))
    b = make_strategy(name, space, "maximize", 999, population=6, generations=6, **params)
    b.load_state_dict(state)
    assert [g.id for g in drain(a)] == [g.id for g in drain(b)]


def evaluations_to_optimum(name: str, seed: int, **params) -> int:
    space = toy_space(genes=4, values=8)  # 4096 configurations, one optimum
    strategy = make_strategy(name, space, "maximize", seed, **params)
    best = toy_fitness({"a": 7, "b": 2, "c": 5, "d": 1})
    for n, genome in enumerate(drain_lazily(strategy), start=1):
        if toy_fitness(genome.genes) == best:
            return n
    return space.size


def drain_lazily(strategy):
    while (genome := strategy.ask()) is not DONE:
        yield genome
        strategy.tell(genome, toy_fitness(genome.genes))


def test_ga_finds_the_optimum_in_fewer_evaluations_than_random_search():
    seeds = range(20)
    ga = [
        evaluations_to_optimum("ga", s, population=20, generations=200, selection="tournament")
        for s in seeds
    ]
    rs = [evaluations_to_optimum("random", s, budget=4096) for s in seeds]
    ga_median, rs_median = float(np.median(ga)), float(np.median(rs))
    print(
        f"median evaluations to the optimum: GA {ga_median}, random {rs_median}, ratio {rs_median / ga_median:.1f}x"
    )
    assert ga_median * 4 < rs_median, (ga_median, rs_median)
