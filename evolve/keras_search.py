"""Evolve your own Keras network from a notebook: ``search_keras`` (KerasTuner's ``search``,
with the engine's workers, GPU pinning, resume, model export and final test report).

The arrays (or a ``tf.data.Dataset`` / ``keras.utils.PyDataset``, read once) are written to the
run directory as ``data.npz``, so every worker loads them once and the run resumes from the
command line or ``evolve.resume(RUN_DIR, build=build)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

from evolve import session
from evolve.api import _observers, _space, route_settings, run_path
from evolve.engine.records import Outcome, Record
from evolve.settings import config as configuration
from evolve.settings.config import ConfigError
from genomes.space import SearchSpace

DATA_FILE = "data.npz"


def search_keras(
    build: Callable[..., Any],
    space: SearchSpace | Mapping[str, Any],
    x: Any = None,
    y: Any = None,
    *,
    validation_data: Any = None,
    test_data: Any = None,
    validation_split: float = 0.2,
    dataset: str | None = None,
    target_column: str = "",
    image_size: tuple[int, int] | None = None,
    color_mode: str | None = None,
    task: str = "auto",
    epochs: int = 10,
    patience: int = 3,
    batch_size: int = 32,
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    strategy: str = "ga",
    objective: str = "",
    direction: str = "",
    seed: int = 0,
    workers: int = 1,
    backend: str | None = None,
    address: str = "",
    executor: Executor | None = None,
    budget: int = 0,
    out: str | Path | None = None,
    progress: bool = False,
    on_record: Callable[[Record], None] | None = None,
    observers: Sequence[Any] = (),
    **settings: Any,
) -> Outcome:
    """Evolve the genes of ``space`` for the network of ``build(genes, input_shape,
    num_outputs) -> keras.Model``, trained on ``x``/``y`` and scored on ``validation_data``.

    ``x`` and ``y`` are arrays (images (N, H, W[, C]) or tables (N, F); labels (N,) integers or
    strings, one-hot (N, K), or float targets for regression), or ``x`` is a
    ``tf.data.Dataset``/``keras.utils.PyDataset`` of ``(x, y)`` batches, which is read once
    into memory. ``validation_data`` is ``(x_val, y_val)`` or such a dataset; without it,
    ``validation_split`` of ``x`` is held out (stratified). ``test_data`` is scored once by the
    best model at the end (never by the search). Instead of arrays, ``dataset`` names any data
    source of the config (``breast_cancer``, a .csv, a folder of images...), with
    ``target_column`` (a table's ``[data] target``; ``target`` is the search's fitness to
    stop at), ``image_size`` and ``color_mode`` (a folder's).

    ``build`` may return a compiled model; an uncompiled one is compiled with the task's loss
    and metrics and the training genes (``optimizer``, ``learning_rate``, ``batch_size``,
    ``weight_decay``: genes of ``space`` or the keywords here). ``settings`` are the strategy's
    (``population``, ``generations``, ...) and the run's (``timeout``, ``gpus``...), as in
    ``evolve.optimize``. The run lives in ``out`` (default: a new folder under ``results/``);
    ``outcome.best_model()`` loads the best network.

    Raises ``ConfigError`` (one line) for a bad keyword, build function or gene, and
    ``DatasetError`` for unusable data, before anything trains.
    """
    if not isinstance(space, SearchSpace):
        space = _space(space)
    if not callable(build):
        raise ConfigError(
            f"build must be a function (genes, input_shape, num_outputs), got {build!r}"
        )
    if (x is None) == (dataset is None):
        raise ConfigError("give the data either as x (and y) or as dataset=, not both or neither")
    arrays = None if x is None else _arrays(x, y, validation_data, test_data)
    run = {"seed": seed, "workers": workers, "address": address}
    if backend is not None:
        run["backend"] = backend
    data: dict[str, Any] = {"dataset": dataset or DATA_FILE, "task": task,
                            "validation_split": validation_split}  # fmt: skip
    if arrays is not None and "x_test" not in arrays:
        data["test_split"] = 0.0
    for key, value in (("target", target_column), ("image_size", image_size),
                       ("color_mode", color_mode)):  # fmt: skip
        if value:
            data[key] = list(value) if key == "image_size" else value
    training = {"epochs": epochs, "patience": patience, "batch_size": batch_size,
                "optimizer": optimizer, "learning_rate": learning_rate}  # fmt: skip
    search: dict[str, Any] = {"strategy": strategy, "objective": objective,
                              "direction": direction, "budget": budget}  # fmt: skip
    route_settings(settings, run, search, search_keras)
    cfg = configuration.from_dict({"run": run, "data": data, "training": training,
                                   "search": search, "genes": space.to_config()})  # fmt: skip
    if backend is None and cfg.run.workers <= 1 and executor is None:
        cfg.run.backend = "inline"
    launch = session.Launch(
        executor=executor, quiet=not progress, on_record=on_record, build=build,
        observers=_observers(observers),
        data_arrays=arrays,
    )  # fmt: skip
    where = run_path(out) or Path("results") / time.strftime(
        "search_keras-%Y%m%d-%H%M%S"
    )
    return session.start(cfg, where, launch, unique=out is None)


def _arrays(x: Any, y: Any, validation: Any, test: Any) -> dict[str, np.ndarray]:
    """The ``data.npz`` arrays: x_train, y_train and, when given, x_val/y_val, x_test/y_test."""
    out: dict[str, np.ndarray] = {}
    for prefix, given, label in (("train", (x, y), "x"), ("val", validation, "validation_data"),
                                 ("test", test, "test_data")):  # fmt: skip
        if given is None or (prefix == "train" and given[0] is None):
            continue
        xs, ys = _pair(given, label)
        out[f"x_{prefix}"], out[f"y_{prefix}"] = xs, ys
    return out


def _pair(given: Any, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Arrays from ``(x, y)`` or from a dataset of ``(x, y)`` batches."""
    if isinstance(given, (tuple, list)) and len(given) != 2 and label != "x":
        raise ConfigError(f"{label} must be (x, y), got a {type(given).__name__} of {len(given)}")
    if isinstance(given, (tuple, list)) and len(given) == 2 and given[1] is not None:
        return np.asarray(given[0]), np.asarray(given[1])
    source = given[0] if isinstance(given, tuple) else given
    if label == "x" and isinstance(source, np.ndarray):
        raise ConfigError("y is missing: give the labels or targets of x as y")
    if hasattr(source, "__getitem__") and hasattr(source, "__len__") and hasattr(
        source, "on_epoch_end"
    ):  # keras.utils.PyDataset
        batches = [source[i] for i in range(len(source))]
    elif hasattr(source, "as_numpy_iterator"):  # tf.data.Dataset
        batches = list(source.as_numpy_iterator())
    else:
        raise ConfigError(
            f"{label} must be (x, y) arrays, a tf.data.Dataset or a keras.utils.PyDataset of "
            f"(x, y) batches, got {type(source).__name__}"
        )
    if not batches or not all(isinstance(b, tuple) and len(b) >= 2 for b in batches):
        raise ConfigError(f"{label}: the dataset must yield (x, y) batches")
    return (np.concatenate([np.asarray(b[0]) for b in batches]),
            np.concatenate([np.asarray(b[1]) for b in batches]))  # fmt: skip
