"""One path from the command line and the Python API to the run loop.

``start`` and ``resume`` wire a run whatever started it: the search space, the strategy, the
executor (GPU placement included), the run directory, the top-k model keeper, the progress bar,
the plots and the final report. ``run_evolution.py`` and ``evolve.optimize``/``evolve.resume``
both come here, so a run directory has one format: ``config.toml`` says everything, including
which fitness the run evaluates (``run.fitness``: the Keras networks of the config, or a Python
function that is imported again on resume).
"""

from evolve.session.checks import (
    absolute_dataset,
    check_tensorboard,
    limit_notes,
    schedule,
    schedule_notes,
    slot_folder,
)
from evolve.session.launch import RETRIED, Launch, resume, start
from evolve.session.wiring import Session
from evolve.settings.fitness import SessionError, fitness_path, load_fitness, read_config

__all__ = [
    "RETRIED",
    "Launch",
    "Session",
    "SessionError",
    "absolute_dataset",
    "check_tensorboard",
    "fitness_path",
    "limit_notes",
    "load_fitness",
    "read_config",
    "resume",
    "schedule",
    "schedule_notes",
    "slot_folder",
    "start",
]
