"""Prepared data: the train / validation / test parts, the task, and how to feed Keras.

``ArraySplits`` holds in-memory arrays (every source but image folders); ``FolderSplits``
holds the file lists of an image folder and builds ``tf.data`` streams on demand. Both are
picklable and hold no TensorFlow object: streams are built (importing TensorFlow) in the
``fit_inputs`` / ``validation_data`` / ``eval_inputs`` calls, inside the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evolve.data.preprocessing import ImagePreprocessing, TablePreprocessing
from evolve.data.spec import DatasetError

PARTS = ("train", "validation", "test")

Inputs = np.ndarray | dict[str, np.ndarray]
"""Raw model input: an array (N, *input_shape), or a dict {column: (N, 1)} for tables with
categorical columns."""


@dataclass(kw_only=True)
class Splits:
    """What every source shares: the task, the class map and the preprocessing."""

    task: str
    """Resolved task: ``multiclass``, ``binary`` or ``regression`` (never ``auto``)."""
    num_outputs: int
    """Classes (multiclass), 1 (binary), target columns (regression, 1 for a 1-D target)."""
    classes: list[Any] | None
    """Original labels in encoded order (index i -> label; plain Python values), or None."""
    preprocessing: ImagePreprocessing | TablePreprocessing
    """What the model's first layers do; ``model_inputs`` builds them."""

    @property
    def kind(self) -> str:
        """``image`` or ``tabular``."""
        return self.preprocessing.kind

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Raw per-sample shape: (H, W, C) for images, (F,) for tables (one per column)."""
        return self.preprocessing.input_shape

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Per-sample shape after preprocessing: what the network body receives."""
        return self.preprocessing.feature_shape

    @property
    def num_classes(self) -> int | None:
        """Number of classes (2 for binary); None for regression."""
        return None if self.classes is None else len(self.classes)

    def sizes(self) -> dict[str, int]:
        """Samples in each part: {"train": n, "validation": n, "test": n}."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Shapes, task and sizes, JSON-serialisable."""
        out: dict[str, Any] = {
            "input_shape": list(self.input_shape),
            "feature_shape": list(self.feature_shape),
            "kind": self.kind,
            "task": self.task,
            "num_outputs": self.num_outputs,
        }
        if self.classes is not None:
            out["num_classes"] = len(self.classes)
            out["classes"] = list(self.classes)
        out.update(self.sizes())
        return out

    def fit_inputs(
        self, batch_size: int, seed: int, include_validation: bool = False
    ) -> dict[str, Any]:
        """Keyword arguments for ``model.fit`` on the training part (with the validation part
        too when ``include_validation``: the final model's retraining)."""
        raise NotImplementedError

    def validation_data(self, batch_size: int = 256) -> Any:
        """What ``model.fit(validation_data=...)`` takes for the validation part."""
        raise NotImplementedError

    def eval_inputs(self, part: str, batch_size: int = 256) -> dict[str, Any]:
        """Keyword arguments for ``model.evaluate`` on ``part`` (train, validation, test);
        ``DatasetError`` for an empty part (``data.test_split = 0``)."""
        raise NotImplementedError

    def _check_part(self, part: str) -> None:
        if part not in PARTS:
            raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
        if self.sizes()[part] == 0:
            raise DatasetError(f"the dataset has no {part} part (data.{part}_split is 0)")


def _rows(x: Inputs) -> int:
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def _join(a: Inputs, b: Inputs) -> Inputs:
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return {k: np.concatenate([a[k], b[k]]) for k in a}
    assert isinstance(b, np.ndarray)
    return np.concatenate([a, b])


