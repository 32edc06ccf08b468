"""Genetic operators as plain functions over alleles or scores and an explicit numpy Generator."""

from evolve.search.operators.crossover import CROSSOVERS
from evolve.search.operators.mutation import MUTATIONS
from evolve.search.operators.replacement import REPLACEMENTS
from evolve.search.operators.selection import SELECTIONS

__all__ = ["CROSSOVERS", "MUTATIONS", "REPLACEMENTS", "SELECTIONS"]
