"""The ask/tell interface that every search strategy implements."""

from __future__ import annotations

import enum
import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from genomes.genome import Genome
from genomes.space import SearchSpace


class Signal(enum.Enum):
    """What ``ask`` returns when it has no genome to give."""

    WAIT = "wait"
    """Nothing to propose until more results are told (a generation is still training)."""
    DONE = "done"
    """The strategy has finished; ``stop_reason`` says why."""


WAIT = Signal.WAIT
DONE = Signal.DONE


def score(fitness: float | None, direction: str) -> float:
    """Fitness as a number where higher is better; a failed evaluation scores ``-inf``."""
    if fitness is None or not math.isfinite(fitness):
        return -math.inf
    return fitness if direction == "maximize" else -fitness


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    return rng.bit_generator.state


def rng_from_state(state: dict[str, Any]) -> np.random.Generator:
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


class Strategy(ABC):
    """A proposer of genomes.

    The run loop calls ``ask`` whenever a worker is free and ``tell`` as each result arrives.
    Strategies never touch the disk; their whole state is plain data (``state_dict``) that
    round-trips through JSON.
    """

    name = "strategy"

    def __init__(self, space: SearchSpace, direction: str = "maximize", seed: int = 0) -> None:
        self.space = space
        self.direction = direction
        self.rng = np.random.default_rng(seed)
        self.generation = 0
        self.stop_reason = ""
        self.seen: set[str] = set()
        """Ids of every genome this strategy has proposed."""

    @abstractmethod
    def ask(self) -> Genome | Signal:
        """The next genome to evaluate, ``WAIT`` or ``DONE``."""

    @abstractmethod
    def tell(self, genome: Genome, fitness: float | None) -> None:
        """The fitness of a genome this strategy proposed (``None``: its evaluation failed)."""

    def extend(self, generations: int) -> None:
        """Allow ``generations`` more generations' worth of proposals (resume --generations)."""
        raise ValueError(f"the {self.name} strategy cannot be extended")

    def expected(self) -> int | None:
        """How many genomes the strategy will propose in all, when it knows."""
        return None

    def state_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rng": rng_state(self.rng),
            "generation": self.generation,
            "stop_reason": self.stop_reason,
            "seen": sorted(self.seen),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng = rng_from_state(state["rng"])
        self.generation = state["generation"]
        self.stop_reason = state["stop_reason"]
        self.seen = set(state["seen"])

    def _propose(self, genome: Genome) -> Genome:
        self.seen.add(genome.id)
        return genome

    def novel_random(self, tries: int = 64) -> Genome | None:
        """A random genome never proposed before, or ``None`` when the space is exhausted."""
        for _ in range(tries):
            genome = self.space.sample(self.rng)
            if genome.id not in self.seen:
                return genome
        if self.space.size > 2_000_000:
            return None
        for index in self.rng.permutation(self.space.size):
            genome = self.space.point(int(index))
            if genome.id not in self.seen:
                return self.space.genome(genome.genes, origin="random")
        return None