def array_stream(x: Inputs, y: np.ndarray, batch_size: int, seed: int | None = None) -> Any:
    """A batched, prefetched ``tf.data.Dataset`` of (x, y); reshuffled each epoch with
    ``seed`` when given. Imports TensorFlow."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if seed is not None:
        ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


@dataclass(kw_only=True)
class ArraySplits(Splits):
    """In-memory parts. ``x_*`` are RAW inputs (never preprocessed): float32 arrays
    (N, *input_shape), or for tables with categorical columns a dict {column: (N, 1)} (float32
    or str). ``y_*``: int32 (N,) class indices, or float32 (N,) / (N, k) regression targets.
    An absent test part is empty (0 samples)."""

    x_train: Inputs
    y_train: np.ndarray
    x_val: Inputs
    y_val: np.ndarray
    x_test: Inputs
    y_test: np.ndarray

    @property
    def streams(self) -> bool:
        """True when Keras needs ``tf.data`` (it refuses numpy string arrays): a dict input."""
        return isinstance(self.x_train, dict)

    def sizes(self) -> dict[str, int]:
        return {
            "train": _rows(self.x_train),
            "validation": _rows(self.x_val),
            "test": _rows(self.x_test),
        }

    def part(self, part: str) -> tuple[Inputs, np.ndarray]:
        """(x, y) of ``part``: train, validation or test."""
        if part not in PARTS:
            raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
        return {
            "train": (self.x_train, self.y_train),
            "validation": (self.x_val, self.y_val),
            "test": (self.x_test, self.y_test),
        }[part]

    def fit_inputs(
        self, batch_size: int, seed: int, include_validation: bool = False
    ) -> dict[str, Any]:
        """``x``, ``y``, ``batch_size``, ``shuffle=True`` (the order then follows Keras' seed,
        ``keras.utils.set_random_seed``); for a dict input with text columns, ``x``: a
        ``tf.data.Dataset`` reshuffled with ``seed`` each epoch, and ``shuffle=False`` (the
        stream shuffles itself; Keras would only warn that it ignores ``shuffle=True``)."""
        x, y = self.x_train, self.y_train
        if include_validation:
            x, y = _join(x, self.x_val), np.concatenate([y, self.y_val])
        if self.streams:
            return {"x": array_stream(x, y, batch_size, seed), "shuffle": False}
        return {"x": x, "y": y, "batch_size": batch_size, "shuffle": True}

    def validation_data(self, batch_size: int = 256) -> Any:
        """``(x_val, y_val)`` (Keras batches it by ``validation_batch_size``), or a stream."""
        if self.streams:
            return array_stream(self.x_val, self.y_val, batch_size)
        return (self.x_val, self.y_val)

    def eval_inputs(self, part: str, batch_size: int = 256) -> dict[str, Any]:
        self._check_part(part)
        x, y = self.part(part)
        if self.streams:
            return {"x": array_stream(x, y, batch_size)}
        return {"x": x, "y": y, "batch_size": batch_size}


@dataclass(kw_only=True)
class FolderSplits(Splits):
    """An image folder split by FILE: paths and int32 class indices of each part. Images are
    read from disk as they are needed (``tf.data``), decoded to ``channels`` and resized to
    ``image_size``; pixels stay raw (0..255)."""

    root: str
    train_files: tuple[str, ...]
    train_labels: np.ndarray
    val_files: tuple[str, ...]
    val_labels: np.ndarray
    test_files: tuple[str, ...]
    test_labels: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {
            "train": len(self.train_files),
            "validation": len(self.val_files),
            "test": len(self.test_files),
        }

    def files(self, part: str) -> tuple[tuple[str, ...], np.ndarray]:
        """(paths, labels) of ``part``: train, validation or test."""
        if part not in PARTS:
            raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
        return {
            "train": (self.train_files, self.train_labels),
            "validation": (self.val_files, self.val_labels),
            "test": (self.test_files, self.test_labels),
        }[part]

    def stream(self, part: str, batch_size: int, seed: int | None = None) -> Any:
        """A batched ``tf.data.Dataset`` of (images (B, H, W, C) float32 0..255, labels (B,))
        for ``part``; shuffled each epoch with ``seed`` when given."""
        from evolve.data.folders import image_stream

        files, labels = self.files(part)
        return image_stream(files, labels, self.input_shape, batch_size, seed)

    def fit_inputs(
        self, batch_size: int, seed: int, include_validation: bool = False
    ) -> dict[str, Any]:
        """``x``: the training stream, its file order reshuffled each epoch with ``seed``;
        ``shuffle=False`` (the stream shuffles itself)."""
        from evolve.data.folders import image_stream

        files, labels = self.train_files, self.train_labels
        if include_validation:
            files, labels = files + self.val_files, np.concatenate([labels, self.val_labels])
        stream = image_stream(files, labels, self.input_shape, batch_size, seed)
        return {"x": stream, "shuffle": False}

    def validation_data(self, batch_size: int = 256) -> Any:
        return self.stream("validation", batch_size)

    def eval_inputs(self, part: str, batch_size: int = 256) -> dict[str, Any]:
        self._check_part(part)
        return {"x": self.stream(part, batch_size)}
