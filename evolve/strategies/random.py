"""Random search without repeats."""

from __future__ import annotations

from typing import Any

from evolve.strategies.base import DONE, Signal, Strategy
from genomes.genome import Genome
from genomes.space import SearchSpace


class RandomSearch(Strategy):
    """Uniformly random genomes, each id at most once, ``count`` of them."""

    name = "random"

    def __init__(
        self, space: SearchSpace, direction: str = "maximize", seed: int = 0, *, count: int = 50
    ) -> None:
        super().__init__(space, direction, seed)
        self.count = count
        self.per_generation = 10

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

    def extend(self, generations: int) -> None:
        """Propose ``generations`` x ``per_generation`` (the population) more genomes."""
        self.count += generations * self.per_generation

    def expected(self) -> int:
        return min(self.count, self.space.size)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.count = state["count"]
