"""How evolution runs: strategies behind ask/tell, operators, workers, and the run directory.

Importing this package never imports TensorFlow or Keras.
"""

from evolve.api import optimize, resume
from evolve.engine.records import Outcome, Record, Status

__all__ = ["Outcome", "Record", "Status", "optimize", "resume"]
