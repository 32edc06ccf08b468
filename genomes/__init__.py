"""What is evolved: genes, search spaces, genomes, and the builders that turn them into models.

Importing this package never imports TensorFlow or Keras.
"""

from genomes.genes import Choice, Flag, FloatRange, Gene, GeneError, IntRange, LogRange
from genomes.genome import Genome
from genomes.space import SearchSpace

__all__ = [
    "Choice",
    "Flag",
    "FloatRange",
    "Gene",
    "GeneError",
    "Genome",
    "IntRange",
    "LogRange",
    "SearchSpace",
]
