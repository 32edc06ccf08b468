"""Gene types: each gene is a named, finite, ordered set of alleles.

Every gene is discrete (a step or a factor gives its resolution), so a search space can be
counted, enumerated as a grid, deduplicated, and mutated to a *different* allele.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

Allele = bool | int | float | str

MAX_ALLELES = 1_000_000
"""Alleles one gene may have: every gene is listed in memory, and a search can only try a few
thousand genomes anyway. A finer gene is refused at load with its count."""


class GeneError(ValueError):
    """A gene declaration or allele is invalid; the message names the gene."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(allele: Allele, value: Any) -> bool:
    """Equal as alleles: same kind (a bool is not a number here), floats within rounding."""
    if _is_number(allele) and _is_number(value):
        return allele == value or math.isclose(float(allele), float(value), rel_tol=1e-9,
                                               abs_tol=1e-12)
    return type(allele) is type(value) and allele == value


def _clean(value: float) -> float:
    """Round away float noise so 0.1 * 3 is stored as 0.3."""
    return float(round(value, 12))


@dataclass(frozen=True)
class Gene:
    """A named gene with an ordered tuple of alleles."""

    name: str
    alleles: tuple[Allele, ...] = field(repr=False)

    kind = "gene"

    def __len__(self) -> int:
        return len(self.alleles)

    def sample(self, rng: np.random.Generator) -> Allele:
        """One allele, uniformly at random."""
        return self.alleles[int(rng.integers(len(self.alleles)))]

    @cached_property
    def _positions(self) -> dict[tuple[type, Any], int]:
        return {(type(a), a): i for i, a in enumerate(self.alleles)}

    def index(self, value: Any) -> int:
        """Position of ``value`` among the alleles; a clear error if it is not one of them."""
        try:
            return self._positions[(type(value), value)]
        except (KeyError, TypeError):  # not stored exactly as given (0.30000000000000004)
            pass
        for i, allele in enumerate(self.alleles):
            if _same(allele, value):
                return i
        shown = ", ".join(repr(a) for a in self.alleles[:8])
        more = ", ..." if len(self.alleles) > 8 else ""
        raise GeneError(f"gene '{self.name}': {value!r} is not one of its alleles ({shown}{more})")

    def normalise(self, value: Any) -> Allele:
        """The stored allele equal to ``value`` (e.g. 0.30000000000000004 -> 0.3)."""
        return self.alleles[self.index(value)]

    def other(self, value: Allele, rng: np.random.Generator) -> Allele:
        """A random allele different from ``value`` (the same one if the gene has only one)."""
        if len(self.alleles) == 1:
            return self.alleles[0]
        i = self.index(value)
        j = int(rng.integers(len(self.alleles) - 1))
        return self.alleles[j + 1 if j >= i else j]

    def describe(self) -> dict[str, Any]:
        """The declaration as it would appear in a TOML config."""
        return {"type": "choice", "values": list(self.alleles)}

    @property
    def note(self) -> str:
        """A surprise in the declaration worth a warning (a bound the step cannot reach)."""
        return ""


class Choice(Gene):
    """Categorical choice among listed values."""

    kind = "choice"


