"""What a fitness returns, made plain JSON values before it reaches the journal.

A user's fitness may return numpy scalars (``np.float32(0.9)``), 0-d arrays, numpy booleans,
tuples or nested dicts of them. Each becomes the plain value JSON writes (``float``, ``int``,
``bool``, ``str``, ``None``, lists and dicts of them); anything else is an error naming the
metric, so the evaluation is recorded as failed and the journal never breaks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class MetricError(TypeError):
    """A metric that has no JSON value; the message names it."""


def plain(value: Any, name: str) -> Any:
    """``value`` as plain JSON data; ``MetricError`` naming ``name`` when it has none.

    A non-finite float (NaN, infinity) becomes ``None``, since strict JSON has neither; the
    objective's own value is checked for finiteness first (a NaN fitness fails the genome).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None  # JSON has no NaN or infinity
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", ()) in ((), None):  # numpy scalar, 0-d array
        try:
            return plain(item(), name)
        except (TypeError, ValueError):
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and getattr(value, "ndim", 0) >= 1:  # a numpy array: nested lists
        return plain(tolist(), name)
    if isinstance(value, Mapping):
        return {str(k): plain(v, f"{name}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{name}[{i}]") for i, v in enumerate(value)]
    raise MetricError(
        f"metric '{name}' is of type {type(value).__name__}, which has no JSON value "
        "(return numbers, strings, booleans, or lists and dicts of them)"
    )


def plain_metrics(metrics: Mapping[Any, Any]) -> dict[str, Any]:
    """Every metric of a fitness's result as plain JSON data (see ``plain``)."""
    return {str(k): plain(v, str(k)) for k, v in metrics.items()}

