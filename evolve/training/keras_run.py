"""The Keras side of a session: the problem that workers train, and the data it describes.

Imported in the parent, which never imports TensorFlow: only small specs are built here, and a
dataset hosted by Keras is described by a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from evolve.app.config import Config
from evolve.rundir.store import RunDir
from evolve.training.datasets import KERAS_DATASETS, DatasetError, prepare
from evolve.training.problem import KerasProblem


def problem(cfg: Config, run: RunDir | None) -> KerasProblem:
    """The picklable fitness of a Keras run: the data spec and the training settings."""
    t = cfg.training
    return KerasProblem(
        cfg.data_spec(),
        epochs=t.epochs,
        batch_size=t.batch_size,
        patience=t.patience,
        optimizer=t.optimizer,
        model_dir=str(run.models.resolve()) if run is not None else None,
        timeout=cfg.run.timeout,
    )


def describe(cfg: Config, executor: Callable[[], Executor]) -> dict[str, Any]:
    """Sizes of the prepared splits; raises ``DatasetError`` (one line) for unusable data.

    Files and the embedded dataset are read here with numpy; a Keras-hosted dataset needs the
    backend, so a worker loads it (and keeps it for the genomes it trains).
    """
    from evolve.training.report import describe_data

    spec = cfg.data_spec()
    if spec.name not in KERAS_DATASETS:
        return prepare(spec).describe()
    try:
        return executor().submit(describe_data, spec).result()
    except (DatasetError, ValueError) as exc:
        raise DatasetError(str(exc)) from None
    except Exception as exc:
        raise DatasetError(f"cannot load dataset '{spec.name}': {exc}") from None
