"""Telling results to the strategy: as they arrive, or in ask order (``ordered``).

In ordered mode each ask sees exactly the results of the genomes asked ``workers`` places
before it, so a steady-state run repeats exactly for a fixed worker count.
"""

from __future__ import annotations

from collections.abc import Callable

from evolve.engine.failures import strategy_call
from evolve.engine.records import Record, Trial
from evolve.engine.resume import Ledger
from evolve.search.base import Proposal, Strategy


class Teller:
    """Tells the strategy the results buffered in the ledger."""

    def __init__(self, strategy: Strategy, ledger: Ledger, workers: int, ordered: bool) -> None:
        self.strategy = strategy
        self.ledger = ledger
        self.workers = workers
        self.ordered = ordered

    def ready(self, force: bool) -> None:
        """Tell buffered results: all of them, or (ordered) those next in ask order, the ones
        at least ``workers`` places back unless ``force``."""
        ledger = self.ledger
        if not self.ordered:
            for index in sorted(ledger.buffer):
                self._tell(*ledger.buffer.pop(index))
            return
        while ledger.next_tell in ledger.buffer and (
            force or ledger.next_tell <= ledger.next_index - self.workers
        ):
            self._tell(*ledger.buffer.pop(ledger.next_tell))
            ledger.next_tell += 1

    def through(self, last: int, collect: Callable[[], None]) -> None:
        """Ordered mode: tell every result up to ask index ``last``; ``collect`` waits for more
        results (and raises when none is in flight)."""
        ledger = self.ledger
        while ledger.next_tell <= last:
            if ledger.next_tell in ledger.buffer:
                self._tell(*ledger.buffer.pop(ledger.next_tell))
                ledger.next_tell += 1
            else:
                collect()

    def _tell(self, trial: Trial, record: Record) -> None:
        proposal = Proposal(trial.genome, trial.request)
        fitness = record.fitness if record.succeeded else None
        strategy_call(self.strategy.name, "tell",
                      lambda: self.strategy.tell_proposal(proposal, fitness))  # fmt: skip
