"""What every model family shares: gene rules, input and output specs, the output layer.

A family declares the genes it reads (``Param``: default, rule, whether it may be per-layer)
and builds ``keras.Model``s from alleles; the engine compiles them (``training.compile_model``).
Keras is imported inside the functions that build, never at import.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from genomes.genes import Allele, Gene, GeneError
from genomes.space import LAYERS, SearchSpace

TASKS = ("multiclass", "binary", "regression")


@dataclass(frozen=True)
class Param:
    """A gene a family reads: its default when the space leaves it out, and its rule.

    ``rule`` is one of ``count`` (a whole number >= 1), ``share`` (in [0, 1)), ``positive``
    (> 0), ``nonnegative`` (>= 0), ``flag`` (true or false) or ``choice`` (one of ``choices``).
    """

    default: Allele
    rule: str
    choices: tuple[str, ...] = ()
    per_layer: bool = False
    """May be declared ``per_layer = true`` (one allele per layer)."""
    why: str = ""
    """Why the rule holds, added to the error (``a learning rate of 0 never learns``)."""
    most: float | None = None
    """The largest value a network can be built with in reasonable time and memory."""

    def problem(self, value: Any) -> str:
        """Why ``value`` is not allowed, in words; empty when it is."""
        if self.rule == "flag":
            return "" if isinstance(value, bool) else "true or false"
        if self.rule == "choice":
            return "" if value in self.choices else f"one of {', '.join(self.choices)}"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value
        ):
            return RULES[self.rule] + (f": {self.why}" if self.why else "")
        ok = {
            "count": value >= 1 and float(value).is_integer(),
            "share": 0 <= value < 1,
            "positive": value > 0,
            "nonnegative": value >= 0,
        }[self.rule]
        if ok and self.most is not None and value > self.most:
            most = f"{self.most:,.0f}" if float(self.most).is_integer() else f"{self.most:g}"
            return f"at most {most}: a network that large does not build in reasonable time"
        return "" if ok else RULES[self.rule] + (f": {self.why}" if self.why else "")


RULES = {
    "count": "a whole number of at least 1",
    "share": "in [0, 1): a dropout of 1 drops every unit",
    "positive": "above 0",
    "nonnegative": "0 or more",
}


@dataclass(frozen=True)
class OutputSpec:
    """What the network predicts: ``task`` (multiclass, binary, regression) and ``units``
    (classes for multiclass, 1 for binary, target columns for regression)."""

    task: str = "multiclass"
    units: int = 10


@dataclass(frozen=True)
class InputSpec:
    """What the network body receives: ``shape`` per sample after preprocessing, and ``kind``
    (image or tabular). ``make`` returns ``(inputs, features)``: the Keras inputs for raw data
    and the preprocessed tensor (the data's preprocessing layers); by default one plain Input."""

    shape: tuple[int, ...]
    kind: str = "image"
    make: Callable[[], tuple[Any, Any]] | None = field(default=None, compare=False)

    def tensors(self) -> tuple[Any, Any]:
        if self.make is not None:
            return self.make()
        import keras

        inputs = keras.Input(shape=self.shape)
        return inputs, inputs


def output_layer(x: Any, spec: OutputSpec, initializer: Any) -> Any:
    """The task's head on ``x``: softmax over the classes, one sigmoid, or linear units."""
    from keras import layers

    if spec.task == "multiclass":
        return layers.Dense(spec.units, activation="softmax", kernel_initializer=initializer)(x)
    if spec.task == "binary":
        return layers.Dense(1, activation="sigmoid", kernel_initializer=initializer)(x)
    return layers.Dense(spec.units, kernel_initializer=initializer, name="prediction")(x)


Builder = Callable[[dict[str, Any], InputSpec, OutputSpec, int], Any]


@dataclass(frozen=True)
class Family:
    """A model family: the genes it reads, its canonical rule, and its builder.

    ``build(genes, input_spec, output_spec, seed)`` gets every gene it reads (defaults filled
    in, a per-layer gene as a list with one allele per layer of the genome, a plain gene that
    may be per-layer repeated for each layer) and returns an uncompiled ``keras.Model``.
    """

    name: str
    params: Mapping[str, Param]
    builder: Builder
    rule: Callable[[dict[str, Allele]], dict[str, Allele]] | None = None
    needs: str = ""
    """The kind of input the family needs ("image"), or empty for any."""
    summary: str = ""

    def check(self, space: SearchSpace, training: Mapping[str, Param]) -> None:
        """``GeneError`` for a gene this family does not read (naming those it reads), a
        per-layer gene it cannot use per layer, or an allele no network can use."""
        known = {**self.params, **training}
        for name in space.base_names:
            if name not in known:
                raise GeneError(
                    f"unknown gene '{name}' for the {self.name} model (its genes: "
                    f"{', '.join(known)})"
                )
        for name in space.per_layer:
            if not known[name].per_layer:
                layered = [n for n, p in known.items() if p.per_layer]
                raise GeneError(
                    f"gene '{name}' cannot be per_layer in the {self.name} model (per-layer "
                    f"genes: {', '.join(layered)})"
                )
        check_alleles(self.name, space.genes, known, space)

    def canonical(self, genes: dict[str, Allele]) -> dict[str, Allele]:
        return self.rule(genes) if self.rule is not None else genes

    def resolved(self, genes: Mapping[str, Any]) -> dict[str, Any]:
        """The builder's view: the family's defaults, then the genome's alleles; a plain gene
        that may be per-layer repeated once per layer."""
        values = {**{k: p.default for k, p in self.params.items()}, **genes}
        depth = int(values.get(LAYERS, 1))
        for name, param in self.params.items():
            if param.per_layer and not isinstance(values[name], list):
                values[name] = [values[name]] * depth
        return values

    def build(
        self, genes: Mapping[str, Any], inputs: InputSpec, outputs: OutputSpec, seed: int
    ) -> Any:
        return self.builder(self.resolved(genes), inputs, outputs, seed)


def check_alleles(
    family: str, genes: Iterable[Gene], params: Mapping[str, Param], space: SearchSpace
) -> None:
    """``GeneError`` naming the gene, the allele and the rule, for any allele outside it."""
    base = {n: name for name, group in space.per_layer.items() for n in group}
    for gene in genes:
        name = base.get(gene.name, gene.name)
        param = params.get(name)
        if param is None:
            continue
        for allele in gene.alleles:
            problem = param.problem(allele)
            if problem:
                raise GeneError(
                    f"gene '{name}': {allele!r} is not allowed for the {family} model ({problem})"
                )


def seeded(seed: int) -> Callable[[], int]:
    """Seeds for a network's initializers and dropout layers, drawn in build order from
    ``seed`` (explicit seeds: Keras would draw them from Python's global ``random``)."""
    seeds = itertools.count(seed * 1000 + 1)  # never runs out, whatever the network's size
    return lambda: next(seeds)
