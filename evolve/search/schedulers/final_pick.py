"""A noise-aware final pick: the top genomes retrained with new seeds, the best mean named best.

Training noise makes the best observed result a lucky one (the winner's curse of noisy
optimisation; Jin and Branke, "Evolutionary optimization in uncertain environments", IEEE TEC
2005, re-evaluation as the classic remedy). After the wrapped strategy is done, ``FinalPick``
trains each of the ``top`` genomes ``repeats`` more times at full fidelity, each time with a
new seed (the trial's, from its index); ``best_by_mean`` then names the genome with the best
mean over all its full-fidelity trainings.
"""

from __future__ import annotations

from typing import Any

from evolve.search.base import DONE, WAIT, Proposal, Signal, Strategy, score
from evolve.search.request import TrainingRequest
from evolve.search.schedulers.base import Scheduler
from genomes.genome import Genome

SHARE = 0.25
"""``final_plan``'s rule: the re-evaluations take at most this share of the run's trainings."""


def final_plan(requested: int, top: int, expected: int | None) -> tuple[int, int]:
    """``(top, repeats)`` of the final pick. ``requested`` < 0 means automatic: 2 repeats of
    up to ``top`` genomes where they fit in a quarter of the ``expected`` trainings (none for a
    run too small to afford one genome's); 0 turns it off; a number is taken as given."""
    if requested >= 0:
        return (top if requested else 0), requested
    if not expected:
        return 0, 0
    fits = min(top, int(expected * SHARE) // 2)
    return (fits, 2) if fits >= 1 else (0, 0)


class FinalPick(Scheduler):
    """``base`` first; then the ``top`` best genomes at full fidelity (``epochs``: the epochs of
    the top rung, 0 without rungs; ``rung``: its number) re-evaluated ``repeats`` times each.

    With a trainings ``budget``, ``base`` is stopped early enough to leave room for them.
    """

    def __init__(
        self, base: Strategy, top: int, repeats: int, *, epochs: int = 0, rung: int = 0,
        budget: int = 0,
    ) -> None:  # fmt: skip
        super().__init__(base)
        self.top, self.repeats = top, repeats
        self.epochs, self.rung, self.budget = epochs, rung, budget
        self.full: dict[str, float | None] = {}
        """Genome id -> fitness of its first full-fidelity training."""
        self.genomes: dict[str, Genome] = {}
        self.queue: list[tuple[str, int]] = []
        self.retrained: dict[str, int] = {}
        """Genome id -> how many re-evaluations it has had."""
        self.earlier = 0
        """Re-evaluations of the picks before this one (a run extended after its pick)."""
        self.picking = False
        self.planned = False
        self.asked = 0
        self.in_flight = 0

    def ask(self) -> Proposal | Genome | Signal:
        if not self.picking:
            reserve = self.top * self.repeats
            if self.budget and self.asked >= self.budget - reserve:
                self.picking = True
                self.stop_reason = (
                    f"{self.asked} trainings of the budget of {self.budget} spent, {reserve} "
                    "kept for the final pick"
                )
            else:
                proposal = self.base.ask()
                self.generation = self.base.generation
                if proposal is DONE:
                    self.picking = True
                    self.stop_reason = self.base.stop_reason
                elif proposal is WAIT:
                    return WAIT
                else:
                    self.asked += 1
                    self.in_flight += 1
                    return proposal
        if not self.planned:
            if self.in_flight:
                return WAIT  # the top is known once every result is in
            self._plan()
        if self.queue:
            gid, repeat = self.queue.pop(0)
            self.in_flight += 1
            request = TrainingRequest(epochs=self.epochs, rung=self.rung, repeat=repeat)
            return Proposal(self.genomes[gid], request)
        if self.in_flight:
            return WAIT
        return DONE

    def _plan(self) -> None:
        self.planned = True
        ranked = sorted(
            (gid for gid, f in self.full.items() if f is not None),
            key=lambda gid: -score(self.full[gid], self.direction),
        )[: self.top]
        self.queue = [  # numbered on from earlier picks (a run extended after its pick)
            (gid, self.retrained.get(gid, 0) + r)
            for r in range(1, self.repeats + 1) for gid in ranked
        ]  # fmt: skip
        if ranked:
            self.stop_reason += f"; the top {len(ranked)} retrained {self.repeats}x with new seeds"
        else:
            self.stop_reason += "; no genome was trained in full, so there was no final pick"

    def tell_proposal(self, proposal: Proposal, fitness: float | None) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        repeat = proposal.request.repeat
        if repeat:
            gid = proposal.genome.id
            self.retrained[gid] = max(self.retrained.get(gid, 0), repeat)
            return
        self.base.tell_proposal(proposal, fitness)
        if proposal.request.epochs == self.epochs:
            self.genomes[proposal.genome.id] = proposal.genome
            self.full.setdefault(proposal.genome.id, fitness)

    def extend(self, generations: int) -> None:
        self.base.extend(generations)
        self.picking = self.planned = False
        self.queue = []
        self.earlier = sum(self.retrained.values())

    def expected(self) -> int | None:
        """The base's proposals, the earlier picks' re-evaluations and this pick's."""
        first = self.base.expected()
        return None if first is None else first + self.earlier + self.top * self.repeats

    def state_dict(self) -> dict[str, Any]:
        return {
            "name": "final_pick",
            "base": self.base.state_dict(),
            "top": self.top,
            "repeats": self.repeats,
            "full": dict(self.full),
            "genomes": {gid: g.to_dict() for gid, g in self.genomes.items()},
            "queue": [list(q) for q in self.queue],
            "retrained": dict(self.retrained),
            "earlier": self.earlier,
            "picking": self.picking,
            "planned": self.planned,
            "asked": self.asked,
            "in_flight": self.in_flight,
            "stop_reason": self.stop_reason,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("name") != "final_pick":
            raise ValueError("the checkpoint was not written with a final pick")
        super().load_state_dict(state["base"])
        self.full = dict(state["full"])
        self.genomes = {gid: Genome.from_dict(g) for gid, g in state["genomes"].items()}
        self.queue = [(gid, int(r)) for gid, r in state["queue"]]
        self.retrained = dict(state.get("retrained", {}))
        self.earlier = int(state.get("earlier", 0))
        self.picking, self.planned = state["picking"], state["planned"]
        self.asked, self.in_flight = state["asked"], state["in_flight"]
        self.stop_reason = state["stop_reason"]
