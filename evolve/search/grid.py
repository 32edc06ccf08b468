"""Grid search: every grid point once, in a deterministic order, then stop."""

from __future__ import annotations

from typing import Any

from evolve.search.base import DONE, Signal, Strategy
from evolve.search.registry import register
from genomes.genome import Genome
from genomes.space import SearchSpace


@register
class GridSearch(Strategy):
    """Walks ``SearchSpace.grid()`` order; equivalent genomes (same id) are proposed once."""

    name = "grid"
    order = 1
    summary = "every grid point once, in a fixed order (the last gene varies fastest)"
    extendable = False

    def __init__(
        self, space: SearchSpace, direction: str = "maximize", seed: int = 0, **effort: int
    ) -> None:
        super().__init__(space, direction, seed, **effort)
        self.position = 0

    def ask(self) -> Genome | Signal:
        while self.position < self.space.size:
            genome = self.space.point(self.position)
            self.position += 1
            if genome.id not in self.seen:
                return self._propose(genome)
        self.stop_reason = f"the whole grid was evaluated ({len(self.seen)} configurations)"
        return DONE

    def tell(self, genome: Genome, fitness: float | None) -> None:
        """Grid search ignores results."""

    def extend(self, generations: int) -> None:
        raise ValueError("the grid strategy cannot be extended: it walks its grid once")

    def expected(self) -> int:
        return self.space.size

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.position = state["position"]
