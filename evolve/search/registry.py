"""Where strategies are found: each registers itself, with its settings, where it is defined.

A strategy is a ``Strategy`` subclass decorated with ``@register``; its class attributes say
its ``name``, a one-line ``summary``, the ``settings`` it reads (``Setting``: default, help,
allowed values) and the pip ``extra`` it needs. The config's choices, the command line's help
and every "known: ..." message come from here, so adding a strategy is one new file in
``evolve/search/`` (every module there is imported on first use of the registry).
In the spirit of nevergrad's registration of optimizers where they are defined.

A strategy of your own needs no file here: name it ``"package.module:Class"`` wherever a
strategy is named (``[search] strategy``, ``--strategy``, ``evolve.optimize(strategy=...)``),
or publish it from an installed package under the entry point group ``ENTRY_POINTS``
(``[project.entry-points."keras_evolve.strategies"] name = "package.module:Class"``).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evolve.declare import Setting, SettingError, coerce, suggest

__all__ = ["Setting", "SettingError", "coerce", "suggest"]

if TYPE_CHECKING:
    from evolve.search.base import Strategy
    from genomes.space import SearchSpace


_REGISTRY: dict[str, type[Strategy]] = {}
_LOADED = False
ENTRY_POINTS = "keras_evolve.strategies"
"""The entry point group of strategies published by installed packages."""


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make ``cls`` known under ``cls.name``. Raises ``ValueError`` when the
    name is taken by another class or a setting clashes with a common one."""
    from evolve.search.base import COMMON_SETTINGS

    known = _REGISTRY.get(cls.name)
    if known is not None and known is not cls:
        raise ValueError(f"strategy '{cls.name}' is registered twice")
    common = {s.name for s in COMMON_SETTINGS}
    clash = [s.name for s in cls.settings if s.name in common]
    if clash:
        raise ValueError(f"strategy '{cls.name}' redefines the common setting {clash[0]}")
    _REGISTRY[cls.name] = cls
    return cls


def _load() -> None:
    """Import every strategy module of this package once, so that each registers itself."""
    global _LOADED
    if _LOADED:
        return
    import evolve.search as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") and info.name not in (
            "base",
            "registry",
            "operators",
            "fidelity",
        ):
            importlib.import_module(f"evolve.search.{info.name}")
    _LOADED = True
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINTS):
        if point.name not in _REGISTRY:
            with contextlib.suppress(SettingError):  # a broken plug-in is named when used
                _REGISTRY[point.name] = load_strategy(point.value, point.name)


def load_strategy(spec: str, name: str = "") -> type[Strategy]:
    """The ``Strategy`` subclass that ``spec`` ("package.module:Class") names, registered as
    ``name`` (default: ``spec``). ``SettingError`` (one line) when the module does not import,
    has no such attribute, or it is not a ``Strategy`` subclass."""
    from evolve.search.base import Strategy

    module, _, attribute = spec.partition(":")
    if not module or not attribute:
        raise SettingError(f"strategy '{spec}' must be 'package.module:Class'")
    if os.getcwd() not in sys.path:  # as `python -m` would (and as a build function is found)
        sys.path.insert(0, os.getcwd())
    try:
        found = getattr(importlib.import_module(module), attribute)
    except ImportError as exc:
        raise SettingError(f"strategy '{spec}': cannot import {module} ({exc})") from None
    except AttributeError:
        raise SettingError(f"strategy '{spec}': {module} has no {attribute}") from None
    if not (isinstance(found, type) and issubclass(found, Strategy)):
        raise SettingError(
            f"strategy '{spec}': {attribute} is not a subclass of evolve.search.Strategy"
        )
    common = {s.name for s in _common()}
    clash = [s.name for s in found.settings if s.name in common]
    if clash:
        raise SettingError(f"strategy '{spec}' redefines the common setting {clash[0]}")
    _REGISTRY[name or spec] = found
    return found


def _common() -> Sequence[Setting]:
    from evolve.search.base import COMMON_SETTINGS

    return COMMON_SETTINGS


def strategies() -> dict[str, type[Strategy]]:
    """Every registered strategy class by name, in a stable order (built-ins first)."""
    _load()
    return dict(sorted(_REGISTRY.items(), key=lambda item: (item[1].order, item[0])))


def strategy_class(name: str) -> type[Strategy]:
    """The class registered as ``name``; ``SettingError`` with a suggestion otherwise."""
    known = strategies()
    if name not in known and ":" in name:
        return load_strategy(name)
    if name not in known:
        raise SettingError(f"unknown strategy '{name}'" + suggest(name, list(known)))
    return known[name]


def strategy_settings() -> dict[str, Setting]:
    """Every strategy-specific setting of every registered strategy, by name."""
    table: dict[str, Setting] = {}
    for cls in strategies().values():
        for setting in cls.settings:
            table.setdefault(setting.name, setting)
    return table


def make_strategy(
    name: str, space: SearchSpace, direction: str, seed: int, **params: Any
) -> Strategy:
    """Build the strategy registered as ``name``.

    ``params`` are the common settings (``population``, ``generations``, ``budget``) and any
    strategy's own settings; those of other strategies are accepted and ignored (one config
    serves every strategy), an unknown name is an error. Every value is checked
    (``SettingError``, one line) before the strategy is built.
    """
    cls = strategy_class(name)
    values = cls.validate(params)
    if cls.__module__.startswith("evolve.search."):
        return cls(space, direction, seed, **values)
    try:  # a strategy of yours: its error is one line
        return cls(space, direction, seed, **values)
    except Exception as exc:
        why = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise SettingError(f"strategy '{name}' could not be built: {why}") from None
