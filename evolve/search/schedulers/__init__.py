"""Spending training time where it pays, around any strategy: asynchronous successive halving
(``SuccessiveHalving``, multi-fidelity), the median stopping rule (``MedianStopping``) and a
noise-aware final pick (``FinalPick``). Each is a ``Scheduler``: it wraps a strategy and
decides how far its genomes train (``TrainingRequest``); none chooses genomes of its own."""

from evolve.search.schedulers.asha import SuccessiveHalving, rung_epochs
from evolve.search.schedulers.base import Scheduler
from evolve.search.schedulers.final_pick import FinalPick, final_plan
from evolve.search.schedulers.median import MedianRule, MedianStopping

__all__ = [
    "FinalPick",
    "MedianRule",
    "MedianStopping",
    "Scheduler",
    "SuccessiveHalving",
    "final_plan",
    "rung_epochs",
]