class IntRange(Gene):
    """Integers from ``min`` to ``max`` inclusive, every ``step``."""

    kind = "int"
    _decl: dict[str, Any]
    """The declaration as written (``describe``)."""

    def __init__(self, name: str, min: int, max: int, step: int = 1) -> None:
        _require_ints(name, min=min, max=max, step=step)
        _require_order(name, min, max, step)
        _require_count(name, (max - min) // step + 1, f"step {step}")
        super().__init__(name, tuple(range(min, max + 1, step)))
        object.__setattr__(self, "_decl", {"type": "int", "min": min, "max": max, "step": step})

    def describe(self) -> dict[str, Any]:
        return dict(self._decl)

    @property
    def note(self) -> str:
        return _unreached(self, self._decl["max"], f"step {self._decl['step']}")


class FloatRange(Gene):
    """Floats from ``min`` to ``max`` inclusive, every ``step``."""

    kind = "float"
    _decl: dict[str, Any]
    """The declaration as written (``describe``)."""

    def __init__(self, name: str, min: float, max: float, step: float) -> None:
        _require_numbers(name, min=min, max=max, step=step)
        _require_order(name, min, max, step)
        count = math.floor((max - min) / step * (1 + 1e-12) + 1e-9) + 1
        _require_count(name, count, f"step {step:g}")
        super().__init__(name, tuple(_clean(min + i * step) for i in range(count)))
        object.__setattr__(self, "_decl", {"type": "float", "min": min, "max": max, "step": step})

    def describe(self) -> dict[str, Any]:
        return dict(self._decl)

    @property
    def note(self) -> str:
        return _unreached(self, self._decl["max"], f"step {self._decl['step']:g}")


class LogRange(Gene):
    """Floats from ``min`` to ``max`` on a log scale: multiplied by ``factor`` each step."""

    kind = "log"
    _decl: dict[str, Any]
    """The declaration as written (``describe``)."""

    def __init__(self, name: str, min: float, max: float, factor: float = 10.0) -> None:
        _require_numbers(name, min=min, max=max, factor=factor)
        if min <= 0:
            raise GeneError(f"gene '{name}': a log range needs min > 0, got {min}")
        if factor <= 1:
            raise GeneError(f"gene '{name}': factor must be > 1, got {factor}")
        _require_order(name, min, max, 1)
        count = math.floor(math.log(max / min) / math.log(factor) * (1 + 1e-12) + 1e-9) + 1
        _require_count(name, count, f"factor {factor:g}")
        values = tuple(float(f"{min * factor**i:.12g}") for i in range(count))
        super().__init__(name, values)
        object.__setattr__(self, "_decl", {"type": "log", "min": min, "max": max, "factor": factor})

    def describe(self) -> dict[str, Any]:
        return dict(self._decl)

    @property
    def note(self) -> str:
        return _unreached(self, self._decl["max"], f"factor {self._decl['factor']:g}")


class Flag(Gene):
    """A boolean switch."""

    kind = "flag"

    def __init__(self, name: str) -> None:
        super().__init__(name, (False, True))

    def describe(self) -> dict[str, Any]:
        return {"type": "flag"}


def _unreached(gene: Gene, declared: float, step: str) -> str:
    last = gene.alleles[-1]
    if _same(last, declared):
        return ""
    return (
        f"gene '{gene.name}': max {declared:g} is not reachable with {step}; "
        f"the largest allele is {last:g}"
    )


def _require_count(name: str, count: int, resolution: str) -> None:
    if count > MAX_ALLELES:
        raise GeneError(
            f"gene '{name}' would have {count:,} alleles ({resolution}); at most "
            f"{MAX_ALLELES:,}: use a larger step, or a log range"
        )


def _require_numbers(name: str, **values: Any) -> None:
    for key, value in values.items():
        if not _is_number(value):
            raise GeneError(f"gene '{name}': {key} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise GeneError(f"gene '{name}': {key} must be a finite number, got {value!r}")


def _require_ints(name: str, **values: Any) -> None:
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise GeneError(f"gene '{name}': {key} must be an integer, got {value!r}")


def _require_order(name: str, low: float, high: float, step: float) -> None:
    if step <= 0:
        raise GeneError(f"gene '{name}': step must be > 0, got {step}")
    if low > high:
        raise GeneError(f"gene '{name}': min ({low}) is greater than max ({high})")


_KEYS = {
    "choice": ({"values"}, set()),
    "int": ({"min", "max"}, {"step"}),
    "float": ({"min", "max", "step"}, set()),
    "log": ({"min", "max"}, {"factor"}),
    "flag": (set(), set()),
}


def gene_from_config(name: str, decl: Any) -> Gene:
    """Build a gene from its TOML declaration, e.g. ``{type = "int", min = 1, max = 4}``.

    A bare list is shorthand for a choice.
    """
    if isinstance(decl, list):
        decl = {"type": "choice", "values": decl}
    if not isinstance(decl, dict):
        raise GeneError(
            f"gene '{name}': expected a table like {{type = \"choice\", values = [...]}}"
        )
    kind = decl.get("type")
    if kind is None:
        known = ", ".join(_KEYS)
        raise GeneError(f"gene '{name}': its table needs a type (one of: {known})")
    if kind not in _KEYS:
        known = ", ".join(_KEYS)
        raise GeneError(f"gene '{name}': unknown gene type {kind!r} (known: {known})")
    required, optional = _KEYS[kind]
    args = {k: v for k, v in decl.items() if k != "type"}
    unknown = args.keys() - required - optional
    if unknown:
        raise GeneError(
            f"gene '{name}': unknown key(s) {', '.join(sorted(unknown))} for type '{kind}' "
            f"(it takes {', '.join(sorted(required | optional)) or 'no keys'})"
        )
    missing = required - args.keys()
    if missing:
        raise GeneError(f"gene '{name}': type '{kind}' needs {', '.join(sorted(missing))}")
    if kind == "choice":
        values = args["values"]
        if not isinstance(values, list) or not values:
            raise GeneError(f"gene '{name}': a choice needs a non-empty list of values")
        for value in values:
            if not isinstance(value, (bool, int, float, str)):
                raise GeneError(f"gene '{name}': choice values must be scalars, got {value!r}")
        if len(set(map(repr, values))) != len(values):
            raise GeneError(f"gene '{name}': choice values repeat")
        return Choice(name, tuple(values))
    if kind == "int":
        return IntRange(name, **args)
    if kind == "float":
        return FloatRange(name, **args)
    if kind == "log":
        return LogRange(name, **args)
    return Flag(name)
