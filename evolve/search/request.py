"""``TrainingRequest``: what one training is asked to do, one value from the strategy's
proposal to the record.

A strategy decides *what* to train (a genome); the schedulers around it (``schedulers``)
decide *how far*: the rung and epochs of a multi-fidelity run, a final-pick repeat, the
median rule's limits. The request carries all of that, whole, through the loop (``Trial``),
to the worker, which hands the fitness the keywords it declares (``keywords``), and into the
record (``rung``, ``fidelity``, ``initial_epoch``, ``repeat``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class TrainingRequest:
    """How far to train one genome.

    ``epochs``: the epoch to reach (0: the problem's own training, full fidelity).
    ``initial_epoch``: epochs an earlier rung already trained, whose saved state (weights and
    optimizer) the training continues from (Keras' ``fit(initial_epoch=...)``).
    ``rung``: the multi-fidelity rung's number (0: the first, or no rungs).
    ``repeat``: 0 for a genome's first training at this fidelity, ``n`` for its n-th
    re-evaluation with a new seed (never answered from the cache, never saved).
    ``prune``: the median rule's limits (``MedianRule.limits``): the training stops at the
    first epoch whose objective is worse than the median there; ``None``: trains in full.
    """

    epochs: int = 0
    initial_epoch: int = 0
    rung: int = 0
    repeat: int = 0
    prune: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)

    def keywords(self) -> dict[str, Any]:
        """The fitness keywords this request sets (``epochs``, ``initial_epoch``, ``repeat``,
        ``prune``): those left at their defaults are not given."""
        given = {"epochs": self.epochs, "initial_epoch": self.initial_epoch,
                 "repeat": self.repeat, "prune": self.prune}  # fmt: skip
        return {k: v for k, v in given.items() if v}

    def pruned_by(self, limits: Mapping[str, Any] | None) -> TrainingRequest:
        """This request with the median rule's ``limits`` (a repeat always trains in full)."""
        return self if self.repeat or limits is None else replace(self, prune=dict(limits))

    def to_json(self) -> dict[str, Any]:
        """The keys that are set, as a record or a checkpoint writes them (``epochs`` as
        ``fidelity``: the journal's name since its first version)."""
        data = {
            "rung": self.rung, "fidelity": self.epochs, "initial_epoch": self.initial_epoch,
            "repeat": self.repeat, "prune": dict(self.prune) if self.prune else None,
        }  # fmt: skip
        return {k: v for k, v in data.items() if v}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrainingRequest:
        """The request of a record or a checkpoint entry (keys missing: not set)."""
        prune = data.get("prune")
        return cls(
            epochs=int(data.get("fidelity", 0)), initial_epoch=int(data.get("initial_epoch", 0)),
            rung=int(data.get("rung", 0)), repeat=int(data.get("repeat", 0)),
            prune=dict(prune) if isinstance(prune, Mapping) else None,
        )  # fmt: skip


FULL = TrainingRequest()
"""A full training: the problem's own epochs, no rung, no repeat, no pruning."""
