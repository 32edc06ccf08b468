"""A search space: ordered genes, sampling, grid enumeration and validation."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from genomes.genes import Allele, Gene, GeneError, gene_from_config
from genomes.genome import Genome, genome_id

Canonicaliser = Callable[[dict[str, Allele]], dict[str, Allele]]


class SearchSpace:
    """Ordered genes and the rule that maps alleles to the network they build.

    ``canonical`` rewrites alleles that make no difference into one fixed value (the residual
    flag of a one-layer CNN, say), so that equivalent genomes share an id.
    """

    def __init__(self, genes: Sequence[Gene], canonical: Canonicaliser | None = None) -> None:
        if not genes:
            raise GeneError("the search space declares no genes: add a [genes] table")
        names = [g.name for g in genes]
        if len(set(names)) != len(names):
            raise GeneError("gene names repeat in the search space")
        self.genes: tuple[Gene, ...] = tuple(genes)
        self.by_name: dict[str, Gene] = {g.name: g for g in genes}
        self._canonical = canonical

    @classmethod
    def from_config(
        cls, table: Mapping[str, Any], canonical: Canonicaliser | None = None
    ) -> SearchSpace:
        """Build from the ``[genes]`` table of a TOML config."""
        if not isinstance(table, Mapping):
            raise GeneError("[genes] must be a table of gene declarations")
        return cls([gene_from_config(name, decl) for name, decl in table.items()], canonical)

    def to_config(self) -> dict[str, dict[str, Any]]:
        return {g.name: g.describe() for g in self.genes}

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
        values = dict(genes)
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
