"""Random search without repeats."""

from __future__ import annotations

from evolve.search.base import DONE, Signal, Strategy
from evolve.search.registry import register
from genomes.genome import Genome


@register
class RandomSearch(Strategy):
    """Uniformly random genomes, each id at most once, ``count`` of them (``budget``, or
    ``population x generations``)."""

    name = "random"
    order = 2
    multi_fidelity = True
    summary = "population x generations (or budget) distinct random genomes"

    def ask(self) -> Genome | Signal:
        if len(self.seen) >= self.count:
            self.stop_reason = f"{self.count} random genomes evaluated"
            return DONE
        genome = self.novel_random()
        if genome is None:
            self.stop_reason = f"the space is exhausted ({len(self.seen)} configurations)"
            return DONE
        return self._propose(genome)

    def tell(self, genome: Genome, fitness: float | None) -> None:
        """Random search ignores results."""

    def expected(self) -> int:
        return min(self.count, self.space.size)
