"""The genes every family shares: how a network is trained, and its compilation by task.

``optimizer``, ``learning_rate``, ``batch_size`` and ``weight_decay`` may each be a gene or a
fixed ``[training]`` setting; the engine reads them, the families never do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genomes.families.base import Param

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "nadam", "adagrad", "adamax", "lion")
"""Keras optimizers by their registered names (``keras.optimizers.get``)."""

TRAINING: dict[str, Param] = {
    "optimizer": Param("adam", "choice", OPTIMIZERS),
    "learning_rate": Param(1e-3, "positive", why="a learning rate of 0 never learns"),
    "batch_size": Param(32, "count"),
    "weight_decay": Param(0.0, "nonnegative"),
}
"""The training genes, with the default used when neither the space nor [training] sets one."""

LOSSES = {
    "multiclass": "sparse_categorical_crossentropy",
    "binary": "binary_crossentropy",
    "regression": "mean_squared_error",
}

LOGGED = {
    "multiclass": ("loss", "accuracy"),
    "binary": ("loss", "accuracy", "auc"),
    "regression": ("loss", "mae"),
}
"""What training logs for a network the engine compiles, by task (validation: ``val_`` first)."""


def logged(task: str) -> tuple[str, ...]:
    """Every metric name a built-in compilation logs: training and ``val_`` ones."""
    names = LOGGED[task]
    return (*names, *(f"val_{n}" for n in names))


def training_values(genes: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """The four training values of a genome: its gene, else the setting, else the default."""
    return {k: genes.get(k, settings.get(k, p.default)) for k, p in TRAINING.items()}


def make_optimizer(values: Mapping[str, Any]) -> Any:
    """A Keras optimizer from ``training_values`` (weight decay only when above 0)."""
    import keras

    config: dict[str, Any] = {"learning_rate": float(values["learning_rate"])}
    if float(values["weight_decay"]) > 0:
        config["weight_decay"] = float(values["weight_decay"])
    return keras.optimizers.get({"class_name": values["optimizer"], "config": config})


def compile_model(model: Any, task: str, values: Mapping[str, Any]) -> Any:
    """Compile with the task's loss and metrics (accuracy; AUC too for binary; mean absolute
    error for regression) and the genome's optimizer."""
    import keras

    metrics: list[Any] = ["accuracy"] if task != "regression" else ["mae"]
    if task == "binary":
        metrics.append(keras.metrics.AUC(name="auc"))
    model.compile(optimizer=make_optimizer(values), loss=LOSSES[task], metrics=metrics)
    return model
