"""The numeric range of every numeric setting, read from its one declaration
(``sections``, ``evolve.declare.Setting``): the config's checks and its JSON Schema both read
these tables."""

from __future__ import annotations

from evolve.declare import Bound
from evolve.settings.declaring import declared
from evolve.settings.sections import Config

SETTINGS = declared(Config)
"""Every setting of the config, by key (``"training.epochs"``)."""

BOUNDS: dict[str, Bound] = {k: s.bound for k, s in SETTINGS.items() if s.bound is not None}
"""The lower (and fractions' upper) bounds; ``MOST`` holds the upper bounds of what this engine
can hold."""

MOST: dict[str, float] = {k: s.most for k, s in SETTINGS.items() if s.most is not None}
"""Upper bounds of the numeric settings: past them a run would fail later with a traceback
(a population's arrays, a timer's limit) or start thousands of processes; each is far above
any real run (a timeout of 1e9 s is 31 years)."""
