"""Genetic operators as plain functions over alleles or scores and an explicit numpy Generator."""

from evolve.operators.crossover import CROSSOVERS
from evolve.operators.mutation import MUTATIONS
from evolve.operators.replacement import REPLACEMENTS
from evolve.operators.selection import SELECTIONS

__all__ = ["CROSSOVERS", "MUTATIONS", "REPLACEMENTS", "SELECTIONS"]
