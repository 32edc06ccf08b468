"""Spending training time where it pays: multi-fidelity (asynchronous successive halving),
median pruning, and a noise-aware final pick. Each wraps or serves any registered strategy;
none is a strategy of its own."""

from evolve.search.fidelity.final_pick import FinalPick, final_plan
from evolve.search.fidelity.pruning import MedianRule
from evolve.search.fidelity.rungs import SuccessiveHalving, rung_epochs

__all__ = [
    "FinalPick",
    "MedianRule",
    "SuccessiveHalving",
    "final_plan",
    "rung_epochs",
]
