"""How a setting is declared, once: ``Setting`` (default, help, choices, numeric ``Bound``,
command-line flag, Python keyword, whether a resume may change it), its checks and their
one-line errors. Used for a strategy's own settings (``evolve.search``) and for every key of
the run's config (``evolve.settings.sections``); imports nothing of the engine."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


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
AUTO_0 = Bound(0, rule="0 (automatic) or more")
AT_LEAST_1 = Bound(1, rule="at least 1")
SECONDS = Bound(0, rule="0 (none) or more seconds")
SEED_MOST = 2**32 - 1
"""The largest seed NumPy and Keras take (``np.random.seed``)."""



class SettingError(ValueError):
    """A setting has an unknown name, a wrong type, or a value out of range; one line."""


@dataclass(frozen=True)
class Setting:
    """One named setting, declared once: its default, what it means, what it allows, and
    where it appears. From it come the config's check and one-line error, its JSON Schema
    entry, its command-line flag, its Python keyword and whether a resume may change it.

    ``choices`` lists the allowed values; ``bound`` the numeric range (its ``rule`` completes
    "<name> must be ..."), ``most`` the largest value the engine can hold; ``check`` and
    ``rule`` any other test. ``flag``: the command line's ``--flag`` ("" for none).
    ``keyword``: ``evolve.optimize`` and ``search_keras`` take it among their ``**settings``.
    ``resume``: ``"free"`` (a resume may change it), ``"fixed"`` (part of what a checkpoint
    depends on: a resume that changes it is refused), ``"fixed_if_set"`` (fixed, but recorded
    only when it differs from the default: a setting added after runs were saved, so that
    those still resume).
    """

    name: str
    default: Any
    help: str
    choices: Sequence[Any] | None = None
    check: Callable[[Any], bool] | None = None
    rule: str = ""
    bound: Bound | None = None
    most: float | None = None
    flag: str = ""
    keyword: bool = False
    resume: str = "free"

    def parse(self, value: Any, where: str = "") -> Any:
        """``value`` checked against the default's type, the choices and the rule.

        An int is accepted for a float setting. Raises ``SettingError`` naming ``where.name``.
        """
        key = f"{where}.{self.name}" if where else self.name
        value = coerce(key, value, self.default)
        if self.choices is not None and value not in self.choices:
            raise SettingError(
                f"{key} = {value!r} is not one of: {', '.join(map(str, self.choices))}"
                + suggest(str(value), [str(c) for c in self.choices], listed=True)
            )
        problem = self.problem(key, value)
        if problem:
            raise SettingError(problem)
        return value

    def problem(self, key: str, value: Any) -> str:
        """What is wrong with ``value`` (of the right type) for ``key``, in one line: out of
        its ``bound``, past what the engine can hold (``most``), or failing ``check``; ""
        when nothing is."""
        if self.bound is not None and not self.bound.holds(value):
            return f"{key} must be {self.bound.rule}, got {value!r}"
        if self.most is not None and value > self.most:
            return (f"{key} = {_number(value)} is more than this engine can hold: "
                    f"at most {_number(self.most)}")  # fmt: skip
        if self.check is not None and not self.check(value):
            return f"{key} must be {self.rule}, got {value!r}"
        return ""


def coerce(key: str, value: Any, like: Any) -> Any:
    """``value`` if it has the type of ``like`` (a bool is not a number; an int is a float);
    ``like`` None accepts any number. Raises ``SettingError``."""
    if like is None or (isinstance(like, float) and not isinstance(like, bool)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value, kind = (float(value) if ok else value), "float"
    elif isinstance(like, bool):
        ok, kind = isinstance(value, bool), "bool"
    elif isinstance(like, int):
        ok, kind = isinstance(value, int) and not isinstance(value, bool), "int"
    else:
        ok, kind = isinstance(value, str), "str"
    if not ok:
        raise SettingError(f"{key} must be {kind}, got {value!r}")
    return value


def suggest(word: str, options: Sequence[str], listed: bool = False) -> str:
    """`` (did you mean 'x'?)`` for a near miss, else the known names (unless ``listed``)."""
    close = difflib.get_close_matches(word, list(options), n=1)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return "" if listed else f" (known: {', '.join(options)})"


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"
