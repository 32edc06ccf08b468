"""How evolution runs: strategies behind ask/tell, operators, workers, and the run directory.

Importing this package never imports TensorFlow or Keras.
"""

from evolve.api import optimize, resume
from evolve.engine.failures import EnvironmentFault
from evolve.engine.records import Outcome, Record, Status
from evolve.keras_search import search_keras
from evolve.rundir.store import RunDirError
from evolve.settings.config import ConfigError
from evolve.settings.fitness import SessionError

__all__ = [
    "ConfigError",
    "EnvironmentFault",
    "Outcome",
    "Record",
    "RunDirError",
    "SessionError",
    "Status",
    "optimize",
    "resume",
    "search_keras",
]
