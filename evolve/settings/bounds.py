"""The numeric range of every numeric setting, declared once: the config's checks and its JSON
Schema both read this table."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """``low <= value`` (``low < value`` when ``open_low``) and ``value <= high`` (``<`` when
    ``open_high``); ``rule`` completes "<key> must be ..." when it does not hold. ``None``: no
    bound on that side."""

    low: float | None = None
    high: float | None = None
    rule: str = ""
    open_low: bool = False
    open_high: bool = False

    def holds(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        return self.high is None or (value < self.high if self.open_high else value <= self.high)


AT_LEAST_0 = Bound(0, rule="0 or more")
BOUNDS: dict[str, Bound] = {
    "run.seed": AT_LEAST_0,
    "run.workers": Bound(0, rule="0 (automatic) or more"),
    "run.threads": Bound(0, rule="0 (automatic) or more"),
    "run.keep_models": Bound(1, rule="at least 1"),
    "run.workers_per_gpu": Bound(1, rule="at least 1"),
    "run.timeout": Bound(0, rule="0 (none) or more seconds"),
    "run.startup_timeout": Bound(0, rule="above 0 seconds", open_low=True),
    "run.retries_on_death": AT_LEAST_0,
    "run.retries_on_failure": AT_LEAST_0,
    "run.max_failure_share": Bound(0, 1, "in (0, 1]", open_low=True),
    "run.max_evals_per_worker": AT_LEAST_0,
    "run.max_worker_rss_mb": AT_LEAST_0,
    "run.checkpoint_every": Bound(0, rule="0 or more seconds"),
    "search.population": Bound(2, rule="at least 2"),
    "search.generations": Bound(1, rule="at least 1"),
    "search.budget": AT_LEAST_0,
    "data.validation_split": Bound(0, 1, "between 0 and 1", open_low=True, open_high=True),
    "data.test_split": Bound(0, 1, "0 (no test split) or less than 1", open_high=True),
    "training.epochs": Bound(1, rule="at least 1"),
    "training.batch_size": Bound(1, rule="at least 1"),
    "training.patience": AT_LEAST_0,
    "training.final_epochs": AT_LEAST_0,
    "training.learning_rate": Bound(0, rule="above 0", open_low=True),
    "training.weight_decay": AT_LEAST_0,
}
"""The lower (and fractions' upper) bounds; ``MOST`` holds the upper bounds of what this engine
can hold."""

MOST: dict[str, int | float] = {
    "search.population": 1_000_000,
    "search.generations": 1_000_000_000,
    "search.budget": 1_000_000_000_000,
    "search.min_epochs": 1_000_000,
    "search.max_epochs": 1_000_000,
    "search.eta": 1_000_000,
    "training.epochs": 1_000_000,
    "training.final_epochs": 1_000_000,
    "training.patience": 1_000_000,
    "training.batch_size": 1_000_000_000,
    "run.workers": 4096,
    "run.threads": 4096,
    "run.workers_per_gpu": 256,
    "run.keep_models": 1_000_000,
    "run.retries_on_death": 1000,
    "run.retries_on_failure": 1000,
    "run.max_evals_per_worker": 1_000_000_000,
    "run.max_worker_rss_mb": 1 << 30,
    "run.timeout": 1e9,
    "run.startup_timeout": 1e9,
    "run.checkpoint_every": 1e9,
}
"""Upper bounds of the numeric settings: past them a run would fail later with a traceback
(a population's arrays, a timer's limit) or start thousands of processes; each is far above
any real run (a timeout of 1e9 s is 31 years)."""
