"""Model families: what a genome builds. ``cnn`` and ``mlp`` are built in; a user's own build
function (``package.module:function``, or a function given in Python) is a family too.

Every family offers ``check(space, training)`` (unknown genes and bad alleles are one-line
``GeneError``s), ``canonical(genes)`` and ``build(genes, input_spec, output_spec, seed)``.
Importing this package never imports Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genomes.families import cnn, mlp
from genomes.families.base import Family, InputSpec, OutputSpec, Param
from genomes.families.training import TRAINING
from genomes.families.user import BuildError, UserFamily, check_signature, import_function

FAMILIES: dict[str, Family] = {"cnn": cnn.FAMILY, "mlp": mlp.FAMILY}
"""The built-in families by name."""

AnyFamily = Family | UserFamily

__all__ = [
    "FAMILIES",
    "TRAINING",
    "AnyFamily",
    "BuildError",
    "Family",
    "InputSpec",
    "OutputSpec",
    "Param",
    "UserFamily",
    "get_family",
    "user_family",
]


def user_family(function: Callable[..., Any], path: str) -> UserFamily:
    """The family of a user's build function, with ``canonical`` from beside it if defined
    there (its module); ``BuildError`` for a function of the wrong signature."""
    check_signature(function, path if path != "python" else getattr(function, "__name__", path))
    module = __import__("sys").modules.get(getattr(function, "__module__", "") or "")
    rule = getattr(module, "canonical", None) if module is not None else None
    return UserFamily(function, path, rule if callable(rule) else None)


def get_family(spec: str, function: Callable[..., Any] | None = None) -> AnyFamily:
    """The family named ``spec``: ``cnn``, ``mlp``, or ``module:function`` (imported); with
    ``function`` (given in Python), that function whatever ``spec`` says."""
    if function is not None:
        return user_family(function, spec)
    if spec in FAMILIES:
        return FAMILIES[spec]
    if ":" not in spec:
        known = ", ".join(FAMILIES)
        raise BuildError(f"model.family = {spec!r} is not one of: {known}, or module:function")
    return user_family(import_function(spec), spec)
