"""``Scheduler``: decides how far trainings go, around any strategy, which decides what to train.

Ray Tune keeps its trial schedulers (ASHA, the median stopping rule, PBT) apart from its search
algorithms, so that each composes with any other; so does this engine. A scheduler wraps a
strategy (``base``) and is itself a ``Strategy`` to the loop: it passes ``ask`` and ``tell``
through, and changes what it schedules: which genome trains next and the ``TrainingRequest``
it trains under (a rung, a repeat, the median rule's limits). Schedulers stack:
``FinalPick(MedianStopping(GeneticAlgorithm(...)))``; ``evolve.session`` builds the stack
from ``[search]``.

A scheduler stands for its base in a checkpoint (``name``); its own state nests the base's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evolve.search.base import DONE, Proposal, Signal, Strategy
from genomes.genome import Genome


class Scheduler(Strategy):
    """A strategy around ``base``: every call passes through unless a subclass overrides it."""

    def __init__(self, base: Strategy) -> None:
        super().__init__(base.space, base.direction)
        self.base = base
        self.name = base.name  # type: ignore[misc]  # it stands for its base in a checkpoint
        self.seen = base.seen

    def ask(self) -> Genome | Proposal | Signal:
        proposal = self.base.ask()
        self.generation = self.base.generation
        if proposal is DONE:
            self.stop_reason = self.base.stop_reason
        return proposal

    def tell(self, genome: Genome, fitness: float | None) -> None:
        self.tell_proposal(Proposal(genome), fitness)

    def tell_proposal(self, proposal: Proposal, fitness: float | None) -> None:
        self.base.tell_proposal(proposal, fitness)

    def observe(self, record: Mapping[str, Any]) -> None:
        self.base.observe(record)

    def promoted(self, genome: Genome, rung: int, fitness: float | None) -> None:
        self.base.promoted(genome, rung, fitness)

    @property
    def full_fidelity(self) -> int:
        return self.base.full_fidelity

    def extend(self, generations: int) -> None:
        self.base.extend(generations)

    def expected(self) -> int | None:
        return self.base.expected()

    def state_dict(self) -> dict[str, Any]:
        return self.base.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.base.load_state_dict(state)
        self.seen = self.base.seen
        self.generation = self.base.generation
        self.stop_reason = self.base.stop_reason
