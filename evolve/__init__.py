"""How evolution runs: strategies behind ask/tell, operators, workers, and the run directory.

Importing this package never imports TensorFlow or Keras.
"""

from evolve.api import optimize, resume
from evolve.run import Outcome

__all__ = ["Outcome", "optimize", "resume"]
