"""A search space: ordered genes, sampling, grid enumeration and validation.

A gene declared ``per_layer = true`` holds one allele per possible layer (DEvol's encoding):
``filters = {type = "choice", values = [16, 32], per_layer = true}`` beside
``layers = {type = "int", min = 1, max = 3}`` becomes the genes ``filters_1``, ``filters_2`` and
``filters_3``. They cross over and mutate like any gene; the alleles of layers beyond a genome's
``layers`` are inert, so the canonical rule sets them to the gene's first allele and equivalent
networks share an id. ``resolved`` gives a builder the active alleles as one list per gene.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from genomes.genes import Allele, Gene, GeneError, gene_from_config
from genomes.genome import Genome, genome_id

Canonicaliser = Callable[[dict[str, Allele]], dict[str, Allele]]

LAYERS = "layers"
"""The gene that says how many layers a genome uses; per-layer genes need it."""


def layer_gene(name: str, layer: int) -> str:
    """The name of a per-layer gene's allele for ``layer`` (1-based): ``filters_2``."""
    return f"{name}_{layer}"


def _expand(table: Mapping[str, Any]) -> tuple[list[Gene], dict[str, tuple[str, ...]]]:
    """Genes of a ``[genes]`` table, per-layer declarations expanded one gene per layer."""
    per_layer: dict[str, Any] = {}
    genes: list[Gene | str] = []
    for name, decl in table.items():
        if isinstance(decl, Mapping) and "per_layer" in decl:
            flag = decl["per_layer"]
            decl = {k: v for k, v in decl.items() if k != "per_layer"}
            if not isinstance(flag, bool):
                raise GeneError(f"gene '{name}': per_layer must be true or false, got {flag!r}")
            if flag:
                if name == LAYERS:
                    raise GeneError(f"gene '{LAYERS}' cannot be per_layer: it counts the layers")
                per_layer[name] = gene_from_config(name, decl)
                genes.append(name)
                continue
        genes.append(gene_from_config(name, decl))
    if not per_layer:
        return [g for g in genes if isinstance(g, Gene)], {}
    depth = _max_layers(table, genes, next(iter(per_layer)))
    groups = {name: tuple(layer_gene(name, i) for i in range(1, depth + 1)) for name in per_layer}
    out: list[Gene] = []
    for gene in genes:
        if isinstance(gene, Gene):
            out.append(gene)
            continue
        for layer_name in groups[gene]:
            layer = copy.copy(per_layer[gene])
            object.__setattr__(layer, "name", layer_name)
            out.append(layer)
    return out, groups


def resolve_layers(
    genes: Mapping[str, Allele], per_layer: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """``genes`` with each per-layer group (``filters`` -> ``filters_1``, ``filters_2``...)
    folded into one list holding the alleles of the genome's ``layers``, in gene order."""
    first = {group[0]: name for name, group in per_layer.items()}
    inside = {n for group in per_layer.values() for n in group}
    out: dict[str, Any] = {}
    for name, value in genes.items():
        if name in first:
            base = first[name]
            out[base] = [genes[n] for n in per_layer[base][: int(genes[LAYERS])]]
        elif name not in inside:
            out[name] = value
    return out


def _max_layers(table: Mapping[str, Any], genes: Sequence[Gene | str], first: str) -> int:
    layers = next((g for g in genes if isinstance(g, Gene) and g.name == LAYERS), None)
    if layers is None:
        raise GeneError(
            f"gene '{first}' is per_layer but the space has no '{LAYERS}' gene to say how many "
            "layers a genome uses: declare one, e.g. layers = {type = \"int\", min = 1, max = 3}"
        )
    if not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in layers.alleles):
        raise GeneError(f"gene '{LAYERS}': per-layer genes need whole numbers of at least 1")
    return int(max(layers.alleles))  # type: ignore[arg-type]


