"""The genetic algorithm's parts: its settings, a member of its population, its selection."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from evolve.declare import AT_LEAST_0, Bound
from evolve.search.operators import mutation as mutations
from evolve.search.operators import replacement as survival
from evolve.search.operators import selection as selections
from evolve.search.operators.crossover import CROSSOVERS
from evolve.search.registry import Setting, SettingError
from genomes.genome import Genome


@dataclass
class Member:
    """An evaluated genome in the population."""

    genome: Genome
    fitness: float | None
    born: int
    """Order in which it joined (0, 1, 2, ...): the age used by aging replacement."""

    def to_dict(self) -> dict[str, Any]:
        return {"genome": self.genome.to_dict(), "fitness": self.fitness, "born": self.born}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Member:
        return cls(Genome.from_dict(data["genome"]), data["fitness"], data["born"])


SHARE = Bound(0, 1, "between 0 and 1")


GA_SETTINGS = (
    Setting("selection", "tournament", "parent selection",
            choices=tuple(selections.SELECTIONS)),
    Setting("tournament_size", 5, "contestants per tournament",
            bound=Bound(1, rule="at least 1"), most=1_000_000),
    Setting("truncation", 0.5, "truncation selection: share of the population kept",
            bound=Bound(0, 1, "in (0, 1]", open_low=True)),
    Setting("crossover", "single_point", "crossover operator", choices=tuple(CROSSOVERS)),
    Setting("crossover_rate", 0.9, "chance that a pair of parents is crossed",
            bound=SHARE),
    Setting("mutation", "uniform", "mutation operator", choices=tuple(mutations.MUTATIONS)),
    Setting("mutation_rate", 0.5, "uniform: chance that a chromosome mutates; per_gene: "
            "chance for each gene", bound=SHARE),
    Setting("elitism", 1, "best members that survive unchanged", bound=AT_LEAST_0),
    Setting("replacement", "generational", "generational, or steady-state: each child "
            "replaces the oldest or the worst member",
            choices=survival.REPLACEMENTS),
    Setting("replace_count", 1, "steady-state: children bred per step",
            bound=Bound(1, rule="at least 1")),
)  # fmt: skip
"""The GA's own settings; each list of choices comes from its operator table."""


def check_combination(values: dict[str, Any]) -> None:
    """Settings that tie together: elitism and replace_count against the population."""
    if values["elitism"] >= values["population"]:
        raise SettingError("search.elitism must be between 0 and population - 1")
    if values["replace_count"] > values["population"]:
        raise SettingError("search.replace_count must be 1..population")


def selection_operator(name: str, tournament_size: int, fraction: float) -> Any:
    if name == "tournament":
        return partial(selections.tournament, k=tournament_size)
    if name == "truncation":
        return partial(selections.truncation, fraction=fraction)
    if name not in selections.SELECTIONS:
        known = ", ".join(selections.SELECTIONS)
        raise ValueError(f"unknown selection '{name}' (known: {known})")
    return selections.SELECTIONS[name]


def generations_done(generations: int, size: int) -> str:
    """``"3 generations of 8 evaluated"`` (``"1 generation"``: the noun agrees)."""
    return f"{generations} generation{'' if generations == 1 else 's'} of {size} evaluated"
