"""Search strategies behind one ask/tell interface."""

from __future__ import annotations

from typing import Any

from evolve.strategies.base import DONE, WAIT, Signal, Strategy, score
from evolve.strategies.ga import GeneticAlgorithm
from evolve.strategies.grid import GridSearch
from evolve.strategies.random import RandomSearch
from genomes.space import SearchSpace

STRATEGIES = ("ga", "grid", "random", "tpe")

GA_KEYS = (
    "population",
    "generations",
    "selection",
    "tournament_size",
    "truncation",
    "crossover",
    "crossover_rate",
    "mutation",
    "mutation_rate",
    "elitism",
    "replacement",
    "replace_count",
)


def make_strategy(
    name: str, space: SearchSpace, direction: str, seed: int, **params: Any
) -> Strategy:
    """Build a strategy by name from search settings (unused settings are ignored).

    ``random`` and ``tpe`` propose ``population x generations`` genomes unless ``budget`` says
    otherwise, so every strategy gets the same effort by default.
    """
    count = params.get("budget") or params.get("population", 10) * params.get("generations", 5)
    if name == "ga":
        return GeneticAlgorithm(
            space, direction, seed, **{k: params[k] for k in GA_KEYS if k in params}
        )
    if name == "grid":
        return GridSearch(space, direction, seed)
    if name == "random":
        strategy: Strategy = RandomSearch(space, direction, seed, count=count)
    elif name == "tpe":
        from evolve.strategies.tpe import TPESearch

        strategy = TPESearch(
            space, direction, seed, count=count, startup_trials=params.get("startup_trials", 10)
        )
    else:
        raise ValueError(f"unknown strategy '{name}' (known: {', '.join(STRATEGIES)})")
    strategy.per_generation = params.get("population", 10)
    return strategy
    raise ValueError(f"unknown strategy '{name}' (known: {', '.join(STRATEGIES)})")


__all__ = [
    "DONE",
    "STRATEGIES",
    "WAIT",
    "GeneticAlgorithm",
    "GridSearch",
    "RandomSearch",
    "Signal",
    "Strategy",
    "make_strategy",
    "score",
]
