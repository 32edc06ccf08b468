"""Mutation: alleles -> alleles, each changed gene taking a *different* allele of its range."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from genomes.genes import Gene

Alleles = tuple[Any, ...]


def uniform(
    alleles: Sequence[Any], genes: Sequence[Gene], rng: np.random.Generator, rate: float = 0.5
) -> Alleles:
    """The lesson's uniform mutation: a coin flip (heads with probability ``rate``) per
    chromosome; on heads one random gene gets a random different allele of its range.

    Only genes with more than one allele can be picked, so a mutation always changes one gene.
    """
    out = list(alleles)
    mutable = [i for i, g in enumerate(genes) if len(g) > 1]
    if mutable and rng.random() < rate:
        i = mutable[int(rng.integers(len(mutable)))]
        out[i] = genes[i].other(out[i], rng)
    return tuple(out)


def per_gene(
    alleles: Sequence[Any], genes: Sequence[Gene], rng: np.random.Generator, rate: float = 0.2
) -> Alleles:
    """Each gene independently, with probability ``rate``, gets a random different allele."""
    flips = rng.random(len(genes)) < rate
    return tuple(
        g.other(a, rng) if flip else a for a, g, flip in zip(alleles, genes, flips, strict=True)
    )


MUTATIONS = {"uniform": uniform, "per_gene": per_gene}
