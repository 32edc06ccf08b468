"""Asynchronous successive halving (ASHA) around any strategy that proposes genomes one by one.

Li, Jamieson, Rostamizadeh, Gonina, Ben-tzur, Hardt, Recht and Talwalkar, "A System for
Massively Parallel Hyperparameter Tuning", MLSys 2020: genomes first train for the lowest
rung's epochs; whenever a worker is free, a genome in the top ``1/eta`` of its rung that was
not promoted yet is promoted to the next rung, else the wrapped strategy proposes a new genome
for the lowest rung. Nothing waits for a rung to fill. A promoted genome continues from the
weights and optimizer state its last rung saved (``TrainingRequest.initial_epoch``), so a promotion
costs only the extra epochs.
"""

from __future__ import annotations

import math
from typing import Any

from evolve.search.base import DONE, WAIT, Proposal, Signal, Strategy, score
from evolve.search.request import TrainingRequest
from evolve.search.schedulers.base import Scheduler
from genomes.genome import Genome


def rung_epochs(min_epochs: int, max_epochs: int, eta: int) -> tuple[int, ...]:
    """The rungs' training lengths: ``min_epochs * eta**k`` below ``max_epochs``, the last of
    them dropped when it is within a factor ``sqrt(eta)`` of ``max_epochs`` (no 9 -> 10 rung),
    then ``max_epochs``. ``(1, 8, 2)`` -> ``(1, 2, 4, 8)``; ``(1, 10, 3)`` -> ``(1, 3, 10)``.
    ``ValueError`` when ``min_epochs`` is not in ``1..max_epochs`` or ``eta < 2``."""
    if eta < 2:
        raise ValueError(f"eta must be at least 2, got {eta}")
    if not 1 <= min_epochs <= max_epochs:
        raise ValueError(f"min_epochs must be 1..max_epochs ({max_epochs}), got {min_epochs}")
    rungs = []
    epochs = min_epochs
    while epochs < max_epochs:
        rungs.append(epochs)
        epochs *= eta
    if len(rungs) > 1 and max_epochs / rungs[-1] < math.sqrt(eta):
        rungs.pop()
    return (*rungs, max_epochs)


class SuccessiveHalving(Scheduler):
    """ASHA over ``base`` (a strategy whose class has ``multi_fidelity``), with rungs of
    ``epochs`` (``rung_epochs``) and promotion of the top ``1/eta``.

    ``base`` sees each genome's lowest-rung result through ``tell`` (its fitness) and every
    later rung through ``promoted``. The run ends when ``base`` is done and nothing in flight
    can make another genome promotable.
    """

    name = "asha"

    def __init__(self, base: Strategy, epochs: tuple[int, ...], eta: int) -> None:
        super().__init__(base)
        self.epochs = tuple(epochs)
        self.eta = eta
        self.results: list[dict[str, float | None]] = [{} for _ in self.epochs]
        """Per rung: genome id -> its fitness there (None: that training failed)."""
        self.promoted: list[set[str]] = [set() for _ in self.epochs]  # type: ignore[assignment]
        self.genomes: dict[str, Genome] = {}
        self.in_flight = 0
        self.base_done = False

    # -- ask / tell ---------------------------------------------------------------------------

    def ask(self) -> Proposal | Signal:
        for rung in reversed(range(len(self.epochs) - 1)):
            chosen = self._promotable(rung)
            if chosen is not None:
                self.promoted[rung].add(chosen)
                self.in_flight += 1
                return Proposal(self.genomes[chosen], self._at(rung + 1))
        if not self.base_done:
            proposal = self.base.ask()
            self.generation = self.base.generation
            if proposal is WAIT:
                return WAIT
            if proposal is not DONE:
                genome = proposal.genome if isinstance(proposal, Proposal) else proposal
                assert isinstance(genome, Genome)
                self.genomes[genome.id] = genome
                self.in_flight += 1
                return Proposal(genome, self._at(0))
            self.base_done = True
        if self.in_flight:
            return WAIT
        self.stop_reason = self.base.stop_reason or "the strategy finished"
        return DONE

    def _at(self, rung: int) -> TrainingRequest:
        """The training of ``rung``: to its epochs, from the rung below's saved state."""
        below = self.epochs[rung - 1] if rung else 0
        return TrainingRequest(epochs=self.epochs[rung], initial_epoch=below, rung=rung)

    def _promotable(self, rung: int) -> str | None:
        """The best genome of ``rung`` in its top ``1/eta`` that was not promoted yet."""
        results = self.results[rung]
        top = len(results) // self.eta
        if not top:
            return None
        ranked = sorted(results, key=lambda gid: -score(results[gid], self.direction))
        for gid in ranked[:top]:
            if gid not in self.promoted[rung] and results[gid] is not None:
                return gid
        return None

    def tell(self, genome: Genome, fitness: float | None) -> None:
        self.tell_proposal(Proposal(genome, self._at(0)), fitness)

    def tell_proposal(self, proposal: Proposal, fitness: float | None) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        genome = proposal.genome
        self.genomes.setdefault(genome.id, genome)
        rung = proposal.request.rung
        self.results[rung][genome.id] = fitness
        if rung == 0:
            self.base.tell(genome, fitness)
        else:
            self.base.promoted(genome, rung, fitness)

    @property
    def full_fidelity(self) -> int:
        return self.epochs[-1]

    # -- effort, state ------------------------------------------------------------------------

    def extend(self, generations: int) -> None:
        self.base.extend(generations)
        self.base_done = False

    def expected(self) -> int | None:
        """The base's genomes, plus the promotions successive halving would make of them."""
        first = self.base.expected()
        if first is None:
            return None
        return round(sum(first / self.eta**k for k in range(len(self.epochs))))

    def state_dict(self) -> dict[str, Any]:
        return {
            "name": "asha",
            "base": self.base.state_dict(),
            "epochs": list(self.epochs),
            "eta": self.eta,
            "results": [dict(r) for r in self.results],
            "promoted": [sorted(p) for p in self.promoted],
            "genomes": {gid: g.to_dict() for gid, g in self.genomes.items()},
            "in_flight": self.in_flight,
            "base_done": self.base_done,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("name") != "asha" or list(state["epochs"]) != list(self.epochs):
            raise ValueError("the checkpoint was not written by this multi-fidelity schedule")
        super().load_state_dict(state["base"])
        self.results = [dict(r) for r in state["results"]]
        self.promoted = [set(p) for p in state["promoted"]]
        self.genomes = {gid: Genome.from_dict(g) for gid, g in state["genomes"].items()}
        self.in_flight = state["in_flight"]
        self.base_done = state["base_done"]
