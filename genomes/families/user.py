"""A user's own network: ``build(genes, input_shape, num_outputs) -> keras.Model``.

The function gets every gene of the space (a per-layer gene as a list, one allele per layer),
the shape of one preprocessed sample and the number of outputs (classes for multiclass, 1 for
binary, target columns for regression); it may also take a ``seed`` keyword. It returns a
``keras.Model``, compiled or not: an uncompiled one is compiled by the engine with the task's
loss and metrics and the training genes. The data's preprocessing layers are put in front of it,
so the exported model takes raw inputs. An optional ``canonical(genes) -> genes`` beside it (in
the same module) merges equivalent genomes. This is KerasTuner's "hypermodel" contract.
"""

from __future__ import annotations

import contextlib
import dis
import hashlib
import importlib
import inspect
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from genomes.families.base import InputSpec, OutputSpec, Param, check_alleles
from genomes.genes import Allele, GeneError
from genomes.space import SearchSpace

SIGNATURE = "build(genes, input_shape, num_outputs)"


class BuildError(ValueError):
    """A user's build function cannot be used; the message is one line."""


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence what native code writes to file descriptor 2 (TensorFlow's start-up lines when
    a user's module imports Keras in the parent); Python's own errors are exceptions."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def import_function(path: str, what: str = "model.family") -> Callable[..., Any]:
    """Import ``package.module:function``; ``BuildError`` (one line) when it cannot be."""
    module, sep, name = path.partition(":")
    if not sep or not module or not name:
        raise BuildError(f"{what} = {path!r}: use cnn, mlp, or package.module:function")
    if os.getcwd() not in sys.path:  # as `python -m` would: the folder you run from
        sys.path.insert(0, os.getcwd())
    try:
        with quiet_native_stderr():
            found: Any = importlib.import_module(module)
    except Exception as exc:
        raise BuildError(
            f"{what} = {path!r}: cannot import {module} ({type(exc).__name__}: {exc}); run from "
            "the folder that holds it, or put that folder on PYTHONPATH"
        ) from None
    for part in name.split("."):
        if not hasattr(found, part):
            raise BuildError(f"{what} = {path!r}: {module} has no '{name}'")
        found = getattr(found, part)
    if not callable(found):
        raise BuildError(f"{what} = {path!r} is not a function")
    return found


def check_signature(function: Callable[..., Any], label: str) -> bool:
    """``BuildError`` unless ``function`` takes ``(genes, input_shape, num_outputs)``; returns
    whether it also takes ``seed``."""
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    values = list(params.values())
    positional = [p for p in values if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = any(p.kind == p.VAR_POSITIONAL for p in values)
    required = [p for p in positional if p.default is p.empty]
    if (len(positional) < 3 and not varargs) or len(required) > 3:
        shown = str(inspect.signature(function))
        raise BuildError(f"the build function {label} must be {SIGNATURE}; it takes {shown}")
    return "seed" in params or any(p.kind == p.VAR_KEYWORD for p in values)


def code_digest(function: Callable[..., Any]) -> str:
    """A short digest of a function's instructions with their values (nested functions too;
    docstring and line numbers aside): the same for the same code defined in a script or
    imported from a module, different once the code changes (or Python's version does), so a
    resumed run knows it got the function it started with."""

    def canonical(code: Any) -> tuple[Any, ...]:
        return tuple(
            (i.opname, canonical(i.argval) if inspect.iscode(i.argval) else repr(i.argval))
            for i in dis.get_instructions(code)
        )

    code = getattr(function, "__code__", None)
    if code is None:
        return ""
    return hashlib.sha256(repr(canonical(code)).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class UserFamily:
    """The family of a user's build function (``path``: ``module:function`` or ``python``)."""

    function: Callable[..., Any]
    path: str
    canonical_rule: Callable[[dict[str, Allele]], dict[str, Allele]] | None = None
    name: str = "user"
    needs: str = ""

    @property
    def label(self) -> str:
        return self.path if self.path != "python" else getattr(self.function, "__name__", "?")

    def check(self, space: SearchSpace, training: Mapping[str, Param]) -> None:
        """Every gene reaches the function; only the training genes' alleles are checked."""
        check_alleles(f"{self.label}", space.genes, training, space)

    def canonical(self, genes: dict[str, Allele]) -> dict[str, Allele]:
        if self.canonical_rule is None:
            return genes
        result = self.canonical_rule(dict(genes))
        if not isinstance(result, Mapping) or set(result) != set(genes):
            raise GeneError(f"canonical() beside {self.label} must return the genes it is given")
        return dict(result)

    def build(
        self, genes: Mapping[str, Any], inputs: InputSpec, outputs: OutputSpec, seed: int
    ) -> Any:
        """The user's model with the data's preprocessing in front (``BuildError`` if the
        function returns no Keras model)."""
        import keras

        takes_seed = check_signature(self.function, self.label)
        args = (dict(genes), tuple(inputs.shape), outputs.units)
        model = self.function(*args, seed=seed) if takes_seed else self.function(*args)
        if not isinstance(model, keras.Model):
            raise BuildError(
                f"the build function {self.label} returned {type(model).__name__}, not a "
                "keras.Model"
            )
        if not model.built:  # a Sequential without an Input: build it on the inputs' shape
            model.build((None, *inputs.shape))
        try:
            shape = model.output_shape
        except (AttributeError, ValueError):
            shape = None
        if isinstance(shape, tuple) and shape and shape[-1] != outputs.units:
            raise BuildError(
                f"the model of {self.label} has {shape[-1]} outputs; a {outputs.task} task "
                f"here needs {outputs.units} (num_outputs)"
            )
        if inputs.make is None:
            return model
        raw, features = inputs.tensors()
        whole = keras.Model(raw, model(features), name="genome")
        if getattr(model, "compiled", False):
            whole.compile_from_config(model.get_compile_config())
        return whole
