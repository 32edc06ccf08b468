"""Grid search: every grid point once, in a deterministic order, then stop."""

from __future__ import annotations

from typing import Any

from evolve.strategies.base import DONE, Signal, Strategy
from genomes.genome import Genome
from genomes.space import SearchSpace


class GridSearch(Strategy):
    """Walks ``SearchSpace.grid()`` order; equivalent genomes (same id) are proposed once."""

    name = "grid"

    def __init__(self, space: SearchSpace, direction: str = "maximize", seed: int = 0) -> None:
        super().__init__(space, direction, seed)
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

    def expected(self) -> int:
        return self.space.size

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.position = state["position"]
