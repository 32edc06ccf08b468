"""What to load and how to split it: ``DataSpec``, ``DatasetError`` and the known names.

Nothing here imports more than the standard library: the spec is built in the parent process
(from the config) and pickled to every worker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")
"""Image sets downloaded (once, into ``KERAS_HOME``) by ``keras.datasets``."""

SKLEARN_DATASETS = ("breast_cancer", "wine", "iris", "diabetes")
"""Tabular sets shipped inside scikit-learn (offline); ``diabetes`` is a regression."""

EMBEDDED_DATASETS = ("digits",)
"""scikit-learn's 8x8 digits, loaded as images (N, 8, 8, 1) with raw values 0..16."""

TASKS = ("auto", "classification", "regression")
COLOR_MODES = ("rgb", "grayscale")
FILE_SUFFIXES = (".npz", ".csv", ".parquet")


class DatasetError(ValueError):
    """The dataset cannot be used; the message is one line that names the problem."""


@dataclass(frozen=True)
class DataSpec:
    """Which dataset, which task, and how to split it; small, hashable and picklable.

    ``name`` is a known name (``digits``, ``KERAS_DATASETS``, ``SKLEARN_DATASETS``) or a path to
    an ``.npz``, ``.csv`` or ``.parquet`` file or to a folder of images (one sub-folder per
    class).

    Splits: when the source has no test part, ``test_split`` (a share of all samples, 0 for
    none) is held out first; when it has no validation part, ``validation_split`` (a share of
    what remains) is held out next. Both are stratified for classification and repeat with
    ``split_seed``.

    ``target`` names the target column of a CSV/Parquet file ("" = the last column). ``task``
    is ``auto`` (regression for a floating-point target with non-integer values, or
    ``diabetes``; classification otherwise), ``classification`` or ``regression``.
    ``image_size`` (height, width, pixels) and ``color_mode`` (``rgb``: 3 channels,
    ``grayscale``: 1) apply to image folders only. A list ``image_size`` (from TOML, say)
    becomes a tuple so that the spec stays hashable.
    """

    name: str = "digits"
    validation_split: float = 0.2
    test_split: float = 0.2
    split_seed: int = 0
    target: str = ""
    task: str = "auto"
    image_size: tuple[int, int] = (64, 64)
    color_mode: str = "rgb"
    fingerprint: str = ""
    """The run's ``data.fingerprint.json`` (a path), checked by a worker before it loads the
    data (``fingerprint.verify``); empty: nothing to check."""

    def __post_init__(self) -> None:
        if isinstance(self.image_size, list):
            object.__setattr__(self, "image_size", tuple(self.image_size))

    def check(self) -> None:
        """Raise ``DatasetError`` (one line, naming the ``data.`` setting) for a bad field."""
        if not isinstance(self.name, str) or not self.name.strip():
            raise DatasetError("data.dataset is empty: give a dataset name or a path")
        for field in ("validation_split", "test_split"):
            share = getattr(self, field)
            if (
                isinstance(share, bool)
                or not isinstance(share, int | float)
                or not math.isfinite(share)
                or not 0.0 <= share < 1.0
            ):
                raise DatasetError(f"data.{field} must be a share in [0, 1), got {share!r}")
        if isinstance(self.split_seed, bool) or not isinstance(self.split_seed, int):
            raise DatasetError(f"data.split_seed must be an integer, got {self.split_seed!r}")
        if not isinstance(self.target, str):
            raise DatasetError(f"data.target must be a column name, got {self.target!r}")
        if self.task not in TASKS:
            raise DatasetError(f"data.task must be one of {', '.join(TASKS)}, got {self.task!r}")
        size = self.image_size
        if (
            not isinstance(size, tuple)
            or len(size) != 2
            or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in size)
        ):
            raise DatasetError(
                f"data.image_size must be two positive integers (height, width), got {size!r}"
            )
        if self.color_mode not in COLOR_MODES:
            raise DatasetError(
                f"data.color_mode must be one of {', '.join(COLOR_MODES)}, got {self.color_mode!r}"
            )