class SearchSpace:
    """Ordered genes and the rule that maps alleles to the network they build.

    ``canonical`` rewrites alleles that make no difference into one fixed value (the residual
    flag of a one-layer CNN, say), so that equivalent genomes share an id.
    """

    def __init__(
        self,
        genes: Sequence[Gene],
        canonical: Canonicaliser | None = None,
        per_layer: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        if not genes:
            raise GeneError("the search space declares no genes: add a [genes] table")
        names = [g.name for g in genes]
        if len(set(names)) != len(names):
            raise GeneError("gene names repeat in the search space")
        self.genes: tuple[Gene, ...] = tuple(genes)
        self.by_name: dict[str, Gene] = {g.name: g for g in genes}
        self._canonical = canonical
        self.per_layer: dict[str, tuple[str, ...]] = {
            name: tuple(group) for name, group in (per_layer or {}).items()
        }
        """Per-layer gene -> its genes, layer 1 first (``filters`` -> ``filters_1``, ...)."""
        for group in self.per_layer.values():
            if any(n not in self.by_name for n in group):
                raise GeneError(f"per-layer genes {', '.join(group)} are not all in the space")
        self._layer_of = {n: i for group in self.per_layer.values() for i, n in enumerate(group)}

    @classmethod
    def from_config(
        cls, table: Mapping[str, Any], canonical: Canonicaliser | None = None
    ) -> SearchSpace:
        """Build from the ``[genes]`` table of a TOML config (``per_layer`` genes expanded)."""
        if not isinstance(table, Mapping):
            raise GeneError("[genes] must be a table of gene declarations")
        genes, groups = _expand(table)
        return cls(genes, canonical, groups)

    def to_config(self) -> dict[str, dict[str, Any]]:
        """The ``[genes]`` table: a per-layer gene is one declaration again."""
        table: dict[str, dict[str, Any]] = {}
        for gene in self.genes:
            if gene.name not in self._layer_of:
                table[gene.name] = gene.describe()
        for name, group in self.per_layer.items():
            table[name] = {**self.by_name[group[0]].describe(), "per_layer": True}
        order = {**{g.name: i for i, g in enumerate(self.genes)},
                 **{name: self.names.index(group[0]) for name, group in self.per_layer.items()}}
        return dict(sorted(table.items(), key=lambda item: order[item[0]]))

    @property
    def base_names(self) -> tuple[str, ...]:
        """The declared genes: per-layer ones once, by their declared name."""
        return tuple(self.to_config())

    def resolved(self, genes: Mapping[str, Allele]) -> dict[str, Any]:
        """What a builder reads: plain genes as they are, a per-layer gene as the list of its
        alleles for the genome's layers (``{"layers": 2, "filters": [16, 64], ...}``)."""
        return resolve_layers(genes, self.per_layer)

    @property
    def notes(self) -> list[str]:
        """Warnings about the declarations (a bound that a step cannot reach, ...)."""
        return [g.note for g in self.genes if g.note]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.by_name)

    @property
    def size(self) -> int:
        """Number of grid points (before equivalent genomes are merged)."""
        return math.prod(len(g) for g in self.genes)

    def canonical(self, genes: Mapping[str, Allele]) -> dict[str, Allele]:
        """Alleles with inert ones fixed: those of layers a genome does not use, then the
        family's (or user's) own rule."""
        values = dict(genes)
        if self.per_layer:
            used = int(values[LAYERS])
            for group in self.per_layer.values():
                for name in group[used:]:
                    values[name] = self.by_name[name].alleles[0]
        return self._canonical(values) if self._canonical else values

    def genome(
        self,
        genes: Mapping[str, Any],
        parents: Sequence[str] = (),
        origin: str = "random",
    ) -> Genome:
        """A validated genome: every gene present, every allele one of the gene's."""
        unknown = [k for k in genes if k not in self.by_name]
        if unknown:
            raise GeneError(f"unknown gene '{unknown[0]}' (the space has: {', '.join(self.names)})")
        missing = [n for n in self.names if n not in genes]
        if missing:
            raise GeneError(f"gene '{missing[0]}' is missing from the genome")
        values = {g.name: g.normalise(genes[g.name]) for g in self.genes}
        return Genome(values, genome_id(self.canonical(values)), tuple(parents), origin)

    def from_alleles(
        self, alleles: Sequence[Allele], parents: Sequence[str] = (), origin: str = "random"
    ) -> Genome:
        return self.genome(dict(zip(self.names, alleles, strict=True)), parents, origin)

    def sample(self, rng: np.random.Generator) -> Genome:
        """A uniformly random genome."""
        return self.from_alleles([g.sample(rng) for g in self.genes])

    def grid(self) -> Iterator[Genome]:
        """Every grid point in a deterministic order (the last gene varies fastest)."""
        for alleles in itertools.product(*(g.alleles for g in self.genes)):
            yield self.from_alleles(alleles, origin="grid")

    def point(self, index: int) -> Genome:
        """The ``index``-th grid point, in ``grid()`` order, without enumerating the grid."""
        alleles = []
        for gene in reversed(self.genes):
            index, i = divmod(index, len(gene))
            alleles.append(gene.alleles[i])
        return self.from_alleles(list(reversed(alleles)), origin="grid")

    def __repr__(self) -> str:
        genes = ", ".join(f"{g.name}:{g.kind}[{len(g)}]" for g in self.genes)
        return f"SearchSpace({genes})"
