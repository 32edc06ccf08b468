"""Search strategies behind one ask/tell interface, found through a registry.

Each module of this package that defines a strategy registers it (``@register``); see
``evolve.search.registry``. Importing this package imports no strategy's optional dependency.
"""

from __future__ import annotations

from evolve.search.base import COMMON_SETTINGS, DONE, WAIT, Proposal, Signal, Strategy, score
from evolve.search.registry import (
    Setting,
    SettingError,
    make_strategy,
    register,
    strategies,
    strategy_class,
    strategy_settings,
)
from evolve.search.request import TrainingRequest

__all__ = [
    "COMMON_SETTINGS",
    "DONE",
    "WAIT",
    "Proposal",
    "Setting",
    "SettingError",
    "Signal",
    "Strategy",
    "TrainingRequest",
    "make_strategy",
    "register",
    "score",
    "strategies",
    "strategy_class",
    "strategy_settings",
]
